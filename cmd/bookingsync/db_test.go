package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The databases `login --db` and `sync --db` are tested against: a SQLite
// file, and a Postgres database of the test's own on the server named by
// BOOKINGSYNC_TEST_POSTGRES (skipped without it, failed instead when
// BOOKINGSYNC_REQUIRE_POSTGRES=1, as CI sets).

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
