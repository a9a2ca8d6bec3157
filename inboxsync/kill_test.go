package inboxsync_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/go-bookingsync/bookingsync"
	"github.com/go-bookingsync/bookingsync/bookingsynctest"
	"github.com/go-bookingsync/bookingsync/inboxsync"
	"github.com/go-bookingsync/bookingsync/inboxsync/internal/dbtest"
)

// childLeaseTTL is the lease of TestSyncChild's syncer: short, so that
// the next pass need not wait long for a dead child's leases.
const childLeaseTTL = 300 * time.Millisecond

// TestSyncChild is the child process of TestKilledBetweenPages: it syncs
// the fake's account into CHILD_DSN, pass after pass, until it is killed.
func TestSyncChild(t *testing.T) {
	if !isChild("sync") {
		t.Skip("a child process of TestKilledBetweenPages")
	}
	st := openStore(t, getenv("CHILD_DSN"))
	c, err := bookingsync.NewClient(bookingsync.WithBaseURL(getenv("CHILD_URL")), bookingsync.WithToken(getenv("CHILD_TOKEN")))
	if err != nil {
		t.Fatal(err)
	}
	s := inboxsync.New(st, acct, c, inboxsync.WithLeaseTTL(childLeaseTTL))
	for {
		if _, err := s.Sync(context.Background()); err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
		}
	}
}

// A process killed between pages leaves a copy that is stale, never wrong,
// with the cursor not advanced past what it missed; the next complete pass
// (another process, once the dead one's lease has expired) converges.
func TestKilledBetweenPages(t *testing.T) {
	if testing.Short() {
		t.Skip("re-executes the test binary")
	}
	dbtest.EachInTurn(t, func(t *testing.T, dsn string) {
		f := setup(t, dsn, bookingsynctest.WithPageSizeCap(5), bookingsynctest.WithLatency(5*time.Millisecond))
		f.srv.GenerateConversations(300)

		child := startChild(t, "TestSyncChild", "sync", "CHILD_DSN="+dsn, "CHILD_URL="+f.srv.URL, "CHILD_TOKEN="+f.srv.Token())
		// Kill it in the middle of the conversations walk (60 pages).
		deadline := time.Now().Add(30 * time.Second)
		for f.srv.RequestCount("GET", "/api/v3/inbox/conversations") < 20 {
			if time.Now().After(deadline) {
				child.kill() // then its output is complete
				t.Fatalf("the child never reached the conversations walk:\n%s", child.err.String())
			}
			time.Sleep(2 * time.Millisecond)
		}
		child.kill()

		// Stale, never wrong: what is local is the server's, and the
		// conversations cursor did not move.
		server, local := serverState(t, f.c), localState(t, f.st)
		if len(local["conversations"]) == 0 || len(local["conversations"]) >= len(server["conversations"]) {
			t.Fatalf("killed mid-walk but holds %d of %d conversations", len(local["conversations"]), len(server["conversations"]))
		}
		for table, recs := range local {
			for id := range recs {
				if _, ok := server[table][id]; !ok {
					t.Errorf("%s %d local but not on the server", table, id)
				}
			}
			local[table] = recs
		}
		partial := state{}
		for table, recs := range local {
			partial[table] = map[int64]any{}
			for id := range recs {
				partial[table][id] = server[table][id]
			}
		}
		if d := diff(partial, local); d != "" {
			t.Fatalf("local records differ from the server's:\n%s", d)
		}
		if cur, err := f.st.Cursor(context.Background(), acct, "conversations"); err != nil || !cur.IsZero() {
			t.Fatalf("conversations cursor = %v, %v; want none after a killed first walk", cur, err)
		}

		time.Sleep(2 * childLeaseTTL)
		rep := mustSync(t, f.s)
		for _, rr := range rep.Resources {
			if rr.Skipped {
				t.Fatalf("%s still leased by the dead process", rr.Resource)
			}
		}
		if d := diff(serverState(t, f.c), localState(t, f.st)); d != "" {
			t.Fatalf("after the next pass:\n%s", d)
		}
	})
}
