package inboxsync

import (
	"context"
	"testing"

	"github.com/go-bookingsync/bookingsync/inboxsync/internal/dbtest"
	"github.com/go-bookingsync/bookingsync/inboxsync/internal/testsignal"
)

// A transaction that appended changes and has not committed holds back
// the appends of every later one (another replica's included) until it
// commits: a reader never sees the later Seq while the earlier one can
// still appear. A sequence would let the later transaction commit first.
func TestChangesCommitOrder(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		st1, err := Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer st1.Close()
		st2, err := Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer st2.Close()
		const acct = 1
		first, err := st1.Enqueue(ctx, acct, Outgoing{ConversationID: 1, HostID: 1, Content: "first", Key: "first"})
		if err != nil {
			t.Fatal(err)
		}
		head, _ := st1.LastChange(ctx, acct)

		held, release, committed := make(chan struct{}), make(chan struct{}), make(chan error, 1)
		go func() {
			committed <- st1.d.runSteps(ctx, st1.changeSteps(acct, "outbox", []int64{first.ID}, nil), func() error {
				close(held)
				<-release
				return nil
			})
		}()
		<-held // T1 appended, not committed
		later := make(chan *OutboxItem, 1)
		go func() {
			it, err := st2.Enqueue(ctx, acct, Outgoing{ConversationID: 1, HostID: 1, Content: "second", Key: "second"})
			if err != nil {
				t.Error(err)
			}
			later <- it
		}()
		if st1.Dialect() == "postgres" {
			// Proof that T2 waits on T1's lock of the counter.
			testsignal.Eventually(t, "the later transaction waiting for the earlier one", func() bool {
				var waiting int
				if err := st1.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM pg_stat_activity
WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&waiting); err != nil {
					t.Fatal(err)
				}
				return waiting > 0
			})
		}
		// Meanwhile a reader sees neither.
		if got, err := st1.Changes(ctx, acct, head, 0); err != nil || len(got) != 0 {
			t.Fatalf("while T1 is open: %+v, %v; want nothing", got, err)
		}
		close(release)
		if err := <-committed; err != nil {
			t.Fatal(err)
		}
		second := <-later
		got, err := st1.Changes(ctx, acct, head, 0)
		if err != nil || len(got) != 2 || got[0].ID != first.ID || got[1].ID != second.ID {
			t.Fatalf("after both: %+v, %v; want T1's change, then T2's", got, err)
		}
	})
}
