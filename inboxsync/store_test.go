package inboxsync_test

import (
	"context"
	"sync"
	"testing"

	"github.com/go-bookingsync/bookingsync/inboxsync"
	"github.com/go-bookingsync/bookingsync/inboxsync/internal/dbtest"
)

// Replicas starting together apply each migration once and all open.
func TestOpenConcurrentMigratesOnce(t *testing.T) {
	t.Parallel()
	dbtest.EachEmpty(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		const n = 5
		var wg sync.WaitGroup
		errs := make([]error, n)
		stores := make([]*inboxsync.Store, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				stores[i], errs[i] = inboxsync.Open(ctx, dsn)
			}()
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("open %d: %v", i, err)
			}
			defer stores[i].Close()
		}
		var count int
		if err := stores[0].DB().QueryRowContext(ctx, "SELECT COUNT(*) FROM inboxsync_migrations").Scan(&count); err != nil {
			t.Fatal(err)
		}
		status, err := inboxsync.MigrationStatus(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		if count == 0 || count != len(status) {
			t.Fatalf("inboxsync_migrations: %d rows for %d migrations; want each once", count, len(status))
		}
		// Reopening finds nothing to do.
		st, err := inboxsync.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		st.Close()
	})
}

func TestOpenRejectsUnknownDSN(t *testing.T) {
	t.Parallel()
	for _, dsn := range []string{"", "mysql://x", "sqlite:"} {
		if _, err := inboxsync.Open(context.Background(), dsn); err == nil {
			t.Errorf("Open(%q): no error", dsn)
		}
	}
}
