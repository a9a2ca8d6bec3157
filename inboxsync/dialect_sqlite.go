package inboxsync

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"modernc.org/sqlite" // the "sqlite" database/sql driver, pure Go
	sqlite3 "modernc.org/sqlite/lib"
)

// sqliteDialect is the embedded back end: one file, one writer at a time
// (every transaction takes the write lock at BEGIN), WAL for concurrent
// readers.
type sqliteDialect struct {
	dsn   *sqliteDSN // parsed (dsn.go)
	db    *sql.DB
	pin   *sql.Conn // sqlite::memory:'s database lives while a connection does
	tidy  bool      // read-only, and the file had no -wal or -shm: leave none (close)
	stmts sync.Map  // query → *sql.Stmt, the fixed steps kept prepared
}

func (d *sqliteDialect) name() string { return "sqlite" }

func (d *sqliteDialect) openDB() (*sql.DB, error) {
	db, err := sql.Open("sqlite", d.dsn.driver)
	if err != nil {
		return nil, err
	}
	// One writer at a time is all SQLite allows; a small pool keeps
	// readers concurrent (WAL) without piling up busy writers.
	db.SetMaxOpenConns(4)
	db.SetConnMaxIdleTime(5 * time.Minute)
	d.db = db
	if d.dsn.readOnly && !d.dsn.memory {
		_, werr := os.Stat(d.dsn.path + "-wal")
		_, serr := os.Stat(d.dsn.path + "-shm")
		d.tidy = errors.Is(werr, os.ErrNotExist) && errors.Is(serr, os.ErrNotExist)
	}
	if d.dsn.memory {
		if d.pin, err = db.Conn(context.Background()); err != nil {
			db.Close()
			return nil, err
		}
	}
	return db, nil
}

func (d *sqliteDialect) readOnly() bool { return d.dsn.readOnly }

// explain names the file and, when the driver could not open it, the
// likely reason (the driver's message names neither).
func (d *sqliteDialect) explain(err error) error {
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_PERM, sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_AUTH, sqlite3.SQLITE_IOERR:
			return d.dsn.explain(err)
		}
	}
	return fmt.Errorf("inboxsync: open %s: %w", RedactDSN(d.dsn.raw), err)
}

// retryOpen: processes opening a new SQLite file together can meet
// "database is locked" once: switching the file to WAL takes an exclusive
// lock without waiting for busy_timeout. The file is in WAL mode for good
// once one of them has switched it, so a retry succeeds.
func (d *sqliteDialect) retryOpen(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_BUSY
}

// sqliteClock is db_clock(?): the fixed-width UTC text of timeLayout
// (strftime gives milliseconds; the zeros pad it to nanoseconds), offset
// by the argument's milliseconds.
const sqliteClock = "(strftime('%Y-%m-%dT%H:%M:%f', 'now', printf('%+.3f seconds', ? / 1000.0)) || '000000Z')"

// rebind keeps the ? placeholders, which SQLite takes as they are.
func (d *sqliteDialect) rebind(q string) string {
	if !strings.Contains(q, clockSQL) {
		return q
	}
	return strings.ReplaceAll(q, clockSQL, sqliteClock)
}

func (d *sqliteDialect) timeArg(t time.Time) any { return t.Format(timeLayout) }

func (d *sqliteDialect) plainUTCArg(s string) any { return s[:19] + ".000000000Z" }

// runSteps runs the steps in one transaction (BEGIN IMMEDIATE: it is the
// only writer until it ends), the fixed ones kept prepared.
func (d *sqliteDialect) runSteps(ctx context.Context, steps []*step, check func() error) error {
	// Fixed statements are prepared before the transaction holds a
	// connection of the pool: preparing one inside it could wait for a
	// second connection while every one is held.
	stmts := make([]*sql.Stmt, len(steps))
	for i, st := range steps {
		if st.fixed {
			var err error
			if stmts[i], err = d.prepared(ctx, st.query); err != nil {
				return err
			}
		}
	}
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for i, st := range steps {
		var res sql.Result
		if stmts[i] != nil {
			res, err = tx.StmtContext(ctx, stmts[i]).ExecContext(ctx, st.args...)
		} else {
			res, err = tx.ExecContext(ctx, d.rebind(st.query), st.args...)
		}
		if err != nil {
			return err
		}
		if st.n, err = res.RowsAffected(); err != nil {
			return err
		}
	}
	if err := check(); err != nil {
		return err
	}
	return tx.Commit()
}

// prepared returns query prepared on the store's database, once. Only
// fixed queries come here, so the cache stays small.
func (d *sqliteDialect) prepared(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := d.stmts.Load(query); ok {
		return st.(*sql.Stmt), nil
	}
	st, err := d.db.PrepareContext(ctx, d.rebind(query))
	if err != nil {
		return nil, err
	}
	if kept, loaded := d.stmts.LoadOrStore(query, st); loaded {
		st.Close()
		return kept.(*sql.Stmt), nil
	}
	return st, nil
}

// writeLock: every SQLite transaction here is already the only writer.
func (d *sqliteDialect) writeLock(int64) *step { return nil }

// skipLocked: a claiming UPDATE runs alone anyway.
func (d *sqliteDialect) skipLocked() string { return "" }

// appendLock: SQLite's writers take turns from BEGIN IMMEDIATE.
func (d *sqliteDialect) appendLock() *step { return nil }

func (d *sqliteDialect) notify(channel, payload string) *step { return nil }

// changePoll: other processes' changes are seen by looking.
func (d *sqliteDialect) changePoll() (time.Duration, bool) { return 250 * time.Millisecond, false }

func (d *sqliteDialect) listen(context.Context, string, func(string), func()) error {
	return errors.New("inboxsync: SQLite has no notifications")
}

func (d *sqliteDialect) uniqueViolation(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE
}

// searchWhere: FTS5 "word"* … (every word, as a prefix) in the tables the
// triggers keep, keyed by the records' ids.
func (d *sqliteDialect) searchWhere(accountID int64, words []string) (string, []any) {
	q := `"` + strings.Join(words, `"* "`) + `"*`
	return `c.id IN (SELECT m.conversation_id FROM messages_search f
	JOIN messages m ON m.account_id = ? AND m.id = f.rowid WHERE messages_search MATCH ?
UNION SELECT f.rowid FROM conversations_search f WHERE conversations_search MATCH ?
UNION SELECT p.conversation_id FROM clients_search f
	JOIN participants p ON p.account_id = ? AND p.member_type = 'Client' AND p.member_id = f.rowid
	WHERE clients_search MATCH ?)`,
		[]any{accountID, q, q, accountID, q}
}

// The row locks: held for rowLockTTL past each renewal, renewed every
// rowLockTTL/3, polled every rowLockPoll while another holds them.
const (
	rowLockTTL  = 15 * time.Second
	rowLockPoll = 10 * time.Millisecond
)

// lock takes the row called name in fleet_locks when it is free or
// expired, by the database's clock, and renews it until unlocked: SQLite
// has no advisory locks, and a dead holder's row expires.
func (d *sqliteDialect) lock(ctx context.Context, s *Store, name string) (func(), error) {
	holder := newHolderID()
	take := `INSERT INTO fleet_locks (name, holder, expires_at) VALUES (?, ?, db_clock(?))
ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
WHERE fleet_locks.expires_at < db_clock(?)`
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-t.C:
		}
		res, err := s.exec(ctx, d.db, take, name, holder, s.clockAt(rowLockTTL), s.clockAt(0))
		if err != nil {
			return nil, err
		}
		if n, _ := res.RowsAffected(); n == 1 {
			break
		}
		t.Reset(rowLockPoll)
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(rowLockTTL / 3)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				s.exec(context.Background(), d.db, `UPDATE fleet_locks SET expires_at = db_clock(?) WHERE name = ? AND holder = ?`,
					s.clockAt(rowLockTTL), name, holder)
			}
		}
	}()
	return func() {
		close(stop)
		<-done
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		// Left behind on failure, the row expires on its own.
		s.exec(ctx, d.db, `DELETE FROM fleet_locks WHERE name = ? AND holder = ?`, name, holder)
	}, nil
}

func (d *sqliteDialect) tableColumns() string { return "SELECT name FROM pragma_table_info(?)" }

// migrateLock: the migrations' transaction (BEGIN IMMEDIATE) serializes
// openers, busy_timeout making them wait.
func (d *sqliteDialect) migrateLock(context.Context, *sql.Conn) (func(), error) {
	return func() {}, nil
}

// controlDB is the store's pool: writers queue on the file anyway.
func (d *sqliteDialect) controlDB() (*sql.DB, error) { return d.db, nil }

func (d *sqliteDialect) close() {
	if d.pin != nil {
		d.pin.Close()
	}
	d.stmts.Range(func(_, st any) bool {
		st.(*sql.Stmt).Close()
		return true
	})
	if d.tidy {
		d.db.Close()
		d.removeWAL()
	}
}

// removeWAL removes the -wal and -shm files a read-only store's
// connections created next to a file that had none: a read-only
// connection to a WAL database creates them and, unable to checkpoint,
// leaves them. A plain connection opened and closed does what SQLite does
// when the last connection to a file closes: with nothing in the WAL, it
// removes both, leaving the database file as it was; while another
// connection (a writer elsewhere) has the file open, it removes nothing.
func (d *sqliteDialect) removeWAL() {
	db, err := sql.Open("sqlite", "file:"+escapedPath(d.dsn.path)+"?mode=rw")
	if err != nil {
		return
	}
	defer db.Close()
	db.Exec("SELECT 1 FROM sqlite_master LIMIT 1")
}
