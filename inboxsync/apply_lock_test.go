package inboxsync

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/go-bookingsync/bookingsync/inboxsync/internal/dbtest"
	"github.com/go-bookingsync/bookingsync/inboxsync/internal/testsignal"
)

// A page of records takes the (account, resource) advisory lock before its
// upsert, in the same pipeline: while another session holds the lock, the
// page waits for it, and it writes once the lock is free.
func TestApplyTakesTheLockBeforeItsUpsert(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const acct = 7
	l := holdLock(t, acct)
	done := make(chan error, 1)
	go func() {
		_, err := l.st.apply(ctx, acct, resConversations, [][]byte{[]byte(`{"id": 1, "updated_at": "2026-01-01T00:00:00Z"}`)}, nil, write{})
		done <- err
	}()
	l.waitForWaiter(t, done)
	l.release(t)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	var n int
	if err := l.other.QueryRowContext(ctx, "SELECT COUNT(*) FROM conversations WHERE account_id = $1", acct).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatalf("%d conversations stored, want 1", n)
	}
}

// lockHeld is a store on a Postgres database of the test's own and
// another session that holds the advisory lock of (account,
// conversations).
type lockHeld struct {
	st     *Store
	other  *sql.DB
	holder *sql.Conn
	key    int64
}

func holdLock(t *testing.T, acct int64) *lockHeld {
	ctx := context.Background()
	dsn := dbtest.Postgres(t)
	st := mustOpen(t, dsn)
	other, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { other.Close() })
	holder, err := other.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { holder.Close() })
	l := &lockHeld{st: st, other: other, holder: holder, key: writeLockKey(acct, resConversations.name)}
	if _, err := holder.ExecContext(ctx, "SELECT pg_advisory_lock($1)", l.key); err != nil {
		t.Fatal(err)
	}
	return l
}

// waitForWaiter returns once a session waits for the lock (a condition,
// not a timing: the wait shows in pg_locks, which lists every database's
// locks: the test's own database is the one looked at, so that tests run
// in parallel); it fails if done delivers first, the write having gone
// through without the lock.
func (l *lockHeld) waitForWaiter(t *testing.T, done <-chan error) {
	t.Helper()
	testsignal.Eventually(t, "a session waiting for the lock", func() bool {
		var waiting int
		if err := l.other.QueryRowContext(context.Background(), "SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND ((classid::bigint << 32) | objid::bigint) = $1 AND database = (SELECT oid FROM pg_database WHERE datname = current_database())", l.key).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-done:
			t.Fatalf("the page was written while another session held its lock (err %v)", err)
		default:
		}
		return waiting == 1
	})
}

// mustOpen opens the store at dsn for the test.
func mustOpen(t *testing.T, dsn string) *Store {
	t.Helper()
	st, err := Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// release frees the lock.
func (l *lockHeld) release(t *testing.T) {
	if _, err := l.holder.ExecContext(context.Background(), "SELECT pg_advisory_unlock($1)", l.key); err != nil {
		t.Fatal(err)
	}
}

// A page that lists a record twice stores the later copy, once, in one
// statement; the count of records written counts it once.
func TestApplyKeepsTheLastCopyOfARecordListedTwice(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		st := mustOpen(t, dsn)
		first := `{"id": 1, "subject": "first", "updated_at": "2026-01-01T00:00:00Z"}`
		other := `{"id": 2, "subject": "other", "updated_at": "2026-01-01T00:00:00Z"}`
		last := `{"id": 1, "subject": "last", "updated_at": "2026-01-01T00:00:01Z"}`
		n, err := st.apply(ctx, 7, resConversations, [][]byte{[]byte(first), []byte(other), []byte(last)}, nil, write{})
		if err != nil {
			t.Fatal(err)
		}
		if n.Upserted != 2 {
			t.Errorf("Upserted = %d, want 2", n.Upserted)
		}
		var subject, raw string
		if err := st.db.QueryRowContext(ctx, "SELECT subject, raw FROM conversations WHERE account_id = 7 AND id = 1").Scan(&subject, &raw); err != nil {
			t.Fatal(err)
		}
		if subject != "last" || raw != last {
			t.Errorf("stored %q, %s; want the last copy", subject, raw)
		}
	})
}

// Pages written at once by more writers than the pool has connections,
// each under a lease and on a store whose statements are not yet prepared,
// all land: a fixed statement is prepared before its transaction holds a
// connection, never while it waits for a second one.
func TestApplyConcurrentWritersOnAFreshStore(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dsn string) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		st := mustOpen(t, dsn)
		const writers = 16
		const ttl = time.Hour
		errs := make(chan error, writers)
		for i := range writers {
			go func() {
				acct := int64(100 + i)
				if ok, err := st.acquireLease(ctx, acct, resConversations.name, "w", ttl); err != nil || !ok {
					errs <- fmt.Errorf("lease %d: %v %v", acct, ok, err)
					return
				}
				page := [][]byte{[]byte(fmt.Sprintf(`{"id": %d, "updated_at": "2026-01-01T00:00:00Z"}`, i+1))}
				_, err := st.apply(ctx, acct, resConversations, page, nil, write{holder: "w", leaseTTL: ttl})
				errs <- err
			}()
		}
		for range writers {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
	})
}

// A page written under a lease another replica has taken is refused with
// errLeaseLost, and nothing of it is written.
func TestApplyUnderALostLeaseWritesNothing(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		st := mustOpen(t, dsn)
		const acct = 7
		const ttl = time.Hour
		if ok, err := st.acquireLease(ctx, acct, resConversations.name, "other", ttl); err != nil || !ok {
			t.Fatal("lease", ok, err)
		}
		synced := time.Now()
		page := [][]byte{[]byte(`{"id": 1, "updated_at": "2026-01-01T00:00:00Z"}`)}
		_, err := st.apply(ctx, acct, resConversations, page, []int64{2}, write{holder: "me", leaseTTL: ttl, cursor: &synced})
		if !errors.Is(err, errLeaseLost) {
			t.Fatalf("apply under another's lease: %v, want errLeaseLost", err)
		}
		var rows, tombstones, cursors int
		if err := st.db.QueryRowContext(ctx, "SELECT (SELECT COUNT(*) FROM conversations), (SELECT COUNT(*) FROM sync_tombstones), (SELECT COUNT(*) FROM sync_cursors)").Scan(&rows, &tombstones, &cursors); err != nil {
			t.Fatal(err)
		}
		if rows+tombstones+cursors != 0 {
			t.Fatalf("%d records, %d tombstones, %d cursors written under a lost lease", rows, tombstones, cursors)
		}
	})
}

// On Postgres a page whose context ends while it waits for its lock is not
// committed, and its connection does not go back to the pool inside the
// transaction: the next pages are written, and the abandoned one never is.
func TestApplyCancelledInThePipeline(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const acct = 7
	l := holdLock(t, acct)
	l.st.db.SetMaxOpenConns(1) // the next page must reuse the abandoned page's connection or replace it
	pctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		_, err := l.st.apply(pctx, acct, resConversations, [][]byte{[]byte(`{"id": 1}`)}, nil, write{})
		done <- err
	}()
	l.waitForWaiter(t, done)
	cancel()
	if err := <-done; err == nil {
		t.Fatal("a cancelled page was written")
	}
	l.release(t)
	for id := 2; id <= 3; id++ {
		if _, err := l.st.apply(ctx, acct, resConversations, [][]byte{[]byte(fmt.Sprintf(`{"id": %d}`, id))}, nil, write{}); err != nil {
			t.Fatalf("page %d after the cancelled one: %v", id, err)
		}
	}
	var ids []int64
	rows, err := l.other.QueryContext(ctx, "SELECT id FROM conversations WHERE account_id = $1 ORDER BY id", acct)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if fmt.Sprint(ids) != "[2 3]" {
		t.Fatalf("stored %v, want [2 3]", ids)
	}
}
