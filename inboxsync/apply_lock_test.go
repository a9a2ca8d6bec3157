package inboxsync

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/go-bookingsync/bookingsync/inboxsync/internal/dbtest"
)

// A page of records takes the (account, resource) advisory lock inside its
// upsert statement: while another session holds the lock, the page waits
// for it, and it writes once the lock is free.
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
