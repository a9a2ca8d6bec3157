package inboxsync

import (
	"context"
	"os"
	"testing"

	"github.com/go-bookingsync/bookingsync/inboxsync/internal/dbtest"
)

// TestMain gives dbtest.Each the migration, so that each test's database
// is a copy of one migrated per back end (and the tests run in parallel).
func TestMain(m *testing.M) {
	os.Exit(dbtest.Main(m, func(ctx context.Context, dsn string) error {
		_, err := Migrate(ctx, dsn)
		return err
	}))
}
