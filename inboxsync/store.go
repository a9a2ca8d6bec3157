package inboxsync

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
	"modernc.org/sqlite"               // the "sqlite" database/sql driver, pure Go
	sqlite3 "modernc.org/sqlite/lib"
)

// ErrNotFound is returned by the read side when the local copy has no such
// record.
var ErrNotFound = errors.New("inboxsync: not found")

// Store is the local copy: one database, SQLite or Postgres, holding any
// number of accounts. It is safe for concurrent use, and several processes
// (replicas) may open the same database at once.
type Store struct {
	db *sql.DB
	d  dialect

	stmts sync.Map // query → *sql.Stmt, the steps kept prepared (steps.go)

	dsn   string     // the driver's DSN, for the fleet's lock connections
	fleet fleetState // tokens' key, lock pool (tokens.go, locker.go)
}

// Open opens the projection at dsn, creating or migrating its schema:
//
//	"sqlite:/path/inbox.db"   the embedded default (pure Go, no cgo), WAL mode
//	"postgres://…"            shared by several replicas ("postgresql://" too)
//
// Migrations are embedded and versioned; replicas that open the same
// database at once apply each migration exactly once (Postgres: under an
// advisory lock; SQLite: inside one write transaction).
func Open(ctx context.Context, dsn string) (*Store, error) {
	d, driverDSN, err := parseDSN(dsn)
	if err != nil {
		return nil, err
	}
	db, err := sql.Open(d.driver, driverDSN)
	if err != nil {
		return nil, fmt.Errorf("inboxsync: open: %w", err)
	}
	if d.name == "sqlite" {
		// One writer at a time is all SQLite allows; a small pool keeps
		// readers concurrent (WAL) without piling up busy writers.
		db.SetMaxOpenConns(4)
	} else {
		db.SetMaxOpenConns(8)
	}
	db.SetConnMaxIdleTime(5 * time.Minute)
	s := &Store{db: db, d: d, dsn: driverDSN}
	for attempt := 1; ; attempt++ {
		err = s.migrate(ctx)
		// Processes opening a new SQLite file together can meet "database
		// is locked" once: switching the file to WAL takes an exclusive
		// lock without waiting for busy_timeout. The file is in WAL mode
		// for good once one of them has switched it, so a retry succeeds.
		if err == nil || d.name != "sqlite" || !isBusy(err) || attempt == 50 {
			break
		}
		select {
		case <-time.After(time.Duration(attempt) * 10 * time.Millisecond):
		case <-ctx.Done():
			err = ctx.Err()
		}
		if ctx.Err() != nil {
			break
		}
	}
	if err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// isBusy reports SQLite's SQLITE_BUSY ("database is locked").
func isBusy(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_BUSY
}

// Close closes the database.
func (s *Store) Close() error {
	s.closeLocks()
	s.stmts.Range(func(_, st any) bool {
		st.(*sql.Stmt).Close()
		return true
	})
	return s.db.Close()
}

// DB is the underlying database, for the caller's own queries against the
// documented schema (see the package documentation).
func (s *Store) DB() *sql.DB { return s.db }

// Dialect is "sqlite" or "postgres".
func (s *Store) Dialect() string { return s.d.name }

// dialect is what differs between the two back ends. Queries are written
// once with ? placeholders; rebind turns them into $n for Postgres.
type dialect struct {
	name   string // "sqlite" or "postgres"; also the migrations folder
	driver string // database/sql driver name
}

func parseDSN(dsn string) (dialect, string, error) {
	switch {
	case strings.HasPrefix(dsn, "sqlite:"):
		path := strings.TrimPrefix(dsn, "sqlite:")
		path = strings.TrimPrefix(path, "//")
		if path == "" {
			return dialect{}, "", fmt.Errorf("inboxsync: open: empty SQLite path in %q", dsn)
		}
		// busy_timeout first, so that setting WAL waits for a concurrent
		// opener; _txlock=immediate takes the write lock at BEGIN, so two
		// writers queue instead of failing on a lock upgrade.
		q := url.Values{}
		q.Add("_pragma", "busy_timeout(30000)")
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "foreign_keys(1)")
		q.Set("_txlock", "immediate")
		return dialect{name: "sqlite", driver: "sqlite"}, "file:" + path + "?" + q.Encode(), nil
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		return dialect{name: "postgres", driver: "pgx"}, dsn, nil
	}
	return dialect{}, "", errors.New(`inboxsync: open: the DSN must start with "sqlite:" or "postgres://"`)
}

// rebind rewrites ? placeholders as $1, $2, … for Postgres. The queries of
// this package hold no ? inside string literals.
func (d dialect) rebind(q string) string {
	if d.name != "postgres" || !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}

// timeLayout is how SQLite stores times: fixed width UTC, so that text
// order is time order.
const timeLayout = "2006-01-02T15:04:05.000000000Z"

// ts converts a time for a query argument: Postgres takes timestamptz,
// SQLite the fixed-width text. A nil or zero time is NULL.
func (d dialect) ts(t *time.Time) any {
	if t == nil || t.IsZero() {
		return nil
	}
	if d.name == "postgres" {
		return t.UTC()
	}
	return t.UTC().Format(timeLayout)
}

// wireTS converts a time as the API writes it (RFC 3339, UTC) for a query
// argument, like ts; "" is NULL. The API's usual form,
// 2018-12-20T14:25:57Z, is converted without parsing: a pass writes
// hundreds of thousands of them.
func (d dialect) wireTS(s string) (any, error) {
	if s == "" {
		return nil, nil
	}
	if isPlainUTC(s) {
		if d.name == "postgres" {
			return s, nil
		}
		return s[:19] + ".000000000Z", nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return nil, fmt.Errorf("time %q: %w", s, err)
	}
	return d.ts(&t), nil
}

// isPlainUTC reports whether s is exactly YYYY-MM-DDTHH:MM:SSZ with a
// valid date and time of day (what time.Parse accepts: no month 13, no
// February 30th, no second 60), without parsing it.
func isPlainUTC(s string) bool {
	if len(s) != 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[19] != 'Z' {
		return false
	}
	num := func(i, n int) int {
		v := 0
		for _, c := range []byte(s[i : i+n]) {
			if c < '0' || c > '9' {
				return -1
			}
			v = v*10 + int(c-'0')
		}
		return v
	}
	year, month, day := num(0, 4), num(5, 2), num(8, 2)
	hour, minute, second := num(11, 2), num(14, 2), num(17, 2)
	if year < 0 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59 {
		return false
	}
	days := [...]int{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}[month-1]
	if month == 2 && year%4 == 0 && (year%100 != 0 || year%400 == 0) {
		days = 29
	}
	return day <= days
}

// scanTime reads a time column written by ts.
func (d dialect) scanTime(v any) (time.Time, error) {
	switch v := v.(type) {
	case nil:
		return time.Time{}, nil
	case time.Time:
		return v.UTC(), nil
	case string:
		return time.Parse(timeLayout, v)
	case []byte:
		return time.Parse(timeLayout, string(v))
	}
	return time.Time{}, fmt.Errorf("inboxsync: unexpected time value %T", v)
}

// exec, query and queryRow run a ? query on the store's database or a
// transaction.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func (s *Store) exec(ctx context.Context, q querier, query string, args ...any) (sql.Result, error) {
	return q.ExecContext(ctx, s.d.rebind(query), args...)
}

func (s *Store) query(ctx context.Context, q querier, query string, args ...any) (*sql.Rows, error) {
	return q.QueryContext(ctx, s.d.rebind(query), args...)
}

func (s *Store) queryRow(ctx context.Context, q querier, query string, args ...any) *sql.Row {
	return q.QueryRowContext(ctx, s.d.rebind(query), args...)
}

// inTx runs fn in one transaction, committed when fn returns nil.
func (s *Store) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}
