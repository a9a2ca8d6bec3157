package inboxsync_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-bookingsync/bookingsync"
	"github.com/go-bookingsync/bookingsync/bookingsynctest"
	"github.com/go-bookingsync/bookingsync/inboxsync"
	"github.com/go-bookingsync/bookingsync/inboxsync/internal/dbtest"
)

const (
	host      = bookingsynctest.HostJanID
	convNoHst = bookingsynctest.BookingComConversationID // no Host participant yet
	convHost  = bookingsynctest.AirbnbConversationID     // Jan is a participant
)

// quickOutbox retries at once, so that a test drives each attempt with
// its own Deliver call.
var quickOutbox = inboxsync.WithOutboxPolicy(inboxsync.OutboxPolicy{MinBackoff: time.Nanosecond, MaxBackoff: time.Nanosecond})

// sentCopies counts the conversation's messages with content, as the API
// holds them.
func sentCopies(t testing.TB, c *bookingsync.Client, conversationID int64, content string) int {
	t.Helper()
	conv, _, err := c.Conversations.GetWith(context.Background(), conversationID, &bookingsync.ConversationGetOptions{Include: []string{"messages"}})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, m := range conv.Messages {
		if m.Content == content {
			n++
		}
	}
	return n
}

// enqueue queues a reply from host and fails t on error.
func enqueue(t testing.TB, st *inboxsync.Store, conversationID int64, content, key string) *inboxsync.OutboxItem {
	t.Helper()
	it, err := st.Enqueue(context.Background(), acct, inboxsync.Outgoing{ConversationID: conversationID, HostID: host, Content: content, Key: key})
	if err != nil {
		t.Fatal(err)
	}
	return it
}

// item reads an item back by key.
func item(t testing.TB, st *inboxsync.Store, key string) *inboxsync.OutboxItem {
	t.Helper()
	it, err := st.OutboxItem(context.Background(), acct, key)
	if err != nil {
		t.Fatal(err)
	}
	return it
}

func TestOutboxEnqueue(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dsn string) {
		f := setup(t, dsn)
		ctx := context.Background()
		a := enqueue(t, f.st, convNoHst, "See you soon", "k1")
		b := enqueue(t, f.st, convNoHst, "See you soon", "k1")
		if a.ID != b.ID || a.State != inboxsync.OutboxQueued || a.Key != "k1" || a.QueuedAt.IsZero() {
			t.Fatalf("the same key twice: %+v, %+v; want one queued item", a, b)
		}
		if it, err := f.st.Enqueue(ctx, acct, inboxsync.Outgoing{ConversationID: convNoHst, HostID: host, Content: "Other", Key: "k1"}); !errors.Is(err, inboxsync.ErrKeyReused) || it == nil || it.ID != a.ID {
			t.Fatalf("the key with another reply: %+v, %v; want the first item and ErrKeyReused", it, err)
		}
		if it := enqueue(t, f.st, convNoHst, "Fresh key", ""); it.Key == "" || it.Key == "k1" {
			t.Fatalf("an empty key made %q", it.Key)
		}
		for _, m := range []inboxsync.Outgoing{{HostID: host, Content: "x"}, {ConversationID: 1, Content: "x"}, {ConversationID: 1, HostID: host, Content: " \n"}} {
			if _, err := f.st.Enqueue(ctx, acct, m); err == nil {
				t.Errorf("Enqueue(%+v) accepted", m)
			}
		}
		if _, err := f.st.OutboxItem(ctx, acct, "nope"); !errors.Is(err, inboxsync.ErrNotFound) {
			t.Errorf("an unknown key: %v; want ErrNotFound", err)
		}
		if items, err := f.st.OutboxItems(ctx, acct, convNoHst); err != nil || len(items) != 2 {
			t.Errorf("OutboxItems: %d, %v; want 2", len(items), err)
		}
	})
}

// A reply is sent once as the host (its participant added) and recorded;
// a second Deliver finds nothing to do.
func TestOutboxDelivers(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dsn string) {
		f := setup(t, dsn)
		s := inboxsync.New(f.st, acct, f.c, quickOutbox)
		ctx := context.Background()
		enqueue(t, f.st, convNoHst, "The cot is ready", "a")
		enqueue(t, f.st, convNoHst, "Wifi: guest/1234", "b")
		if n, err := s.Deliver(ctx); n != 2 || err != nil {
			t.Fatalf("Deliver: %d, %v; want 2 sent", n, err)
		}
		a, b := item(t, f.st, "a"), item(t, f.st, "b")
		for _, it := range []*inboxsync.OutboxItem{a, b} {
			if it.State != inboxsync.OutboxSent || it.MessageID == 0 || it.SentAt.IsZero() {
				t.Fatalf("item %+v; want sent with its message id", it)
			}
		}
		if !a.SentAt.Before(b.SentAt) && !a.SentAt.Equal(b.SentAt.Add(-time.Second)) {
			t.Errorf("sent_at %v then %v; want unique, in order", a.SentAt, b.SentAt)
		}
		msg, _, err := f.c.Messages.Get(ctx, a.MessageID)
		if err != nil || msg.Content != "The cot is ready" || !msg.SentAt.Equal(a.SentAt) {
			t.Fatalf("message %d: %+v, %v", a.MessageID, msg, err)
		}
		p, _, err := f.c.Participants.Get(ctx, *msg.Links.Sender)
		if err != nil || !p.IsHost() || p.Links.Member.ID != host {
			t.Fatalf("sender %+v, %v; want host %d's participant", p, err, host)
		}
		posts := f.srv.RequestCount("POST", "/api/v3/inbox/messages")
		if n, err := s.Deliver(ctx); n != 0 || err != nil {
			t.Fatalf("a second Deliver: %d, %v", n, err)
		}
		if f.srv.RequestCount("POST", "/api/v3/inbox/messages") != posts || sentCopies(t, f.c, convNoHst, "The cot is ready") != 1 {
			t.Fatal("a second Deliver sent again")
		}
	})
}

// A 5xx after the API processed the POST, and a connection reset before
// it did: both leave the outcome unknown; the next attempt reads the
// conversation back, records the message it finds, sends only what is
// missing, and no reply reaches the API twice.
func TestOutboxUnknownOutcomes(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dsn string) {
		for _, tc := range []struct {
			fault string
			posts int // POSTs the reply takes in all
		}{
			{"status-after-processing,method=POST,path=/api/v3/inbox/messages,status=502,count=1", 1},
			{"reset,method=POST,path=/api/v3/inbox/messages,count=1", 2},
			{"status,method=POST,path=/api/v3/inbox/messages,status=503,count=1", 2},
		} {
			name := strings.SplitN(tc.fault, ",", 2)[0]
			t.Run(name, func(t *testing.T) {
				flt, err := bookingsynctest.ParseFault(tc.fault)
				if err != nil {
					t.Fatal(err)
				}
				f := setup(t, dsn)
				f.srv.AddFault(flt)
				s := inboxsync.New(f.st, acct, f.c, quickOutbox)
				ctx := context.Background()
				content := "Check-in from 3pm (" + name + ")"
				enqueue(t, f.st, convHost, content, name)
				if n, err := s.Deliver(ctx); n != 0 || err == nil {
					t.Fatalf("Deliver under the fault: %d, %v; want nothing sent and an error", n, err)
				}
				if it := item(t, f.st, name); it.State != inboxsync.OutboxSending || !strings.Contains(it.Error, "read back") {
					t.Fatalf("after the fault: %+v; want sending, to be read back", it)
				}
				if n, err := s.Deliver(ctx); n != 1 || err != nil {
					t.Fatalf("Deliver after the fault: %d, %v; want 1", n, err)
				}
				it := item(t, f.st, name)
				if it.State != inboxsync.OutboxSent || it.MessageID == 0 {
					t.Fatalf("%+v; want sent", it)
				}
				if n := sentCopies(t, f.c, convHost, content); n != 1 {
					t.Fatalf("%d copies reached the API; want 1", n)
				}
				if n := f.srv.RequestCount("POST", "/api/v3/inbox/messages"); n != tc.posts {
					t.Errorf("%d POSTs; want %d", n, tc.posts)
				}
			})
		}
	})
}

// What the API states ends the item failed, with the reason; what it did
// not process is tried again.
func TestOutboxStatedFailures(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		f := setup(t, dsn)
		s := inboxsync.New(f.st, acct, f.c, quickOutbox)
		f.srv.DeleteConversation(bookingsynctest.ClosedConversationID)
		enqueue(t, f.st, bookingsynctest.ClosedConversationID, "Hello?", "gone")
		f.srv.AddFault(bookingsynctest.Fault{Method: "POST", PathPrefix: "/api/v3/inbox/messages", Kind: bookingsynctest.FaultStatus, Status: 422, Count: 1})
		enqueue(t, f.st, convHost, "Refused", "refused")
		if _, err := s.Deliver(ctx); err != nil {
			t.Fatalf("Deliver: %v (stated failures are not errors to retry)", err)
		}
		for key, want := range map[string]string{"gone": "conversation is gone", "refused": "refused the message (422)"} {
			it := item(t, f.st, key)
			if it.State != inboxsync.OutboxFailed || !strings.Contains(it.Error, want) {
				t.Errorf("%s: %+v; want failed, %q", key, it, want)
			}
		}
		// 429: not processed; queued again, then sent.
		f.srv.AddFault(bookingsynctest.Fault{Method: "POST", PathPrefix: "/api/v3/inbox/messages", Kind: bookingsynctest.Fault429, Count: 1,
			Reset: strconv.FormatInt(time.Now().Unix(), 10)}) // over at once
		enqueue(t, f.st, convHost, "Later", "later")
		if _, err := s.Deliver(ctx); err == nil {
			t.Fatal("a 429: no error")
		}
		if it := item(t, f.st, "later"); it.State != inboxsync.OutboxQueued {
			t.Fatalf("after a 429: %+v; want queued", it)
		}
		if n, err := s.Deliver(ctx); n != 1 || err != nil {
			t.Fatalf("after the 429: %d, %v", n, err)
		}

		// 403: a token without inbox_write.
		f2 := setup(t, dsn, bookingsynctest.WithScopes("inbox_read"))
		s2 := inboxsync.New(f2.st, acct, f2.c, quickOutbox)
		enqueue(t, f2.st, convHost, "No scope", "noscope")
		if _, err := s2.Deliver(ctx); err != nil {
			t.Fatal(err)
		}
		if it := item(t, f2.st, "noscope"); it.State != inboxsync.OutboxFailed || !strings.Contains(it.Error, "403") {
			t.Errorf("without inbox_write: %+v; want failed, 403", it)
		}
	})
}

// Syncers of two replicas delivering the same outbox at once send each
// reply once, and the replies of a conversation in order.
func TestOutboxConcurrentReplicas(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dsn string) {
		f := setup(t, dsn, bookingsynctest.WithLatency(2*time.Millisecond))
		st2 := openStore(t, dsn)
		const n = 12
		for i := range n {
			conv := []int64{convHost, convNoHst, bookingsynctest.ClosedConversationID}[i%3]
			enqueue(t, f.st, conv, fmt.Sprintf("Reply %d", i), fmt.Sprint(i))
		}
		ctx := context.Background()
		var wg sync.WaitGroup
		sent := make([]int, 4)
		for r := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				st := []*inboxsync.Store{f.st, st2}[r%2]
				c := newClient(t, f.srv)
				for range 20 {
					k, _ := inboxsync.New(st, acct, c, quickOutbox).Deliver(ctx)
					sent[r] += k
				}
			}()
		}
		wg.Wait()
		if total := sent[0] + sent[1] + sent[2] + sent[3]; total != n {
			t.Errorf("the replicas report %d sent; want %d", total, n)
		}
		if got := f.srv.RequestCount("POST", "/api/v3/inbox/messages"); got != n {
			t.Errorf("%d POSTs; want %d", got, n)
		}
		items, err := f.st.OutboxItems(ctx, acct, 0)
		if err != nil {
			t.Fatal(err)
		}
		last := map[int64]int64{}
		for i, it := range items {
			if it.State != inboxsync.OutboxSent || sentCopies(t, f.c, it.ConversationID, fmt.Sprintf("Reply %d", i)) != 1 {
				t.Fatalf("item %+v; want sent once", it)
			}
			if it.MessageID < last[it.ConversationID] {
				t.Errorf("conversation %d: item %d sent before an earlier one", it.ConversationID, it.ID)
			}
			last[it.ConversationID] = it.MessageID
		}
	})
}

// stallTransport stops the child's process at a chosen instant of its
// POST of a message: "before" it is sent, or "after" its response came
// back and before the outbox records it. It says so with a line the
// parent waits for, then blocks until the parent kills the process.
type stallTransport struct{ when string }

func (s stallTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	post := r.Method == "POST" && strings.HasSuffix(r.URL.Path, "/inbox/messages")
	if post && s.when == "before" {
		stall("stalled")
	}
	resp, err := http.DefaultTransport.RoundTrip(r)
	if post && s.when == "after" {
		stall("stalled")
	}
	return resp, err
}

// childClaim is the outbox claim of the killed children: long, so that a
// slow child never loses it while it lives; the parent moves its own view
// of the database's clock past it once the child is dead (ShiftClock)
// instead of waiting it out.
const childClaim = time.Minute

// TestOutboxChild is the child process of TestOutboxKilledReplica: it
// delivers the outbox of CHILD_DSN and stalls at CHILD_WHEN.
func TestOutboxChild(t *testing.T) {
	if !isChild("outbox") {
		t.Skip("a child process of TestOutboxKilledReplica")
	}
	st := openStore(t, getenv("CHILD_DSN"))
	c, err := bookingsync.NewClient(bookingsync.WithBaseURL(getenv("CHILD_URL")), bookingsync.WithToken(getenv("CHILD_TOKEN")),
		bookingsync.WithHTTPClient(&http.Client{Transport: stallTransport{getenv("CHILD_WHEN")}}))
	if err != nil {
		t.Fatal(err)
	}
	_, err = inboxsync.New(st, acct, c, inboxsync.WithOutboxPolicy(inboxsync.OutboxPolicy{Claim: childClaim})).Deliver(context.Background())
	fmt.Fprintln(os.Stderr, "child: Deliver returned", err)
}

// A replica killed at the instant between the POST and recording it (or
// before the POST left): another replica, once the claim ran out, reads
// the conversation back and records the message, or sends it; the reply
// reaches the API once.
func TestOutboxKilledReplica(t *testing.T) {
	if testing.Short() {
		t.Skip("re-executes the test binary")
	}
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dsn string) {
		for _, tc := range []struct {
			when  string
			posts int
		}{{"after", 1}, {"before", 1}} {
			t.Run(tc.when, func(t *testing.T) {
				f := setup(t, dsn)
				content := "Killed " + tc.when
				key := tc.when
				enqueue(t, f.st, convNoHst, content, key)
				child := startChild(t, "TestOutboxChild", "outbox", "CHILD_DSN="+dsn, "CHILD_URL="+f.srv.URL,
					"CHILD_TOKEN="+f.srv.Token(), "CHILD_WHEN="+tc.when)
				if got := child.next(t); got != "stalled" {
					t.Fatalf("child signalled %q", got)
				}
				child.kill()
				if it := item(t, f.st, key); it.State != inboxsync.OutboxSending {
					t.Fatalf("after the kill: %+v; want sending", it)
				}
				// The dead child's claim lapses by the database's clock as
				// this store reads it: the next pass takes the reply over.
				inboxsync.ShiftClock(f.st, childClaim+time.Second)
				s := inboxsync.New(f.st, acct, f.c, inboxsync.WithOutboxPolicy(inboxsync.OutboxPolicy{Claim: childClaim}))
				if _, err := s.Deliver(context.Background()); err != nil {
					t.Fatal(err)
				}
				if it := item(t, f.st, key); it.State != inboxsync.OutboxSent {
					t.Fatalf("after the next pass: %+v; want sent", it)
				}
				if n := sentCopies(t, f.c, convNoHst, content); n != 1 {
					t.Fatalf("%d copies reached the API; want 1", n)
				}
				if n := f.srv.RequestCount("POST", "/api/v3/inbox/messages"); n != tc.posts {
					t.Errorf("%d POSTs; want %d", n, tc.posts)
				}
			})
		}
	})
}
