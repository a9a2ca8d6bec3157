package inboxsync

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// dialect is everything that differs between the two back ends, after
// river's riverdriver but kept to what this package needs; the rest of the
// package writes its SQL once and never asks which back end it runs on.
// dialect_sqlite.go and dialect_postgres.go implement it, one value per
// Store (it holds the back end's own connections and statements).
//
// Queries are written with ? placeholders and, for the database's clock,
// db_clock(?): the clock plus an offset in milliseconds (the argument,
// Store.clockAt). rebind turns both into the back end's SQL.
type dialect interface {
	// name is "sqlite" or "postgres": Store.Dialect and the folder of the
	// migrations.
	name() string
	// openDB opens the store's pool, with the back end's pool settings.
	openDB() (*sql.DB, error)
	// readOnly reports whether the DSN opens the database read-only: Open
	// then checks the schema instead of migrating it, and the store
	// refuses writes (ErrReadOnly).
	readOnly() bool
	// explain turns the error of the store's first connection into one
	// that names the database and the reason, the DSN redacted.
	explain(err error) error
	// retryOpen reports whether a first migration that failed with err may
	// succeed if tried again (Open retries it a few times).
	retryOpen(err error) bool
	// rebind turns a query's ? placeholders and db_clock(?) into the back
	// end's SQL.
	rebind(query string) string

	// timeArg is a (non-zero, UTC) time as a query argument; plainUTCArg
	// is the API's usual form of one, YYYY-MM-DDTHH:MM:SSZ (isPlainUTC),
	// converted without parsing. scanTime reads either back.
	timeArg(t time.Time) any
	plainUTCArg(s string) any

	// runSteps runs steps in order in one transaction, and commits it if
	// check, called once every step has run, returns nil (the write
	// pipeline: a page's write, see apply).
	runSteps(ctx context.Context, steps []*step, check func() error) error
	// writeLock is the step that serializes, within runSteps's
	// transaction, the writers of key; nil when the back end's
	// transactions are serialized anyway.
	writeLock(key int64) *step
	// appendLock is the step that makes the change feed's appenders take
	// turns until each commits (changeSteps); nil when the back end's
	// writers take turns anyway.
	appendLock() *step
	// notify is the step that notifies channel's listeners with payload
	// when the transaction commits; nil when the back end has no
	// notifications.
	notify(channel, payload string) *step
	// changePoll is how often WaitChanges looks for other processes'
	// changes, and whether listen tells of them sooner.
	changePoll() (poll time.Duration, listens bool)
	// listen holds a connection of its own listening on channel and calls
	// fn with each notification's payload until ctx ends or the connection
	// fails; connected is called once it listens (what was notified while
	// no connection listened is lost: the caller looks again then).
	listen(ctx context.Context, channel string, fn func(payload string), connected func()) error
	// uniqueViolation reports a unique constraint's refusal of a write.
	uniqueViolation(err error) bool
	// searchWhere is the condition on conversations c that one message's
	// content, the subject or the guest's name holds every one of words
	// (letters and digits only, see searchWords), each as a word or a
	// word's start, and its arguments (InboxQuery.Search); the indexes of
	// migration projection/0004_inbox.sql serve it.
	searchWhere(accountID int64, words []string) (string, []any)
	// skipLocked is what follows the subquery choosing rows to claim in an
	// UPDATE … WHERE id IN (SELECT …): candidates another claimer has
	// locked are passed over rather than waited for.
	skipLocked() string

	// lock takes the lock called name across every process sharing the
	// database (the within-process queue comes first, Store.lock).
	lock(ctx context.Context, s *Store, name string) (unlock func(), err error)
	// tableColumns is the query listing, one row each, the column names
	// of the table its one argument names (none: no such table).
	tableColumns() string
	// migrateLock serializes migrations across processes; conn then runs
	// the migrations' transaction.
	migrateLock(ctx context.Context, conn *sql.Conn) (unlock func(), err error)
	// controlDB is the pool of the fleet's bookkeeping (leases,
	// heartbeats), which must not wait behind busy syncs.
	controlDB() (*sql.DB, error)
	// close releases what the dialect holds besides the store's pool.
	close()
}

// clockSQL is how queries name the database's clock plus an offset: the
// dialects' rebind replace it.
const clockSQL = "db_clock(?)"

// ts converts a time for a query argument; a nil or zero time is NULL.
func ts(d dialect, t *time.Time) any {
	if t == nil || t.IsZero() {
		return nil
	}
	return d.timeArg(t.UTC())
}

// wireTS converts a time as the API writes it (RFC 3339, UTC) for a query
// argument, like ts; "" is NULL. The API's usual form,
// 2018-12-20T14:25:57Z, is converted without parsing: a pass writes
// hundreds of thousands of them.
func wireTS(d dialect, s string) (any, error) {
	if s == "" {
		return nil, nil
	}
	if isPlainUTC(s) {
		return d.plainUTCArg(s), nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return nil, fmt.Errorf("time %q: %w", s, err)
	}
	return ts(d, &t), nil
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

// timeLayout is how SQLite stores times: fixed width UTC, so that text
// order is time order.
const timeLayout = "2006-01-02T15:04:05.000000000Z"

// scanTime reads a time column, as either back end returns it.
func scanTime(v any) (time.Time, error) {
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
