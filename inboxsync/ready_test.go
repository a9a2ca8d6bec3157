package inboxsync_test

import (
	"context"
	"strings"
	"testing"

	"github.com/go-bookingsync/bookingsync/inboxsync"
	"github.com/go-bookingsync/bookingsync/inboxsync/internal/dbtest"
	"github.com/go-bookingsync/bookingsync/inboxsync/internal/testsignal"
)

// What a readiness probe asks: the schema has every migration of this
// build, and this replica's fleet heartbeat is fresh only while Run runs.
func TestReadiness(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		st := openStore(t, dsn)
		if err := st.CheckSchema(ctx); err != nil {
			t.Fatalf("CheckSchema after Open: %v", err)
		}
		srv, _ := fleetFake(t, st, 1)
		f, err := inboxsync.NewFleet(st, fleetConfig(srv.URL, srv.Client(), "ready-1"))
		if err != nil {
			t.Fatal(err)
		}
		if alive, err := f.Alive(ctx); err != nil || alive {
			t.Fatalf("Alive before Run = %v, %v", alive, err)
		}
		rctx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- f.Run(rctx) }()
		testsignal.Eventually(t, "the heartbeat", func() bool { alive, _ := f.Alive(ctx); return alive })
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if alive, err := f.Alive(ctx); err != nil || alive {
			t.Fatalf("Alive after Run = %v, %v", alive, err)
		}

		if _, err := st.DB().ExecContext(ctx, "DELETE FROM inboxsync_migrations WHERE line = 'projection' AND version = 1"); err != nil {
			t.Fatal(err)
		}
		if err := st.CheckSchema(ctx); err == nil || !strings.Contains(err.Error(), "projection/0001_projection") {
			t.Fatalf("CheckSchema without migration 1: %v", err)
		}
		st.Close()
		if err := st.CheckSchema(ctx); err == nil {
			t.Fatal("CheckSchema on a closed store passed")
		}
	})
}
