// Package dbtest gives each test a database of its own, on SQLite and on
// Postgres, so that every store test runs against both back ends from one
// table-driven helper:
//
//	dbtest.Each(t, func(t *testing.T, dsn string) {
//		st, err := inboxsync.Open(ctx, dsn)
//		…
//	})
//
// With Main in the package's TestMain, Each's databases come migrated: a
// copy of a template migrated once per process and back end (a file copy
// on SQLite, CREATE DATABASE … TEMPLATE on Postgres), and Each runs its
// subtests in parallel; EachEmpty and DSN give empty ones.
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
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
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
// a database of its own, migrated when Main was given a migration (cloned
// from a template migrated once per process). The subtests run in
// parallel: they share nothing (t itself calls t.Parallel if it may).
func Each(t *testing.T, fn func(t *testing.T, dsn string)) {
	t.Helper()
	for _, b := range Backends {
		t.Run(b, func(t *testing.T) {
			t.Parallel()
			fn(t, Migrated(t, b))
		})
	}
}

// EachEmpty is Each with new, empty databases: for the tests of migration
// itself.
func EachEmpty(t *testing.T, fn func(t *testing.T, dsn string)) {
	t.Helper()
	for _, b := range Backends {
		t.Run(b, func(t *testing.T) {
			t.Parallel()
			fn(t, DSN(t, b))
		})
	}
}

// migrate is Main's migration; nil: Migrated is DSN.
var migrate func(ctx context.Context, dsn string) error

// Main runs the tests (call it from TestMain) with migrate as the
// migration of Each's databases, and drops the templates afterwards. The
// tests wait on databases and servers more than they compute, so up to
// four run at once unless -test.parallel says otherwise.
func Main(m *testing.M, migrateFn func(ctx context.Context, dsn string) error) int {
	flag.Parse()
	explicit := false
	flag.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "test.parallel" })
	if !explicit {
		flag.Set("test.parallel", "4")
	}
	migrate = migrateFn
	code := m.Run()
	for _, tp := range templates {
		if tp.drop != nil {
			tp.drop()
		}
	}
	if n := skipped.Load(); n > 0 {
		// The wording of cmd/bookingsync's line.
		say(fmt.Sprintf("inboxsync: Postgres tests skipped: %d (set %s to a server DSN to run them)\n", n, PostgresEnv), code == 0)
	}
	return code
}

// skipped counts the Postgres tests this process skipped.
var skipped atomic.Int64

// skip skips t as a Postgres test that could not run.
func skip(t testing.TB, format string, args ...any) {
	t.Helper()
	skipped.Add(1)
	t.Skipf(format, args...)
}

// say prints line on stderr, which go test shows in directory mode, with
// -v and when the package fails. go test ./... keeps the output of a
// passing package to itself: the line then goes to the terminal too, when
// there is one (at a terminal, the run is someone's to read; CI sets
// BOOKINGSYNC_REQUIRE_POSTGRES=1 and skips nothing).
func say(line string, passed bool) {
	fmt.Fprint(os.Stderr, line)
	if fi, err := os.Stderr.Stat(); !passed || testing.Verbose() || err == nil && fi.Mode()&os.ModeCharDevice != 0 {
		return // already on the screen
	}
	if tty, err := os.OpenFile("/dev/tty", os.O_WRONLY, 0); err == nil {
		fmt.Fprint(tty, line)
		tty.Close()
	}
}

// template is a back end's migrated database, made once per process.
type template struct {
	once sync.Once
	dsn  string // sqlite: the file; postgres: the database name
	err  error
	drop func()
}

var templates = map[string]*template{"sqlite": {}, "postgres": {}}

// Migrated returns the DSN of a migrated database of its own on backend,
// removed when t ends: a copy of a template migrated once per process.
func Migrated(t testing.TB, backend string) string {
	t.Helper()
	if migrate == nil {
		return DSN(t, backend)
	}
	tp := templates[backend]
	if tp == nil {
		t.Fatalf("dbtest: unknown back end %q", backend)
	}
	switch backend {
	case "sqlite":
		tp.once.Do(func() {
			dir, err := os.MkdirTemp("", "inboxsync-template-")
			if err != nil {
				tp.err = err
				return
			}
			tp.drop = func() { os.RemoveAll(dir) }
			tp.dsn = filepath.Join(dir, "inbox.db")
			tp.err = migrate(context.Background(), "sqlite:"+tp.dsn)
		})
		if tp.err != nil {
			t.Fatalf("dbtest: SQLite template: %v", tp.err)
		}
		dst := filepath.Join(t.TempDir(), "inbox.db")
		for _, suffix := range []string{"", "-wal"} {
			b, err := os.ReadFile(tp.dsn + suffix)
			if errors.Is(err, fs.ErrNotExist) && suffix != "" {
				continue
			}
			if err == nil {
				err = os.WriteFile(dst+suffix, b, 0o600)
			}
			if err != nil {
				t.Fatalf("dbtest: copying the SQLite template: %v", err)
			}
		}
		return "sqlite:" + dst + fastSQLite
	}
	admin := adminDSN(t)
	tp.once.Do(func() {
		tp.dsn = dbName("template")
		if tp.err = createDB(admin, tp.dsn, ""); tp.err != nil {
			return
		}
		tp.drop = func() { dropDB(admin, tp.dsn) }
		tp.err = migrate(context.Background(), withDB(admin, tp.dsn))
	})
	if tp.err != nil {
		t.Fatalf("dbtest: Postgres template: %v", tp.err)
	}
	return newPostgres(t, admin, tp.dsn)
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

// SQLite returns "sqlite:<file in t.TempDir()>" with fastSQLite's
// parameters.
func SQLite(t testing.TB) string {
	return "sqlite:" + filepath.Join(t.TempDir(), "inbox.db") + fastSQLite
}

// fastSQLite are the parameters of the SQLite DSNs given out: no fsync at
// commit (synchronous=OFF). A test's database need not survive the
// machine's crash; a killed process loses nothing all the same (its
// writes are in the kernel's cache), and every commit waiting for the
// disk made the tests that write many small transactions (a flood of
// webhook deliveries) wait on the disk most of their time.
const fastSQLite = "?_pragma=synchronous(off)"

// Postgres creates a uniquely named database and returns its DSN; the
// database is dropped when t ends. It skips t (or fails it, when
// BOOKINGSYNC_REQUIRE_POSTGRES=1) when no server is configured.
func Postgres(t testing.TB) string {
	t.Helper()
	return newPostgres(t, adminDSN(t), "")
}

// adminDSN is the server's DSN, from the environment; t is skipped (or
// failed) without one.
func adminDSN(t testing.TB) string {
	t.Helper()
	admin := os.Getenv(PostgresEnv)
	if admin == "" {
		if os.Getenv(RequireEnv) == "1" {
			t.Fatalf("dbtest: %s=1 but %s is not set", RequireEnv, PostgresEnv)
		}
		skip(t, "dbtest: Postgres tests skipped: set %s to a server DSN, e.g. postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", PostgresEnv)
	}
	if _, err := url.Parse(admin); err != nil {
		t.Fatalf("dbtest: %s is not a URL", PostgresEnv) // never print it: it may hold a password
	}
	return admin
}

// newPostgres creates t's database, a copy of template ("": empty), and
// drops it when t ends.
func newPostgres(t testing.TB, admin, template string) string {
	t.Helper()
	name := dbName(t.Name())
	if err := createDB(admin, name, template); err != nil {
		if os.Getenv(RequireEnv) != "1" && strings.Contains(err.Error(), "connect") {
			skip(t, "dbtest: Postgres tests skipped: server in %s unreachable: %v", PostgresEnv, err)
		}
		t.Fatalf("dbtest: create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		if err := dropDB(admin, name); err != nil {
			t.Errorf("dbtest: drop %s: %v", name, err)
		}
	})
	return withDB(admin, name)
}

// createDB creates the database name, a copy of template unless "".
func createDB(admin, name, template string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	db, err := sql.Open("pgx", admin)
	if err != nil {
		return err
	}
	defer db.Close()
	q := "CREATE DATABASE " + name
	if template != "" {
		q += " TEMPLATE " + template
	}
	// Copy the files rather than write every page of the template into
	// the WAL (Postgres 15's default): a third of the server's CPU per
	// database here, and the test's database need not be recoverable.
	q += " STRATEGY FILE_COPY"
	if _, err = db.ExecContext(ctx, q); err != nil {
		return err
	}
	// A commit does not wait for the server's disk (as fastSQLite): the
	// database need not survive the server's crash, and what a commit
	// shows the other sessions is the same.
	_, err = db.ExecContext(ctx, "ALTER DATABASE "+name+" SET synchronous_commit = off")
	return err
}

func dropDB(admin, name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := sql.Open("pgx", admin)
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	return err
}

// withDB is admin's DSN naming database name.
func withDB(admin, name string) string {
	u, _ := url.Parse(admin) // adminDSN parsed it
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
