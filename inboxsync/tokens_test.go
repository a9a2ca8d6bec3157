package inboxsync_test

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/go-bookingsync/bookingsync"
	"github.com/go-bookingsync/bookingsync/inboxsync"
	"github.com/go-bookingsync/bookingsync/inboxsync/internal/dbtest"
	"golang.org/x/oauth2"
)

// openStore opens dsn for the test, closed at its end.
func openStore(t testing.TB, dsn string) *inboxsync.Store {
	t.Helper()
	st, err := inboxsync.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func TestTokenStoreSaveLoadRevoke(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		st := openStore(t, dsn)
		ts := st.TokenStore(42)
		if _, err := ts.Load(ctx); !errors.Is(err, bookingsync.ErrNoToken) || errors.Is(err, inboxsync.ErrAccountRevoked) {
			t.Fatalf("Load before any save: %v, want ErrNoToken only", err)
		}
		exp := time.Now().Add(time.Hour).Truncate(time.Second)
		first := &oauth2.Token{AccessToken: "at-1", RefreshToken: "rt-1", TokenType: "Bearer", Expiry: exp}
		if err := ts.Save(ctx, first); err != nil {
			t.Fatal(err)
		}
		got, err := ts.Load(ctx)
		if err != nil || got.AccessToken != "at-1" || got.RefreshToken != "rt-1" || !got.Expiry.Equal(exp) {
			t.Fatalf("Load = %+v, %v", got, err)
		}

		// The compare-and-swap: a token refreshed from rt-1 replaces it; one
		// refreshed from anything else does not.
		rs := ts.(bookingsync.RefreshSaver)
		second := &oauth2.Token{AccessToken: "at-2", RefreshToken: "rt-2", Expiry: exp}
		if err := rs.SaveRefreshed(ctx, first, second); err != nil {
			t.Fatal(err)
		}
		stale := &oauth2.Token{AccessToken: "at-x", RefreshToken: "rt-x", Expiry: exp}
		if err := rs.SaveRefreshed(ctx, first, stale); !errors.Is(err, bookingsync.ErrTokenSuperseded) {
			t.Fatalf("SaveRefreshed over a newer token: %v, want ErrTokenSuperseded", err)
		}
		if got, _ := st.TokenStore(42).Load(ctx); got.AccessToken != "at-2" {
			t.Fatalf("stored %q, want at-2", got.AccessToken)
		}

		if err := st.Uninstall(ctx, 42, "test"); err != nil {
			t.Fatal(err)
		}
		_, err = ts.Load(ctx)
		if !errors.Is(err, inboxsync.ErrAccountRevoked) || !errors.Is(err, bookingsync.ErrNoToken) {
			t.Fatalf("Load after Uninstall: %v, want ErrAccountRevoked and ErrNoToken", err)
		}
		// A refresh in flight during the uninstall does not bring it back.
		if err := rs.SaveRefreshed(ctx, second, stale); !errors.Is(err, bookingsync.ErrTokenSuperseded) {
			t.Fatalf("SaveRefreshed after Uninstall: %v", err)
		}
		accts, err := st.Accounts(ctx)
		if err != nil || len(accts) != 1 || accts[0].Installed || accts[0].RevokedReason != "test" || accts[0].RevokedAt.IsZero() {
			t.Fatalf("Accounts = %+v, %v", accts, err)
		}
		// Installing again brings it back.
		if err := ts.Save(ctx, first); err != nil {
			t.Fatal(err)
		}
		accts, _ = st.Accounts(ctx)
		if !accts[0].Installed || !accts[0].RevokedAt.IsZero() || accts[0].InstalledAt.IsZero() {
			t.Fatalf("after a new install: %+v", accts[0])
		}
	})
}

func TestTokenStoreSealed(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		st := openStore(t, dsn)
		tok := &oauth2.Token{AccessToken: "at-SECRET", RefreshToken: "rt-SECRET", Expiry: time.Now().Add(time.Hour)}
		// Saved in clear before the key is set...
		if err := st.TokenStore(1).Save(ctx, tok); err != nil {
			t.Fatal(err)
		}
		key := bytes.Repeat([]byte{7}, 32)
		if err := st.SealTokens(key); err != nil {
			t.Fatal(err)
		}
		// ...still read, and sealed at the next save.
		if got, err := st.TokenStore(1).Load(ctx); err != nil || got.AccessToken != tok.AccessToken {
			t.Fatalf("clear token under a key: %v, %v", got, err)
		}
		if err := st.TokenStore(1).Save(ctx, tok); err != nil {
			t.Fatal(err)
		}
		if err := st.TokenStore(2).Save(ctx, tok); err != nil {
			t.Fatal(err)
		}
		var raw []byte
		if err := st.DB().QueryRowContext(ctx, "SELECT token FROM accounts WHERE account_id = 1").Scan(&raw); err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(raw, []byte("SECRET")) {
			t.Fatal("the sealed column holds the token in clear")
		}
		if got, err := st.TokenStore(1).Load(ctx); err != nil || got.RefreshToken != tok.RefreshToken {
			t.Fatalf("sealed round trip: %v, %v", got, err)
		}

		// A sealed token moved to another account's row does not open.
		if _, err := st.DB().ExecContext(ctx, rebind(st, "UPDATE accounts SET token = ? WHERE account_id = 2"), raw); err != nil {
			t.Fatal(err)
		}
		if _, err := st.TokenStore(2).Load(ctx); err == nil {
			t.Fatal("a token sealed for account 1 opened as account 2's")
		}

		// Another replica without the key, or with a wrong one, fails
		// clearly and never prints the token.
		other := openStore(t, dsn)
		_, err := other.TokenStore(1).Load(ctx)
		if err == nil || bytes.Contains([]byte(err.Error()), []byte("SECRET")) {
			t.Fatalf("Load without the key: %v", err)
		}
		if err := other.SealTokens(bytes.Repeat([]byte{8}, 32)); err != nil {
			t.Fatal(err)
		}
		if _, err := other.TokenStore(1).Load(ctx); err == nil {
			t.Fatal("Load with a wrong key succeeded")
		}
		if err := other.SealTokens([]byte("short")); err == nil {
			t.Fatal("SealTokens took a 5-byte key")
		}
	})
}

// rebind writes ? placeholders as Postgres wants them.
func rebind(st *inboxsync.Store, q string) string {
	if st.Dialect() == "postgres" {
		return bytesReplaceFirst(q, "?", "$1")
	}
	return q
}

func bytesReplaceFirst(s, old, new string) string {
	return string(bytes.Replace([]byte(s), []byte(old), []byte(new), 1))
}

// The lock excludes holders in two stores (two processes' worth of
// connections) and in one, and a waiter gives up with its context.
func TestLockerExcludesAcrossStores(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dsn string) {
		stores := []*inboxsync.Store{openStore(t, dsn), openStore(t, dsn)}
		var mu sync.Mutex
		inside, maxInside, total := 0, 0, 0
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				l := stores[i%2].Locker(7)
				for range 5 {
					unlock, err := l.Lock(context.Background())
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					inside++
					maxInside = max(maxInside, inside)
					mu.Unlock()
					// Held open a moment, so that a second holder, were
					// the lock broken, would be inside with this one: the
					// width of the section, not a wait for an event.
					time.Sleep(time.Millisecond)
					mu.Lock()
					inside--
					total++
					mu.Unlock()
					unlock()
				}
			}()
		}
		wg.Wait()
		if maxInside != 1 || total != 40 {
			t.Fatalf("%d holders at once (want 1), %d sections (want 40)", maxInside, total)
		}

		// Another account's lock is independent; a waiter's context ends
		// its wait.
		unlock, err := stores[0].Locker(7).Lock(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		other, err := stores[1].Locker(8).Lock(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		other()
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		if _, err := stores[1].Locker(7).Lock(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("waiting for a held lock: %v, want the context's deadline", err)
		}
		unlock()
		unlock() // twice is harmless
		again, err := stores[1].Locker(7).Lock(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		again()
	})
}
