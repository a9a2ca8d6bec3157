package inboxsync_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-bookingsync/bookingsync"
	"github.com/go-bookingsync/bookingsync/bookingsynctest"
	"github.com/go-bookingsync/bookingsync/inboxsync"
	"github.com/go-bookingsync/bookingsync/inboxsync/internal/dbtest"
)

// allChanges reads the account's whole feed after after.
func allChanges(t testing.TB, st *inboxsync.Store, after int64) []inboxsync.Change {
	t.Helper()
	var out []inboxsync.Change
	for {
		page, err := st.Changes(context.Background(), acct, after, inboxsync.MaxChangesLimit)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			return out
		}
		out = append(out, page...)
		after = page[len(page)-1].Seq
	}
}

// has reports whether changes name the record.
func has(changes []inboxsync.Change, resource string, id int64, deleted bool) bool {
	for _, c := range changes {
		if c.Resource == resource && c.ID == id && c.Deleted == deleted {
			return true
		}
	}
	return false
}

// Every write appends its records' changes: a pass's pages, a deletion,
// a webhook's re-read, the outbox's states; Seq only grows.
func TestChangesFollowEveryWrite(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dsn string) {
		f := setup(t, dsn)
		ctx := context.Background()
		mustSync(t, f.s)
		first := allChanges(t, f.st, 0)
		local := localState(t, f.st)
		for table, recs := range local {
			for id := range recs {
				if !has(first, table, id, false) {
					t.Fatalf("%s %d stored without a change", table, id)
				}
			}
		}
		for i := 1; i < len(first); i++ {
			if first[i].Seq <= first[i-1].Seq {
				t.Fatalf("seq %d after %d", first[i].Seq, first[i-1].Seq)
			}
		}
		head, err := f.st.LastChange(ctx, acct)
		if err != nil || head != first[len(first)-1].Seq {
			t.Fatalf("LastChange = %d, %v; want %d", head, err, first[len(first)-1].Seq)
		}

		// A deletion and an update by the next pass.
		f.srv.DeleteConversation(bookingsynctest.ClosedConversationID)
		msg := f.srv.AddMessage(bookingsynctest.MessageSeed{ConversationID: convHost, SenderID: bookingsynctest.AirbnbClientParticipantID, Content: "One more thing"})
		mustSync(t, f.s)
		next := allChanges(t, f.st, head)
		if !has(next, "conversations", bookingsynctest.ClosedConversationID, true) || !has(next, "messages", msg, false) {
			t.Fatalf("after a deletion and a message, the feed holds %+v", next)
		}
		head = next[len(next)-1].Seq

		// A webhook's re-read.
		msg = f.srv.AddMessage(bookingsynctest.MessageSeed{ConversationID: convHost, SenderID: bookingsynctest.AirbnbClientParticipantID, Content: "And another"})
		e := &bookingsync.WebhookEvent{AccountID: acct, Event: bookingsync.EventInboxMessageCreated,
			Resource: []byte(fmt.Sprintf(`{"message":{"id":%d}}`, msg))}
		if err := f.s.HandleEvent(ctx, e); err != nil {
			t.Fatal(err)
		}
		if next = allChanges(t, f.st, head); len(next) != 1 || !has(next, "messages", msg, false) {
			t.Fatalf("after a re-read: %+v; want the message", next)
		}
		head = next[0].Seq

		// The outbox: queued, sending, sent.
		it := enqueue(t, f.st, convHost, "Noted!", "feed")
		if _, err := inboxsync.New(f.st, acct, f.c).Deliver(ctx); err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, c := range allChanges(t, f.st, head) {
			if c.Resource == "outbox" && c.ID == it.ID {
				n++
			}
		}
		if n != 3 {
			t.Errorf("%d outbox changes for queued, sending and sent; want 3", n)
		}
	})
}

// Writers of several replicas append at once, each transaction committing
// whenever it does, while a reader follows the feed: the reader never
// sees a Seq below one it saw, and by the end it has seen every change.
func TestChangesConcurrentWritersAndReader(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dsn string) {
		f := setup(t, dsn)
		ctx := context.Background()
		const writers, each = 6, 25
		stores := []*inboxsync.Store{f.st, openStore(t, dsn), openStore(t, dsn)}
		var wg sync.WaitGroup
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				st := stores[w%len(stores)]
				for i := range each {
					if _, err := st.Enqueue(ctx, acct, inboxsync.Outgoing{ConversationID: convHost, HostID: host,
						Content: "x", Key: fmt.Sprintf("%d-%d", w, i)}); err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
		// A sync writes pages meanwhile too.
		wg.Add(1)
		go func() { defer wg.Done(); mustSync(t, inboxsync.New(stores[1], acct, f.c)) }()
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()

		seen := map[int64]bool{}
		var last int64
		follow := func() {
			page, err := stores[2].Changes(ctx, acct, last, 7)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range page {
				if c.Seq <= last {
					t.Fatalf("seq %d after %d", c.Seq, last)
				}
				last = c.Seq
				seen[c.Seq] = true
			}
		}
		for running := true; running; {
			select {
			case <-done:
				running = false
			default:
			}
			follow()
		}
		for before := int64(-1); before != last; {
			before = last
			follow()
		}
		all := allChanges(t, f.st, 0)
		var missed []string
		for _, c := range all {
			if !seen[c.Seq] {
				missed = append(missed, fmt.Sprint(c.Seq))
			}
		}
		if len(missed) > 0 {
			t.Fatalf("the reader missed %d of %d changes: %s", len(missed), len(all), strings.Join(missed, " "))
		}
		if len(all) < writers*each {
			t.Fatalf("%d changes; want at least %d", len(all), writers*each)
		}
	})
}

// Past the retention the feed tells a reader behind it to reload, and a
// reader that reloads follows on.
func TestChangesRetention(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dsn string) {
		f := setup(t, dsn)
		ctx := context.Background()
		mustSync(t, f.s)
		head, err := f.st.LastChange(ctx, acct)
		if err != nil || head < 2 {
			t.Fatalf("LastChange = %d, %v", head, err)
		}
		if err := f.st.PruneChanges(ctx, inboxsync.DefaultChangeRetention); err != nil {
			t.Fatal(err)
		}
		if got := allChanges(t, f.st, 1); len(got) == 0 {
			t.Fatal("changes within the retention were pruned")
		}
		if err := f.st.PruneChanges(ctx, -time.Minute); err != nil { // everything is older than a minute from now
			t.Fatal(err)
		}
		_, err = f.st.Changes(ctx, acct, 1, 0)
		var ce *inboxsync.ChangesExpiredError
		if !errors.Is(err, inboxsync.ErrChangesExpired) || !errors.As(err, &ce) || ce.Pruned != head || !strings.Contains(err.Error(), "reload") {
			t.Fatalf("a reader behind the retention: %v; want a ChangesExpiredError up to %d telling it to reload", err, head)
		}
		if got, err := f.st.Changes(ctx, acct, 0, 0); err != nil || len(got) != 0 {
			t.Fatalf("from the start kept: %v, %v; want nothing, no error", got, err)
		}
		if last, err := f.st.LastChange(ctx, acct); err != nil || last != head {
			t.Fatalf("LastChange after pruning = %d, %v; want %d", last, err, head)
		}
		// A reader that reloaded follows from LastChange.
		it := enqueue(t, f.st, convHost, "After the prune", "p")
		got, err := f.st.Changes(ctx, acct, head, 0)
		if err != nil || len(got) != 1 || got[0].ID != it.ID || got[0].Seq <= head {
			t.Fatalf("after reloading: %+v, %v", got, err)
		}
	})
}

// WaitChanges returns on a write of this process or of another one, and
// when its context ends.
func TestWaitChanges(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dsn string) {
		f := setup(t, dsn)
		other := openStore(t, dsn) // another replica, as far as the feed can tell
		ctx := context.Background()
		head, _ := f.st.LastChange(ctx, acct)
		inboxsync.ArmWaitChanges(t, f.st)
		for i, writer := range []*inboxsync.Store{f.st, other} {
			waited := make(chan error, 1)
			go func() {
				// Postgres wakes on NOTIFY; the poll would take 5s.
				wctx, cancel := context.WithTimeout(ctx, 4*time.Second)
				defer cancel()
				waited <- f.st.WaitChanges(wctx, acct, head)
			}()
			if got := inboxsync.WaitingForChanges(t, f.st); got != acct { // the waiter has looked and found nothing
				t.Fatalf("WaitChanges of account %d waits; want %d", got, acct)
			}
			enqueue(t, writer, convHost, "wake", fmt.Sprint("w", i))
			if err := <-waited; err != nil {
				t.Fatalf("writer %d: WaitChanges: %v", i, err)
			}
			head, _ = f.st.LastChange(ctx, acct)
		}
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if err := f.st.WaitChanges(cctx, acct, head); !errors.Is(err, context.Canceled) {
			t.Fatalf("WaitChanges with nothing new and its context over: %v", err)
		}
		if err := f.st.WaitChanges(ctx, acct, head-1); err != nil {
			t.Fatalf("a change already there: %v", err)
		}
	})
}
