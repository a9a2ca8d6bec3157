package inboxsync

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib" // and the "pgx" database/sql driver
)

// postgresDialect is the back end shared by replicas: times are
// timestamptz, locks are advisory locks, a page's write goes to the server
// in one pipeline.
type postgresDialect struct {
	dsn string
	db  *sql.DB

	mu       sync.Mutex
	lockPool *sql.DB // connections that hold session locks; the fleet's bookkeeping
}

func newPostgres(dsn string) *postgresDialect { return &postgresDialect{dsn: dsn} }

func (d *postgresDialect) name() string { return "postgres" }

func (d *postgresDialect) openDB() (*sql.DB, error) {
	db, err := sql.Open("pgx", d.dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(8)
	db.SetConnMaxIdleTime(5 * time.Minute)
	d.db = db
	return db, nil
}

// readOnly: a Postgres store is opened for writing (its user's rights
// decide what it may write).
func (d *postgresDialect) readOnly() bool { return false }

// explain names the server, the DSN redacted: pgx's connect error names
// the host and user, never the password.
func (d *postgresDialect) explain(err error) error {
	return fmt.Errorf("inboxsync: open %s: %w", RedactDSN(d.dsn), err)
}

// retryOpen: a failed migration is the server's answer.
func (d *postgresDialect) retryOpen(error) bool { return false }

// postgresClock is db_clock(?): the server's clock as it reads now (not
// the transaction's start), offset by the argument's milliseconds.
const postgresClock = "(clock_timestamp() + ? * interval '1 millisecond')"

// rebind writes ? placeholders as $1, $2, …. The queries of this package
// hold no ? inside string literals.
func (d *postgresDialect) rebind(q string) string {
	if !strings.Contains(q, "?") {
		return q
	}
	q = strings.ReplaceAll(q, clockSQL, postgresClock)
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

func (d *postgresDialect) timeArg(t time.Time) any { return t }

// plainUTCArg: the server parses the API's form as it is.
func (d *postgresDialect) plainUTCArg(s string) any { return s }

// runSteps sends BEGIN and every step, then COMMIT, in one pipeline
// through pgx's batch on one of the pool's connections (pgx keeps every
// statement prepared): a page costs two round trips however many
// statements it takes, where one at a time, after database/sql's BEGIN, it
// took one more than the statements. Each statement still takes its
// snapshot when it starts, so one that follows the write lock sees what
// the lock's previous holder committed.
func (d *postgresDialect) runSteps(ctx context.Context, steps []*step, check func() error) error {
	conn, err := d.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		pc := dc.(*stdlib.Conn).Conn()
		var b pgx.Batch
		b.Queue("BEGIN")
		for _, st := range steps {
			b.Queue(d.rebind(st.query), st.args...)
		}
		br := pc.SendBatch(ctx, &b)
		_, err := br.Exec() // BEGIN
		for _, st := range steps {
			if err != nil {
				break
			}
			tag, serr := br.Exec()
			st.n, err = tag.RowsAffected(), serr
		}
		if cerr := br.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = check()
		}
		if err == nil {
			err = ctx.Err() // ended while the steps ran: nothing is committed
		}
		end := "COMMIT"
		if err != nil {
			end = "ROLLBACK"
		}
		// A connection whose transaction did not end (ctx ended, or the
		// connection broke) is not reused: the driver drops a connection
		// still in a transaction when the pool hands it out again.
		if _, xerr := pc.Exec(ctx, end); xerr != nil && err == nil {
			err = xerr
		}
		return err
	})
}

// writeLock is a transaction advisory lock: SQLite's BEGIN IMMEDIATE
// serializes every writer, Postgres's transactions only those of one key.
func (d *postgresDialect) writeLock(key int64) *step {
	return &step{query: "SELECT pg_advisory_xact_lock(?)", args: []any{key}, fixed: true}
}

// skipLocked locks the candidates, passing over those another claimer
// holds instead of queueing on them.
func (d *postgresDialect) skipLocked() string { return " FOR UPDATE SKIP LOCKED" }

// appendLock locks the counter's row until the commit: an appender waits
// for the one before it to commit, then reads the highest Seq.
func (d *postgresDialect) appendLock() *step {
	return &step{query: "SELECT seq FROM change_counter WHERE id = 1 FOR UPDATE", fixed: true}
}

// notify: NOTIFY, sent at commit.
func (d *postgresDialect) notify(channel, payload string) *step {
	return &step{query: "SELECT pg_notify(?, ?)", args: []any{channel, payload}, fixed: true}
}

// changePoll: LISTEN tells of other processes' changes; the poll is the
// fallback for a notification lost while the connection was down.
func (d *postgresDialect) changePoll() (time.Duration, bool) { return 5 * time.Second, true }

// listen holds a pgx connection of its own, not one of the pool's.
func (d *postgresDialect) listen(ctx context.Context, channel string, fn func(payload string), connected func()) error {
	conn, err := pgx.Connect(ctx, d.dsn)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{channel}.Sanitize()); err != nil {
		return err
	}
	connected()
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		fn(n.Payload)
	}
}

func (d *postgresDialect) uniqueViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505" // unique_violation
}

// searchWhere: to_tsquery('simple', 'word:* & …') against the GIN indexes
// on to_tsvector('simple', …), each expression the index's word for word
// (message_search_text: migration projection/0005).
func (d *postgresDialect) searchWhere(accountID int64, words []string) (string, []any) {
	q := strings.Join(words, ":* & ") + ":*"
	return `c.id IN (SELECT m.conversation_id FROM messages m
	WHERE m.account_id = ? AND to_tsvector('simple', message_search_text(m.raw)) @@ to_tsquery('simple', ?)
UNION SELECT s.id FROM conversations s
	WHERE s.account_id = ? AND to_tsvector('simple', COALESCE(s.subject, '')) @@ to_tsquery('simple', ?)
UNION SELECT p.conversation_id FROM clients g
	JOIN participants p ON p.account_id = g.account_id AND p.member_type = 'Client' AND p.member_id = g.id
	WHERE g.account_id = ? AND to_tsvector('simple', COALESCE(g.fullname, '')) @@ to_tsquery('simple', ?))`,
		[]any{accountID, q, accountID, q, accountID, q}
}

// lock holds a session advisory lock on a connection of the lock pool,
// apart from the store's pool: a holder that needs the store meanwhile
// (to note the rate budget, to save a token) never starves it. The server
// frees it when the holder dies or its connection drops.
func (d *postgresDialect) lock(ctx context.Context, _ *Store, name string) (func(), error) {
	pool, err := d.controlDB()
	if err != nil {
		return nil, err
	}
	conn, err := pool.Conn(ctx)
	if err != nil {
		return nil, err
	}
	key := namedLockKey(name)
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", key); err != nil {
		// Cancelled while waiting, the lock may have been granted all the
		// same: dropping the session frees it.
		discard(conn)
		return nil, err
	}
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_unlock($1)", key); err != nil {
			discard(conn)
			return
		}
		conn.Close()
	}, nil
}

// discard closes conn's session instead of returning it to the pool.
func discard(conn *sql.Conn) {
	conn.Raw(func(any) error { return driver.ErrBadConn })
	conn.Close()
}

func (d *postgresDialect) tableColumns() string {
	return "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ?"
}

// pgMigrateLock is the advisory lock key serializing migrations across
// replicas: the first eight bytes of "inboxsyn" as a bigint.
const pgMigrateLock = 0x696e626f7873796e

// migrateLock holds a session advisory lock on conn for the whole run, so
// that replicas starting together queue and the later ones find nothing
// left to do.
func (d *postgresDialect) migrateLock(ctx context.Context, conn *sql.Conn) (func(), error) {
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", int64(pgMigrateLock)); err != nil {
		return nil, err
	}
	return func() {
		conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", int64(pgMigrateLock))
	}, nil
}

// controlDB opens, once, the pool of lock connections: each session lock
// in use in this process takes one (within a process one per name at
// most), and the fleet's bookkeeping runs there, apart from the
// connections the syncs keep busy.
func (d *postgresDialect) controlDB() (*sql.DB, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.lockPool == nil {
		db, err := sql.Open("pgx", d.dsn)
		if err != nil {
			return nil, err
		}
		db.SetMaxIdleConns(2)
		db.SetConnMaxIdleTime(time.Minute)
		d.lockPool = db
	}
	return d.lockPool, nil
}

func (d *postgresDialect) close() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.lockPool != nil {
		d.lockPool.Close()
		d.lockPool = nil
	}
}
