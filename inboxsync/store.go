package inboxsync

import (
	"context"
	"crypto/cipher"
	"database/sql"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/go-bookingsync/bookingsync/inboxsync/internal/testsignal"
)

// ErrNotFound is returned by the read side when the local copy has no such
// record.
var ErrNotFound = errors.New("inboxsync: not found")

// Store is the local copy: one database, SQLite or Postgres, holding any
// number of accounts. It is safe for concurrent use, and several processes
// (replicas) may open the same database at once.
type Store struct {
	db *sql.DB
	d  dialect // what differs between SQLite and Postgres (dialect.go)

	locks    keyedMutex                  // one holder per lock name within this process (leases.go)
	tokenKey atomic.Pointer[cipher.AEAD] // seals tokens at rest, once SealTokens set it (fleet_tokens.go)

	// clockShift moves the database's clock as this store reads it
	// (clockAt): tests make time pass for leases without waiting.
	clockShift atomic.Int64 // nanoseconds

	queries      atomic.Int64 // statements run through exec, query and queryRow (tests count them)
	outboxSignal signal       // Enqueue wakes this process's deliverers (deliver.go)
	gauges       storeGauges  // the observable series (metrics.go)
	changeSignal signal       // appends wake this process's WaitChanges (changes.go)
	// waiting is signalled when a WaitChanges found nothing new and
	// waits, with the account: a test writes then (inert unless armed).
	waiting   testsignal.Signal[int64]
	listener  changeListener // Postgres: LISTEN for other processes' appends
	retention atomic.Int64   // SetChangeRetention; 0: DefaultChangeRetention
}

// Open opens the projection at dsn, creating or migrating its schema:
//
//	"sqlite:/path/inbox.db"          the embedded default (pure Go, no cgo), WAL mode
//	"sqlite:/path/inbox.db?mode=ro"  the same copy, read-only
//	"sqlite::memory:"                one in-memory database per Open, shared by its connections
//	"postgres://…"                   shared by several replicas ("postgresql://" too)
//
// A SQLite path is everything between "sqlite:" and the first "?", taken
// literally (no percent-decoding; "#" and "%" are part of the name); what
// follows the first "?" is parameters in URL query syntax, passed on to
// SQLite and its driver: mode (ro, rw, rwc), cache, immutable, nolock,
// psow, vfs, _pragma (repeatable), and the driver's shorthands
// (_busy_timeout, _journal_mode, _foreign_keys, _synchronous,
// _auto_vacuum, _query_only). A parameter outside that list is refused,
// so a path holding a "?" cannot be written (rename the file or link to
// it). Every connection gets busy_timeout(30000), journal_mode(WAL) and
// foreign_keys(1) unless the DSN sets the same pragma.
//
// A read-only open (mode=ro or immutable=1) is opened as WithoutMigrate
// says, and writes nothing to the file or next to it; the store refuses
// to sync, install or migrate (ErrReadOnly).
//
// Migrations are embedded and versioned; replicas that open the same
// database at once apply each migration exactly once (Postgres: under an
// advisory lock; SQLite: inside one write transaction). With
// WithoutMigrate, Open changes no schema and fails with a
// *SchemaBehindError when a migration is pending (see Migrate). Errors
// name the database (the DSN through RedactDSN) and, for a SQLite file
// that cannot be opened, the likely reason.
func Open(ctx context.Context, dsn string, opts ...OpenOption) (*Store, error) {
	var o openOptions
	for _, opt := range opts {
		opt(&o)
	}
	s, err := openDB(dsn)
	if err != nil {
		return nil, err
	}
	if o.withoutMigrate || s.ReadOnly() {
		err = s.checkSchema(ctx)
	} else {
		_, err = s.migrate(ctx)
	}
	if err != nil {
		s.Close()
		return nil, s.d.explain(err)
	}
	return s, nil
}

// OpenOption changes how Open opens a store.
type OpenOption func(*openOptions)

type openOptions struct {
	withoutMigrate bool
}

// WithoutMigrate opens a store without touching its schema, for a role
// that may not change it (a Postgres role without DDL rights, a read-only
// reporter): Open only checks that every migration of this release is
// applied, and fails with a *SchemaBehindError naming those that are not.
// Migrate, or `bookingsync db migrate`, applies them.
func WithoutMigrate() OpenOption {
	return func(o *openOptions) { o.withoutMigrate = true }
}

// openDB opens the store's pool at dsn, its schema as it is.
func openDB(dsn string) (*Store, error) {
	d, err := parseDSN(dsn)
	if err != nil {
		return nil, err
	}
	db, err := d.openDB()
	if err != nil {
		return nil, fmt.Errorf("inboxsync: open %s: %w", RedactDSN(dsn), err)
	}
	return &Store{db: db, d: d}, nil
}

// ReadOnly reports whether the store was opened read-only (a SQLite DSN
// with mode=ro or immutable=1).
func (s *Store) ReadOnly() bool { return s.d.readOnly() }

// writable is nil unless the store is read-only; what writes checks it
// first, for a clear error rather than the database's.
func (s *Store) writable(what string) error {
	if s.d.readOnly() {
		return fmt.Errorf("inboxsync: %s: %w", what, ErrReadOnly)
	}
	return nil
}

// Close closes the database.
func (s *Store) Close() error {
	s.stopListening()
	s.d.close()
	return s.db.Close()
}

// DB is the underlying database, for the caller's own queries against the
// documented schema (see the package documentation).
func (s *Store) DB() *sql.DB { return s.db }

// Dialect is "sqlite" or "postgres".
func (s *Store) Dialect() string { return s.d.name() }

// clockAt is the argument of db_clock(?) for the database's clock plus
// offset: every time the fleet and the leases write or compare is the
// database's, whatever each replica's own clock says.
func (s *Store) clockAt(offset time.Duration) int64 {
	return (offset + time.Duration(s.clockShift.Load())).Milliseconds()
}

// exec, query and queryRow run a ? query on the store's database or a
// transaction.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func (s *Store) exec(ctx context.Context, q querier, query string, args ...any) (sql.Result, error) {
	s.queries.Add(1)
	return q.ExecContext(ctx, s.d.rebind(query), args...)
}

func (s *Store) query(ctx context.Context, q querier, query string, args ...any) (*sql.Rows, error) {
	s.queries.Add(1)
	return q.QueryContext(ctx, s.d.rebind(query), args...)
}

func (s *Store) queryRow(ctx context.Context, q querier, query string, args ...any) *sql.Row {
	s.queries.Add(1)
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
