package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-bookingsync/bookingsync"
	"github.com/go-bookingsync/bookingsync/bookingsynctest"
	"github.com/go-bookingsync/bookingsync/inboxsync"
	"golang.org/x/oauth2"
)

// The databases `login --db` and `sync --db` are tested against: a SQLite
// file, and a Postgres database of the test's own on the server named by
// BOOKINGSYNC_TEST_POSTGRES (skipped without it, failed instead when
// BOOKINGSYNC_REQUIRE_POSTGRES=1, as CI sets).

// postgresSkips counts the tests skipped for want of a Postgres server.
var postgresSkips atomic.Int32

// reportPostgresSkips says, once the tests have run, how many skipped
// their Postgres variant, in one line that shows without -v: go test keeps
// a passing package's output to itself unless -v, so on Linux the line
// goes to the stderr of the go command (the test binary's parent), and
// elsewhere to the binary's own.
func reportPostgresSkips() {
	n := postgresSkips.Load()
	if n == 0 {
		return
	}
	w := os.Stderr
	if f, err := os.OpenFile("/proc/"+strconv.Itoa(os.Getppid())+"/fd/2", os.O_WRONLY|os.O_APPEND, 0); err == nil {
		defer f.Close()
		w = f
	}
	fmt.Fprintf(w, "cmd/bookingsync: Postgres tests skipped: %d (set BOOKINGSYNC_TEST_POSTGRES to a server DSN to run them)\n", n)
}

// eachDB runs fn with a fresh DSN of each back end.
func eachDB(t *testing.T, fn func(t *testing.T, dsn string)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, "sqlite:"+filepath.Join(t.TempDir(), "inbox.db")) })
	t.Run("postgres", func(t *testing.T) { fn(t, postgresDSN(t)) })
}

// postgresDSN creates a database for t, dropped when t ends.
func postgresDSN(t *testing.T) string {
	t.Helper()
	admin := os.Getenv("BOOKINGSYNC_TEST_POSTGRES")
	if admin == "" {
		if os.Getenv("BOOKINGSYNC_REQUIRE_POSTGRES") == "1" {
			t.Fatal("BOOKINGSYNC_REQUIRE_POSTGRES=1 but BOOKINGSYNC_TEST_POSTGRES is not set")
		}
		postgresSkips.Add(1)
		t.Skip("set BOOKINGSYNC_TEST_POSTGRES to a server DSN to run the Postgres variant")
	}
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatal("BOOKINGSYNC_TEST_POSTGRES is not a URL") // never printed: it may hold a password
	}
	var r [4]byte
	_, _ = rand.Read(r[:])
	name := "cli_" + strings.ToLower(strings.NewReplacer("/", "_", "-", "_").Replace(t.Name()))
	name = name[:min(len(name), 40)] + "_" + hex.EncodeToString(r[:])
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := sql.Open("pgx", admin) // the driver inboxsync registers
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("pgx", admin)
		if err != nil {
			t.Error(err)
			return
		}
		defer db.Close()
		if _, err := db.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	u.Path = "/" + name
	return u.String()
}

// TestDSNPasswordsNeverShown: a database password, in the DSN's user part
// or in a password parameter, appears in no message, whether the DSN is
// malformed (a usage error, exit 2), unknown (exit 2) or names a server
// that does not answer (exit 1).
func TestDSNPasswordsNeverShown(t *testing.T) {
	const pw = "s3cr3t-db-pw"
	for _, tc := range []struct {
		name string
		args []string
		code int
	}{
		{"user part, no server", []string{"sync", "--db", "postgres://bob:" + pw + "@127.0.0.1:1/db?sslmode=disable"}, exitError},
		{"parameter, no server", []string{"sync", "--db", "postgres://bob@127.0.0.1:1/db?sslmode=disable&password=" + pw}, exitError},
		{"malformed", []string{"sync", "--db", "postgres://bob:" + pw + "@[::1/db"}, exitUsage},
		{"unknown scheme", []string{"sync", "--db", "mysql://bob:" + pw + "@db.example/inbox"}, exitUsage},
		{"no path", []string{"sync", "--db", "sqlite:"}, exitUsage},
		{"login, malformed", []string{"login", "--db", "postgresql://bob:" + pw + "@host:port/db", "--redirect-uri", "http://127.0.0.1:1/cb"}, exitUsage},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := env{"BOOKINGSYNC_TOKEN": "t", "BOOKINGSYNC_BASE_URL": "http://127.0.0.1:1",
				"BOOKINGSYNC_CLIENT_ID": "a", "BOOKINGSYNC_CLIENT_SECRET": "b"}
			r := run(t, e, "", tc.args...)
			wantCode(t, r, tc.code)
			if strings.Contains(r.stdout+r.stderr, pw) {
				t.Errorf("the password is printed:\n%s%s", r.stdout, r.stderr)
			}
			if !strings.HasPrefix(r.stderr, "bookingsync: ") {
				t.Errorf("stderr %q", r.stderr)
			}
		})
	}
}

// TestSyncRefreshesUnderTheAccountsLock: `sync --db` refreshes the stored
// token under the account's Store.Locker, as a Fleet sharing the database
// does, so that the two never spend one refresh token twice (the loser's
// invalid_grant would uninstall the account). With the lock held here,
// the command waits for it; meanwhile this test refreshes, as the fleet
// would; once the lock is free the command reads the fresh token and
// syncs without a refresh of its own. The wait shows on Postgres, as a
// session waiting for the advisory lock.
func TestSyncRefreshesUnderTheAccountsLock(t *testing.T) {
	dsn := postgresDSN(t)
	ctx := context.Background()
	srv := bookingsynctest.NewServer(bookingsynctest.WithConversationDelay(0))
	defer srv.Close()
	st, err := inboxsync.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	access, refresh := srv.IssueTokenPair(bookingsynctest.DefaultScopes...)
	stale := &oauth2.Token{AccessToken: access, RefreshToken: refresh, TokenType: "Bearer", Expiry: time.Now().Add(-time.Hour)}
	if err := st.TokenStore(1).Save(ctx, stale); err != nil {
		t.Fatal(err)
	}
	unlock, err := st.Locker(1).Lock(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	p := start(t, env{"BOOKINGSYNC_BASE_URL": srv.URL, "BOOKINGSYNC_CLIENT_ID": bookingsynctest.DefaultClientID,
		"BOOKINGSYNC_CLIENT_SECRET": bookingsynctest.DefaultClientSecret}, "sync", "--db", dsn)
	waitForLockWaiter(t, st.DB(), func() bool { return srv.RefreshCount() > 0 })

	cfg := &oauth2.Config{ClientID: bookingsynctest.DefaultClientID, ClientSecret: bookingsynctest.DefaultClientSecret, Endpoint: bookingsync.Endpoint(srv.URL)}
	if _, err := bookingsync.NewStoredTokenSource(ctx, cfg, st.TokenStore(1)).Token(); err != nil {
		t.Fatal(err)
	}
	unlock()
	r := p.wait(t)
	wantCode(t, r, exitOK)
	if n, spent := srv.RefreshCount(), srv.SpentRefreshCount(); n != 1 || spent != 0 {
		t.Errorf("%d refreshes, %d of a spent refresh token; want this test's one", n, spent)
	}
}

// waitForLockWaiter waits until a session of db's database waits for an
// advisory lock, failing the test if refreshed reports a refresh first
// (the command did not wait) or the wait lasts 30 seconds.
func waitForLockWaiter(t *testing.T, db *sql.DB, refreshed func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var n int
		err := db.QueryRow(`SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted
AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`).Scan(&n)
		switch {
		case err != nil:
			t.Fatal(err)
		case n > 0:
			return
		case refreshed():
			t.Fatal("the command refreshed the token without taking the account's lock")
		case time.Now().After(deadline):
			t.Fatal("the command never waited for the account's lock")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestPostgresSkipsAreReported runs a Postgres test of this package under
// `go test` without a server and without -v, as a newcomer would: the
// skip is reported in one line all the same.
func TestPostgresSkipsAreReported(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go test")
	}
	cmd := exec.Command("go", "test", "-count=1", "-run", "^TestSyncOnce$", ".")
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "BOOKINGSYNC_TEST_POSTGRES=") && !strings.HasPrefix(kv, "BOOKINGSYNC_REQUIRE_POSTGRES=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	if err := cmd.Run(); err != nil {
		t.Fatalf("go test: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "cmd/bookingsync: Postgres tests skipped: 1 (set BOOKINGSYNC_TEST_POSTGRES") {
		t.Errorf("no line about the skipped Postgres test in:\n%s", out.String())
	}
}
