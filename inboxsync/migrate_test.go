package inboxsync

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/go-bookingsync/bookingsync/inboxsync/internal/dbtest"
)

// names is each migration as line/name.
func names(ms []Migration) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.String()
	}
	return out
}

// Migrate applies the named lines in order and says what it applied;
// MigrationStatus shows applied and pending; Open without migrating fails
// on a schema behind, naming what is pending, and opens a current one.
func TestMigrateStatusAndOpenWithoutMigrate(t *testing.T) {
	t.Parallel()
	dbtest.EachEmpty(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		want := []string{"projection/0001_projection.sql", "projection/0002_bookings.sql", "projection/0003_guests_rentals.sql",
			"projection/0004_inbox.sql", "projection/0005_search_nul.sql", "projection/0006_set_aside.sql", "fleet/0001_fleet.sql", "fleet/0002_delivery_retry.sql",
			"outbox/0001_outbox.sql", "changes/0001_changes.sql"}

		status, err := MigrationStatus(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		if got := names(status); !slices.Equal(got[:len(want)], want) {
			t.Fatalf("status of a new database: %v, want %v first", got, want)
		}
		for _, m := range status {
			if m.Applied() {
				t.Errorf("%s applied in a new database", m)
			}
		}

		_, err = Open(ctx, dsn, WithoutMigrate())
		var behind *SchemaBehindError
		if !errors.As(err, &behind) || !slices.Equal(names(behind.Pending), names(status)) {
			t.Fatalf("Open without migrating a new database: %v, want a SchemaBehindError naming every migration", err)
		}
		if !strings.Contains(err.Error(), "fleet/0001_fleet.sql") {
			t.Errorf("error %q names no pending migration", err)
		}

		applied, err := Migrate(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(names(applied), names(status)) {
			t.Fatalf("Migrate applied %v, want %v", names(applied), names(status))
		}
		for _, m := range applied {
			if !m.Applied() {
				t.Errorf("%s: no AppliedAt", m)
			}
		}
		if again, err := Migrate(ctx, dsn); err != nil || len(again) != 0 {
			t.Fatalf("Migrate again: applied %v, %v; want nothing", names(again), err)
		}
		status, err = MigrationStatus(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range status {
			if !m.Applied() {
				t.Errorf("%s pending after Migrate", m)
			}
		}

		st, err := Open(ctx, dsn, WithoutMigrate())
		if err != nil {
			t.Fatalf("Open without migrating a current database: %v", err)
		}
		defer st.Close()
		if _, err := st.Conversations(ctx, 1, ConversationQuery{}); err != nil {
			t.Fatal(err)
		}

		// One line behind: only its migration is named.
		if _, err := st.DB().ExecContext(ctx, "DELETE FROM inboxsync_migrations WHERE line = 'changes'"); err != nil {
			t.Fatal(err)
		}
		_, err = Open(ctx, dsn, WithoutMigrate())
		if !errors.As(err, &behind) || !slices.Equal(names(behind.Pending), []string{"changes/0001_changes.sql"}) {
			t.Fatalf("Open without migrating, the changes line behind: %v", err)
		}
	})
}

// A database migrated by a release before lines (schema_migrations, the
// fleet at version 50) is adopted: nothing is applied twice (only the
// migrations that came after lines are applied), the status names the
// lines, the old table is gone. Another tool's table of that name
// (golang-migrate's: version, dirty) is left alone.
func TestMigrateAdoptsTheNumberedMigrations(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		st := mustOpen(t, dsn)
		for _, q := range []string{
			"DROP TABLE inboxsync_migrations",
			"DROP TABLE sync_set_aside", // newer than the numbered releases
			"CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL)",
			"INSERT INTO schema_migrations VALUES (1, '0001_projection.sql'), (2, '0002_bookings.sql'), (3, '0003_guests_rentals.sql'), " +
				"(10, '0010_inbox.sql'), (11, '0011_outbox.sql'), (12, '0012_changes.sql'), (13, '0013_search_nul.sql'), " +
				"(50, '0050_fleet.sql'), (51, '0051_delivery_retry.sql')",
		} {
			if _, err := st.db.ExecContext(ctx, q); err != nil {
				t.Fatal(err)
			}
		}
		applied, err := Migrate(ctx, dsn) // re-applying a migration fails: its tables exist
		if want := []string{"projection/0006_set_aside.sql"}; err != nil || !slices.Equal(names(applied), want) {
			t.Fatalf("Migrate of a numbered database applied %v, %v; want only what came after lines, %v", names(applied), err, want)
		}
		status, err := MigrationStatus(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range status {
			if !m.Applied() {
				t.Errorf("%s pending after adoption", m)
			}
		}
		if cols, err := st.tableColumns(ctx, st.db, "schema_migrations"); err != nil || len(cols) != 0 {
			t.Errorf("schema_migrations still has columns %v (%v)", cols, err)
		}

		// golang-migrate's table beside ours.
		if _, err := st.db.ExecContext(ctx, "CREATE TABLE schema_migrations (version BIGINT PRIMARY KEY, dirty BOOLEAN NOT NULL)"); err != nil {
			t.Fatal(err)
		}
		if _, err := Migrate(ctx, dsn); err != nil {
			t.Fatal(err)
		}
		if cols, err := st.tableColumns(ctx, st.db, "schema_migrations"); err != nil || len(cols) != 2 {
			t.Errorf("another tool's schema_migrations: columns %v (%v), want it untouched", cols, err)
		}
	})
}

// A migration file outside a line's folder (or in an unknown line) is an
// error naming it, not a migration applied out of order.
func TestMigrationsOutsideALineAreRefused(t *testing.T) {
	t.Parallel()
	ok := fstest.MapFS{
		"migrations/sqlite/inboxsync_migrations.sql":          {},
		"migrations/sqlite/projection/0001_projection.sql":    {Data: []byte("p1")},
		"migrations/sqlite/projection/0002_bookings.sql":      {Data: []byte("p2")},
		"migrations/sqlite/fleet/0001_fleet.sql":              {Data: []byte("f1")},
		"migrations/sqlite/projection/0010_later_numbers.sql": {Data: []byte("p10")},
	}
	ms, err := migrations(ok, "sqlite")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range ms {
		got = append(got, m.String())
	}
	want := []string{"projection/0001_projection.sql", "projection/0002_bookings.sql", "projection/0010_later_numbers.sql", "fleet/0001_fleet.sql"}
	if !slices.Equal(got, want) {
		t.Errorf("order %v, want %v", got, want)
	}
	for file, why := range map[string]string{
		"migrations/sqlite/0011_outbox.sql":             "in no line",
		"migrations/sqlite/reports/0001_reports.sql":    "in no line",
		"migrations/sqlite/fleet/0001_again.sql":        "share a version",
		"migrations/sqlite/fleet/notes.txt":             "NNNN_what.sql",
		"migrations/sqlite/projection/x_projection.sql": "NNNN_what.sql",
	} {
		bad := fstest.MapFS{file: {}}
		for k, v := range ok {
			bad[k] = v
		}
		if _, err := migrations(bad, "sqlite"); err == nil || !strings.Contains(err.Error(), why) {
			t.Errorf("with %s: %v, want an error saying %q", file, err, why)
		}
	}
}

// A Postgres role without DDL rights opens a migrated store without
// migrating and reads it; Open's default, which migrates, is refused it.
func TestOpenWithoutMigrateAsARoleWithoutDDL(t *testing.T) {
	t.Parallel()
	admin := dbtest.Postgres(t) // skips without a server
	ctx := context.Background()
	if _, err := Migrate(ctx, admin); err != nil {
		t.Fatal(err)
	}
	st := mustOpen(t, admin)
	role := "reader_" + strings.TrimPrefix(mustURL(t, admin).Path, "/inboxsync_") // unique as the database
	role = role[:min(len(role), 63)]
	for _, q := range []string{
		"CREATE ROLE " + role + " LOGIN",
		"GRANT USAGE ON SCHEMA public TO " + role,
		"GRANT SELECT ON ALL TABLES IN SCHEMA public TO " + role,
		"REVOKE CREATE ON SCHEMA public FROM PUBLIC",
	} {
		if _, err := st.db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	defer func() {
		for _, q := range []string{"DROP OWNED BY " + role, "DROP ROLE " + role} {
			if _, err := st.db.ExecContext(ctx, q); err != nil {
				t.Error(err)
			}
		}
	}()
	u := mustURL(t, admin)
	u.User = url.User(role)
	reader := u.String()

	if _, err := Open(ctx, reader); err == nil || !strings.Contains(err.Error(), "permission denied") {
		t.Errorf("Open (migrating) as a role without DDL rights: %v, want permission denied", err)
	}
	ro, err := Open(ctx, reader, WithoutMigrate())
	if err != nil {
		t.Fatalf("Open without migrating as a reader: %v", err)
	}
	defer ro.Close()
	if _, err := ro.Conversations(ctx, 1, ConversationQuery{}); err != nil {
		t.Fatalf("reading as a reader: %v", err)
	}
}

func mustURL(t *testing.T, dsn string) *url.URL {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
