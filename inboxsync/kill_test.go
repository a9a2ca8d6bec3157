package inboxsync_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-bookingsync/bookingsync"
	"github.com/go-bookingsync/bookingsync/bookingsynctest"
	"github.com/go-bookingsync/bookingsync/inboxsync"
	"github.com/go-bookingsync/bookingsync/inboxsync/internal/dbtest"
)

// childLeaseTTL is the lease of TestSyncChild's syncer: long, so that a
// slow child never loses it while it lives; the parent moves its own view
// of the database's clock past it once the child is dead (ShiftClock)
// instead of waiting it out.
const childLeaseTTL = time.Minute

// stallPage is the conversations page before whose request TestSyncChild
// stops: in the middle of a walk of 20 pages.
const stallPage = 11

// pageStall stops the child's process before it requests conversations
// page stallPage: it signals "stalled" and blocks until the parent kills
// it, so that the kill falls between pages however slow the machine.
type pageStall struct{ pages atomic.Int32 }

func (p *pageStall) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == "GET" && strings.HasSuffix(r.URL.Path, "/inbox/conversations") && p.pages.Add(1) == stallPage {
		stall("stalled")
	}
	return http.DefaultTransport.RoundTrip(r)
}

// TestSyncChild is the child process of TestKilledBetweenPages: it syncs
// the fake's account into CHILD_DSN until it stalls (pageStall).
func TestSyncChild(t *testing.T) {
	if !isChild("sync") {
		t.Skip("a child process of TestKilledBetweenPages")
	}
	st := openStore(t, getenv("CHILD_DSN"))
	c, err := bookingsync.NewClient(bookingsync.WithBaseURL(getenv("CHILD_URL")), bookingsync.WithToken(getenv("CHILD_TOKEN")),
		bookingsync.WithHTTPClient(&http.Client{Transport: &pageStall{}}))
	if err != nil {
		t.Fatal(err)
	}
	s := inboxsync.New(st, acct, c, inboxsync.WithLeaseTTL(childLeaseTTL))
	_, err = s.Sync(context.Background())
	fmt.Fprintln(os.Stderr, "child: Sync returned", err)
}

// A process killed between pages leaves a copy that is stale, never wrong,
// with the cursor not advanced past what it missed; the next complete pass
// (another process, once the dead one's lease has expired) converges.
func TestKilledBetweenPages(t *testing.T) {
	if testing.Short() {
		t.Skip("re-executes the test binary")
	}
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dsn string) {
		f := setup(t, dsn, bookingsynctest.WithPageSizeCap(5))
		f.srv.GenerateConversations(100)

		child := startChild(t, "TestSyncChild", "sync", "CHILD_DSN="+dsn, "CHILD_URL="+f.srv.URL, "CHILD_TOKEN="+f.srv.Token())
		if got := child.next(t); got != "stalled" {
			t.Fatalf("child signalled %q", got)
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

		// The dead child's leases lapse by the database's clock as this
		// store reads it.
		inboxsync.ShiftClock(f.st, childLeaseTTL+time.Second)
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
