package main

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/go-bookingsync/bookingsync/inboxsync"
)

// db status lists every migration pending in a new database; db migrate
// applies them and lists them, then finds nothing to do; a store opened
// without migrating then opens.
func TestDBMigrateAndStatus(t *testing.T) {
	eachDB(t, func(t *testing.T, dsn string) {
		r := run(t, nil, "", "db", "status", "--db", dsn, "--json")
		wantCode(t, r, exitOK)
		var before []migrationLine
		decodeJSON(t, r, &before)
		if len(before) == 0 || before[0].Line != "projection" || before[0].Version != 1 {
			t.Fatalf("status of a new database: %+v", before)
		}
		for _, m := range before {
			if m.AppliedAt != nil {
				t.Errorf("%s/%s applied in a new database", m.Line, m.Name)
			}
		}
		_, err := inboxsync.Open(context.Background(), dsn, inboxsync.WithoutMigrate())
		var behind *inboxsync.SchemaBehindError
		if !errors.As(err, &behind) {
			t.Fatalf("Open without migrating a new database: %v", err)
		}

		r = run(t, nil, "", "db", "migrate", "--db", dsn)
		wantCode(t, r, exitOK)
		if got := strings.Count(r.stdout, " applied "); got != len(before) {
			t.Errorf("migrate printed %d applied migrations, want %d:\n%s", got, len(before), r.stdout)
		}
		if !strings.Contains(r.stdout, "fleet ") || !strings.Contains(r.stdout, "0001_fleet.sql") {
			t.Errorf("migrate output names no fleet migration:\n%s", r.stdout)
		}
		r = run(t, nil, "", "db", "migrate", "--db", dsn)
		wantCode(t, r, exitOK)
		if r.stdout != "the schema is current: nothing to apply\n" {
			t.Errorf("second migrate: %q", r.stdout)
		}
		r = run(t, nil, "", "db", "status", "--db", dsn)
		wantCode(t, r, exitOK)
		if strings.Contains(r.stdout, "pending") || strings.Count(r.stdout, "\n") != len(before)+1 {
			t.Errorf("status after migrate:\n%s", r.stdout)
		}
		st, err := inboxsync.Open(context.Background(), dsn, inboxsync.WithoutMigrate())
		if err != nil {
			t.Fatalf("Open without migrating after db migrate: %v", err)
		}
		st.Close()
	})
}

func TestDBUsage(t *testing.T) {
	for _, args := range [][]string{{"db", "status"}, {"db", "frob", "--db", "sqlite:x.db"}, {"db", "--db", "sqlite:x.db"}} {
		r := run(t, nil, "", args...)
		wantCode(t, r, exitUsage)
	}
}
