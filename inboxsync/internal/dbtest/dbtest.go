// Package dbtest gives each test a database of its own, on SQLite and on
// Postgres, so that every store test runs against both back ends from one
// table-driven helper:
//
//	dbtest.Each(t, func(t *testing.T, dsn string) {
//		st, err := inboxsync.Open(ctx, dsn)
//		…
//	})
//
// SQLite is a file in t.TempDir(). Postgres is a database created under a
// unique name on the server named by BOOKINGSYNC_TEST_POSTGRES (a DSN with
// the right to CREATE DATABASE, e.g.
// postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable) and dropped
// at cleanup. Without that variable the Postgres half is skipped with a
// message saying so, unless BOOKINGSYNC_REQUIRE_POSTGRES=1, when it fails:
// CI sets both.
package dbtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
)

// The environment variables read here.
const (
	PostgresEnv = "BOOKINGSYNC_TEST_POSTGRES"
	RequireEnv  = "BOOKINGSYNC_REQUIRE_POSTGRES"
)

// Backends are the back ends Each runs a test on.
var Backends = []string{"sqlite", "postgres"}

// Each runs fn as a subtest per back end ("sqlite", "postgres"), each with
// a fresh, empty database.
func Each(t *testing.T, fn func(t *testing.T, dsn string)) {
	t.Helper()
	for _, b := range Backends {
		t.Run(b, func(t *testing.T) {
			fn(t, DSN(t, b))
		})
	}
}

// DSN returns the DSN of a fresh database on backend ("sqlite" or
// "postgres"), removed when t ends.
func DSN(t testing.TB, backend string) string {
	t.Helper()
	switch backend {
	case "sqlite":
		return SQLite(t)
	case "postgres":
		return Postgres(t)
	}
	t.Fatalf("dbtest: unknown back end %q", backend)
	return ""
}

// SQLite returns "sqlite:<file in t.TempDir()>".
func SQLite(t testing.TB) string {
	return "sqlite:" + filepath.Join(t.TempDir(), "inbox.db")
}

// Postgres creates a uniquely named database and returns its DSN; the
// database is dropped when t ends. It skips t (or fails it, when
// BOOKINGSYNC_REQUIRE_POSTGRES=1) when no server is configured.
func Postgres(t testing.TB) string {
	t.Helper()
	admin := os.Getenv(PostgresEnv)
	if admin == "" {
		if os.Getenv(RequireEnv) == "1" {
			t.Fatalf("dbtest: %s=1 but %s is not set", RequireEnv, PostgresEnv)
		}
		t.Skipf("dbtest: Postgres tests skipped: set %s to a server DSN, e.g. postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", PostgresEnv)
	}
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("dbtest: %s is not a URL", PostgresEnv) // never print it: it may hold a password
	}
	name := dbName(t.Name())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := sql.Open("pgx", admin)
	if err != nil {
		t.Fatalf("dbtest: open admin connection: %v", err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		if os.Getenv(RequireEnv) != "1" && strings.Contains(err.Error(), "connect") {
			t.Skipf("dbtest: Postgres tests skipped: server in %s unreachable: %v", PostgresEnv, err)
		}
		t.Fatalf("dbtest: create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("pgx", admin)
		if err != nil {
			t.Errorf("dbtest: drop %s: %v", name, err)
			return
		}
		defer db.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := db.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("dbtest: drop %s: %v", name, err)
		}
	})
	u.Path = "/" + name
	return u.String()
}

var unsafeChars = regexp.MustCompile(`[^a-z0-9_]+`)

// dbName is "inboxsync_<test name>_<random>", a valid unquoted identifier
// under Postgres's 63-byte limit.
func dbName(test string) string {
	var r [4]byte
	rand.Read(r[:])
	s := unsafeChars.ReplaceAllString(strings.ToLower(test), "_")
	if len(s) > 40 {
		s = s[len(s)-40:]
	}
	return fmt.Sprintf("inboxsync_%s_%s", strings.Trim(s, "_"), hex.EncodeToString(r[:]))
}
