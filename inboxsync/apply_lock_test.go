package inboxsync

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/go-bookingsync/bookingsync/inboxsync/internal/dbtest"
)

// A page of records takes the (account, resource) advisory lock before its
// upsert, in the same pipeline: while another session holds the lock, the
// page waits for it, and it writes once the lock is free.
func TestApplyTakesTheLockBeforeItsUpsert(t *testing.T) {
	ctx := context.Background()
	dsn := dbtest.Postgres(t)
	st, err := Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	other, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	holder, err := other.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	const acct = 7
	key := lockKey(acct, resConversations.name)
	if _, err := holder.ExecContext(ctx, "SELECT pg_advisory_lock($1)", key); err != nil {
		t.Fatal(err)
	}

	done := make(chan error, 1)
	go func() {
		_, err := st.apply(ctx, acct, resConversations, [][]byte{[]byte(`{"id": 1, "updated_at": "2026-01-01T00:00:00Z"}`)}, nil, write{})
		done <- err
	}()
	// The page's session waits on that very lock (a condition, not a
	// timing: the wait shows in pg_locks).
	deadline := time.Now().Add(30 * time.Second)
	for {
		var waiting int
		if err := other.QueryRowContext(ctx, "SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND ((classid::bigint << 32) | objid::bigint) = $1", key).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting == 1 {
			break
		}
		select {
		case err := <-done:
			t.Fatalf("the page was written while another session held its lock (err %v)", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("the page never waited for the lock")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := holder.ExecContext(ctx, "SELECT pg_advisory_unlock($1)", key); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	var n int
	if err := other.QueryRowContext(ctx, "SELECT COUNT(*) FROM conversations WHERE account_id = $1", acct).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatalf("%d conversations stored, want 1", n)
	}
}

// A page that lists a record twice stores the later copy, once, in one
// statement; the count of records written counts it once.
func TestApplyKeepsTheLastCopyOfARecordListedTwice(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		st, err := Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
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
	dbtest.Each(t, func(t *testing.T, dsn string) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		st, err := Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		const writers = 16
		until := time.Now().Add(time.Hour)
		errs := make(chan error, writers)
		for i := range writers {
			go func() {
				acct := int64(100 + i)
				if ok, err := st.acquireLease(ctx, acct, resConversations.name, "w", until); err != nil || !ok {
					errs <- fmt.Errorf("lease %d: %v %v", acct, ok, err)
					return
				}
				page := [][]byte{[]byte(fmt.Sprintf(`{"id": %d, "updated_at": "2026-01-01T00:00:00Z"}`, i+1))}
				_, err := st.apply(ctx, acct, resConversations, page, nil, write{holder: "w", leaseUntil: until})
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
	dbtest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		st, err := Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		const acct = 7
		until := time.Now().Add(time.Hour)
		if ok, err := st.acquireLease(ctx, acct, resConversations.name, "other", until); err != nil || !ok {
			t.Fatal("lease", ok, err)
		}
		synced := time.Now()
		page := [][]byte{[]byte(`{"id": 1, "updated_at": "2026-01-01T00:00:00Z"}`)}
		_, err = st.apply(ctx, acct, resConversations, page, []int64{2}, write{holder: "me", leaseUntil: until, cursor: &synced})
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
	ctx := context.Background()
	dsn := dbtest.Postgres(t)
	st, err := Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	st.db.SetMaxOpenConns(1) // the next page must reuse the abandoned page's connection or replace it
	other, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	holder, err := other.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	const acct = 7
	key := lockKey(acct, resConversations.name)
	if _, err := holder.ExecContext(ctx, "SELECT pg_advisory_lock($1)", key); err != nil {
		t.Fatal(err)
	}
	pctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		_, err := st.apply(pctx, acct, resConversations, [][]byte{[]byte(`{"id": 1}`)}, nil, write{})
		done <- err
	}()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var waiting int
		if err := other.QueryRowContext(ctx, "SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND ((classid::bigint << 32) | objid::bigint) = $1", key).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the page never waited for the lock")
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err == nil {
		t.Fatal("a cancelled page was written")
	}
	if _, err := holder.ExecContext(ctx, "SELECT pg_advisory_unlock($1)", key); err != nil {
		t.Fatal(err)
	}
	for id := 2; id <= 3; id++ {
		if _, err := st.apply(ctx, acct, resConversations, [][]byte{[]byte(fmt.Sprintf(`{"id": %d}`, id))}, nil, write{}); err != nil {
			t.Fatalf("page %d after the cancelled one: %v", id, err)
		}
	}
	var ids []int64
	rows, err := other.QueryContext(ctx, "SELECT id FROM conversations WHERE account_id = $1 ORDER BY id", acct)
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
