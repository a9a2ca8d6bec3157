package inboxsync

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The schema's migrations: one folder per dialect, in it one folder per
// line, in it files named NNNN_what.sql, numbered from 0001 within their
// line. A line is a part of the schema with one owner: the projection (the
// copy: mirrored tables, cursors, leases, the inbox's indexes), the fleet
// (tokens, account leases, deliveries), the outbox (replies to send) and
// the change feed. Lines apply in the order of migrationLines, each
// migration once, in version order within its line, whatever the other
// lines hold: a database at projection 0002 without the fleet gets fleet
// 0001, and one that has fleet 0001 gets projection 0003 when it appears.
// inboxsync_migrations.sql, beside the lines, is the bookkeeping table.
//
//go:embed migrations
var migrationFS embed.FS

// migrationLines are the lines, in the order they apply: a line may build
// on the tables of those before it. A folder not named here is an error.
var migrationLines = []string{"projection", "fleet", "outbox", "changes"}

// Migration is one migration of the schema, as Migrate and
// MigrationStatus report it.
type Migration struct {
	Line    string // the part of the schema it belongs to: "projection", "fleet", …
	Version int    // from 1 within its line
	Name    string // its file, e.g. "0001_projection.sql"
	// AppliedAt is when it was applied to the database, by the database's
	// clock; zero while it is pending.
	AppliedAt time.Time
}

// Applied reports whether the migration is applied to the database.
func (m Migration) Applied() bool { return !m.AppliedAt.IsZero() }

// String is "line/name", e.g. "fleet/0001_fleet.sql".
func (m Migration) String() string { return m.Line + "/" + m.Name }

// SchemaBehindError is Open's error, under WithoutMigrate, for a database
// that lacks migrations this release needs: Migrate (or `bookingsync db
// migrate`) applies them.
type SchemaBehindError struct {
	Pending []Migration // in the order Migrate applies them
}

func (e *SchemaBehindError) Error() string {
	names := make([]string, len(e.Pending))
	for i, m := range e.Pending {
		names[i] = m.String()
	}
	return fmt.Sprintf("inboxsync: open: the schema lacks %d migration(s): %s; apply them with inboxsync.Migrate or `bookingsync db migrate`",
		len(names), strings.Join(names, ", "))
}

// Migrate applies to the database at dsn the migrations it lacks, each
// once even when replicas migrate together, and returns those it applied
// (none when the schema was current). Open does the same unless given
// WithoutMigrate: call Migrate from a deploy step, with a role that may
// change the schema, and open the application's stores without it.
func Migrate(ctx context.Context, dsn string) ([]Migration, error) {
	s, err := openDB(dsn)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	if err := s.writable("migrate"); err != nil {
		return nil, err
	}
	applied, err := s.migrate(ctx)
	if err != nil {
		return nil, s.d.explain(err)
	}
	return applied, nil
}

// MigrationStatus lists the migrations of the database at dsn, applied or
// pending, in the order Migrate applies them, followed by any the database
// holds that this release does not know (applied by a newer one). It
// changes nothing.
func MigrationStatus(ctx context.Context, dsn string) ([]Migration, error) {
	s, err := openDB(dsn)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	return s.migrationStatus(ctx, s.db)
}

// migration is a migration of the code, with its SQL.
type migration struct {
	Migration
	sql string
}

// migrations reads the dialect's migrations from fsys (migrationFS but in
// tests), line by line in order.
func migrations(fsys fs.FS, dialect string) ([]migration, error) {
	root := path.Join("migrations", dialect)
	entries, err := fs.ReadDir(fsys, root)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		if !e.IsDir() && e.Name() != "inboxsync_migrations.sql" || e.IsDir() && !slices.Contains(migrationLines, e.Name()) {
			return nil, fmt.Errorf("inboxsync: migrations: %s/%s is in no line: put it in a line's folder (%s)", root, e.Name(), strings.Join(migrationLines, ", "))
		}
	}
	var out []migration
	for _, line := range migrationLines {
		dir := path.Join(root, line)
		entries, err := fs.ReadDir(fsys, dir)
		if errors.Is(err, fs.ErrNotExist) {
			continue // a line with nothing for this dialect yet
		}
		if err != nil {
			return nil, err
		}
		start := len(out)
		for _, e := range entries {
			num, _, ok := strings.Cut(e.Name(), "_")
			v, err := strconv.Atoi(num)
			if e.IsDir() || !ok || err != nil || v <= 0 || !strings.HasSuffix(e.Name(), ".sql") {
				return nil, fmt.Errorf("inboxsync: migration %s/%s: name must be NNNN_what.sql", dir, e.Name())
			}
			b, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
			if err != nil {
				return nil, err
			}
			out = append(out, migration{Migration{Line: line, Version: v, Name: e.Name()}, string(b)})
		}
		ms := out[start:]
		slices.SortFunc(ms, func(a, b migration) int { return a.Version - b.Version })
		for i := 1; i < len(ms); i++ {
			if ms[i].Version == ms[i-1].Version {
				return nil, fmt.Errorf("inboxsync: migrations %s/%s and %s share a version", line, ms[i-1].Name, ms[i].Name)
			}
		}
	}
	return out, nil
}

// migrate applies the missing migrations in one transaction, under the
// dialect's migration lock, so that replicas starting together queue and
// the later ones find nothing left to do. A first attempt the dialect
// deems worth retrying (retryOpen) is tried again a few times.
func (s *Store) migrate(ctx context.Context) ([]Migration, error) {
	for attempt := 1; ; attempt++ {
		applied, err := s.migrateOnce(ctx)
		if err == nil || !s.d.retryOpen(err) || attempt == 50 {
			return applied, err
		}
		select {
		case <-time.After(time.Duration(attempt) * 10 * time.Millisecond):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

func (s *Store) migrateOnce(ctx context.Context) ([]Migration, error) {
	bookkeeping, err := fs.ReadFile(migrationFS, path.Join("migrations", s.d.name(), "inboxsync_migrations.sql"))
	if err != nil {
		return nil, err
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("inboxsync: migrate: %w", err)
	}
	defer conn.Close()
	unlock, err := s.d.migrateLock(ctx, conn)
	if err != nil {
		return nil, fmt.Errorf("inboxsync: migrate: lock: %w", err)
	}
	defer unlock()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("inboxsync: migrate: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, string(bookkeeping)); err != nil {
		return nil, fmt.Errorf("inboxsync: migrate: %w", err)
	}
	if err := s.adoptLegacyMigrations(ctx, tx); err != nil {
		return nil, err
	}
	status, err := s.migrationStatus(ctx, tx)
	if err != nil {
		return nil, err
	}
	ms, err := migrations(migrationFS, s.d.name())
	if err != nil {
		return nil, err
	}
	var applied []Migration
	for i, m := range ms {
		if status[i].Applied() {
			continue
		}
		if _, err := tx.ExecContext(ctx, m.sql); err != nil {
			return nil, fmt.Errorf("inboxsync: migration %s: %w", m, err)
		}
		var at any
		if err := s.queryRow(ctx, tx, "INSERT INTO inboxsync_migrations (line, version, name, applied_at) VALUES (?, ?, ?, db_clock(?)) RETURNING applied_at",
			m.Line, m.Version, m.Name, s.clockAt(0)).Scan(&at); err != nil {
			return nil, fmt.Errorf("inboxsync: migration %s: %w", m, err)
		}
		if m.AppliedAt, err = scanTime(at); err != nil {
			return nil, err
		}
		applied = append(applied, m.Migration)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("inboxsync: migrate: %w", err)
	}
	return applied, nil
}

// migrationStatus is the code's migrations in order, each with when the
// database applied it, then those the database holds that the code does
// not know.
func (s *Store) migrationStatus(ctx context.Context, q querier) ([]Migration, error) {
	ms, err := migrations(migrationFS, s.d.name())
	if err != nil {
		return nil, err
	}
	out := make([]Migration, len(ms))
	for i, m := range ms {
		out[i] = m.Migration
	}
	cols, err := s.tableColumns(ctx, q, "inboxsync_migrations")
	if err != nil || len(cols) == 0 {
		return out, err // a database never migrated: everything is pending
	}
	rows, err := s.query(ctx, q, "SELECT line, version, name, applied_at FROM inboxsync_migrations ORDER BY line, version")
	if err != nil {
		return nil, fmt.Errorf("inboxsync: migrations: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var m Migration
		var at any
		if err := rows.Scan(&m.Line, &m.Version, &m.Name, &at); err != nil {
			return nil, err
		}
		if m.AppliedAt, err = scanTime(at); err != nil {
			return nil, err
		}
		i := slices.IndexFunc(out[:len(ms)], func(k Migration) bool { return k.Line == m.Line && k.Version == m.Version })
		if i < 0 {
			out = append(out, m)
			continue
		}
		out[i].AppliedAt = m.AppliedAt
	}
	return out, rows.Err()
}

// tableColumns lists the columns of table in the store's schema; none when
// there is no such table.
func (s *Store) tableColumns(ctx context.Context, q querier, table string) ([]string, error) {
	rows, err := s.query(ctx, q, s.d.tableColumns(), table)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// legacyMigrations are the migrations as releases before lines recorded
// them in schema_migrations (version, name), numbers ranges standing for
// lines, with their place now.
var legacyMigrations = map[string]struct {
	line    string
	version int
	name    string
}{
	"0001_projection.sql":     {"projection", 1, "0001_projection.sql"},
	"0002_bookings.sql":       {"projection", 2, "0002_bookings.sql"},
	"0003_guests_rentals.sql": {"projection", 3, "0003_guests_rentals.sql"},
	"0010_inbox.sql":          {"projection", 4, "0004_inbox.sql"},
	"0011_outbox.sql":         {"outbox", 1, "0001_outbox.sql"},
	"0012_changes.sql":        {"changes", 1, "0001_changes.sql"},
	"0013_search_nul.sql":     {"projection", 5, "0005_search_nul.sql"},
	"0050_fleet.sql":          {"fleet", 1, "0001_fleet.sql"},
	"0051_delivery_retry.sql": {"fleet", 2, "0002_delivery_retry.sql"},
}

// adoptLegacyMigrations moves the rows of an earlier release's
// schema_migrations table (exactly the columns version and name: another
// tool's table of that name is left alone) into inboxsync_migrations, and
// drops it, in the migration's transaction.
func (s *Store) adoptLegacyMigrations(ctx context.Context, tx *sql.Tx) error {
	cols, err := s.tableColumns(ctx, tx, "schema_migrations")
	if err != nil {
		return fmt.Errorf("inboxsync: migrate: %w", err)
	}
	slices.Sort(cols)
	if !slices.Equal(cols, []string{"name", "version"}) {
		return nil
	}
	rows, err := s.query(ctx, tx, "SELECT name FROM schema_migrations")
	if err != nil {
		return fmt.Errorf("inboxsync: migrate: %w", err)
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return err
		}
		names = append(names, n)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, n := range names {
		m, ok := legacyMigrations[n]
		if !ok {
			return fmt.Errorf("inboxsync: migrate: schema_migrations records %q, a migration this release does not know", n)
		}
		// The time it was applied was not recorded: the adoption's stands in.
		if _, err := s.exec(ctx, tx, "INSERT INTO inboxsync_migrations (line, version, name, applied_at) VALUES (?, ?, ?, db_clock(?))",
			m.line, m.version, m.name, s.clockAt(0)); err != nil {
			return fmt.Errorf("inboxsync: migrate: %w", err)
		}
	}
	if _, err := s.exec(ctx, tx, "DROP TABLE schema_migrations"); err != nil {
		return fmt.Errorf("inboxsync: migrate: %w", err)
	}
	return nil
}

// checkSchema fails with *SchemaBehindError when the database lacks a
// migration: Open under WithoutMigrate.
func (s *Store) checkSchema(ctx context.Context) error {
	status, err := s.migrationStatus(ctx, s.db)
	if err != nil {
		return err
	}
	var pending []Migration
	for _, m := range status {
		if !m.Applied() {
			pending = append(pending, m)
		}
	}
	if len(pending) > 0 {
		return &SchemaBehindError{Pending: pending}
	}
	return nil
}
