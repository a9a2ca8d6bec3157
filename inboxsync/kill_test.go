package inboxsync_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/go-bookingsync/bookingsync"
	"github.com/go-bookingsync/bookingsync/bookingsynctest"
	"github.com/go-bookingsync/bookingsync/inboxsync"
)

// The environment of a re-executed test binary that syncs until killed.
const (
	childEnv      = "INBOXSYNC_TEST_CHILD" // the DSN
	childURLEnv   = "INBOXSYNC_TEST_CHILD_URL"
	childTokenEnv = "INBOXSYNC_TEST_CHILD_TOKEN"
	childLeaseTTL = 300 * time.Millisecond
)

func TestMain(m *testing.M) {
	if dsn := os.Getenv(childEnv); dsn != "" {
		os.Exit(runChild(dsn))
	}
	os.Exit(m.Run())
}

// runChild syncs the fake's account into dsn, pass after pass, until it is
// killed.
func runChild(dsn string) int {
	ctx := context.Background()
	st, err := inboxsync.Open(ctx, dsn)
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 1
	}
	c, err := bookingsync.NewClient(bookingsync.WithBaseURL(os.Getenv(childURLEnv)), bookingsync.WithToken(os.Getenv(childTokenEnv)))
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 1
	}
	s := inboxsync.New(st, acct, c, inboxsync.WithLeaseTTL(childLeaseTTL))
	for {
		if _, err := s.Sync(ctx); err != nil {
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
	eachBackend(t, func(t *testing.T, dsn string) {
		f := setup(t, dsn, bookingsynctest.WithPageSizeCap(5), bookingsynctest.WithLatency(5*time.Millisecond))
		f.srv.GenerateConversations(300)

		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), childEnv+"="+dsn, childURLEnv+"="+f.srv.URL, childTokenEnv+"="+f.srv.Token())
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Kill it in the middle of the conversations walk (60 pages).
		deadline := time.Now().Add(30 * time.Second)
		for f.srv.RequestCount("GET", "/api/v3/inbox/conversations") < 20 {
			if time.Now().After(deadline) {
				cmd.Process.Kill()
				t.Fatal("the child never reached the conversations walk")
			}
			time.Sleep(2 * time.Millisecond)
		}
		cmd.Process.Kill()
		cmd.Wait()

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
