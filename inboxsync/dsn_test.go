package inboxsync_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-bookingsync/bookingsync"
	"github.com/go-bookingsync/bookingsync/inboxsync"
)

// pragma reads one pragma's value on a connection of st.
func pragma(t *testing.T, st *inboxsync.Store, name string) string {
	t.Helper()
	var v string
	if err := st.DB().QueryRow("PRAGMA " + name).Scan(&v); err != nil {
		t.Fatalf("PRAGMA %s: %v", name, err)
	}
	return v
}

// The caller's SQLite parameters are kept, and so are the defaults they do
// not override: neither swallows the other.
func TestOpenSQLiteKeepsParameters(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, tc := range []struct {
		query string
		want  map[string]string
	}{
		{"", map[string]string{"busy_timeout": "30000", "journal_mode": "wal", "foreign_keys": "1"}},
		{"?_pragma=busy_timeout(1234)", map[string]string{"busy_timeout": "1234", "journal_mode": "wal", "foreign_keys": "1"}},
		{"?_pragma=synchronous(0)&_pragma=cache_size(-4000)", map[string]string{"busy_timeout": "30000", "synchronous": "0", "cache_size": "-4000"}},
		{"?mode=rwc&_busy_timeout=777", map[string]string{"busy_timeout": "777", "journal_mode": "wal"}},
	} {
		path := filepath.Join(dir, "p"+strings.NewReplacer("?", "", "=", "", "&", "", "(", "", ")", "").Replace(tc.query)+".db")
		st := openStore(t, "sqlite:"+path+tc.query)
		for name, want := range tc.want {
			if got := pragma(t, st, name); got != want {
				t.Errorf("%s: PRAGMA %s = %s, want %s", tc.query, name, got, want)
			}
		}
	}
}

// A SQLite path is the path: "#", "%" and the like are part of the name,
// and what follows a "?" is parameters, of which an unknown one is refused
// rather than opening another file.
func TestOpenSQLitePathIsLiteral(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, name := range []string{"a#b.db", "x%41.db", "sp ace.db", "semi;colon&amp.db"} {
		openStore(t, "sqlite:"+filepath.Join(dir, name))
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("sqlite:…/%s: %v", name, err)
		}
	}
	for _, bad := range []string{"a", "xA.db", "sp"} {
		if _, err := os.Stat(filepath.Join(dir, bad)); err == nil {
			t.Errorf("a file %q was created", bad)
		}
	}
	for _, dsn := range []string{
		"sqlite:" + filepath.Join(dir, "inbox?tenant=a.db"),
		"sqlite:" + filepath.Join(dir, "inbox?tenant=b.db"),
		"sqlite:" + filepath.Join(dir, "t.db?foo"),
		"sqlite:" + filepath.Join(dir, "t.db?_pragma=x&_pragma=y?z=1"),
		"sqlite:" + filepath.Join(dir, "t.db?mode=memory"),
		"sqlite:" + filepath.Join(dir, "t.db?_txlock=deferred"),
		"sqlite:" + filepath.Join(dir, "t.db?mode=ro&mode=rw"),
		"sqlite:" + filepath.Join(dir, "t.db?%zz"),
		"sqlite:" + filepath.Join(dir, "t.db?_pragma=journal_mode(DELETE);DROP TABLE x"),
	} {
		_, err := inboxsync.Open(context.Background(), dsn)
		if err == nil {
			t.Errorf("Open(%q): no error", dsn)
			continue
		}
		if !strings.Contains(err.Error(), dsn) {
			t.Errorf("Open(%q): %v; want the DSN named", dsn, err)
		}
	}
	for _, name := range []string{"inbox", "t.db"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			t.Errorf("a refused DSN created %s", name)
		}
	}
}

// sqlite::memory: is one database, shared by the pool's connections, and
// one per Open.
func TestOpenSQLiteMemoryIsShared(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := openStore(t, "sqlite::memory:")
	var wg sync.WaitGroup
	errs := make(chan error, 160)
	for i := range 160 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i%2 == 0 {
				_, err := st.TokenStore(int64(i)).Load(ctx)
				if err != nil && !errors.Is(err, bookingsync.ErrNoToken) {
					errs <- err
				}
				return
			}
			if _, err := st.Accounts(ctx); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if _, err := st.DB().Exec("CREATE TABLE only_here (x INTEGER)"); err != nil {
		t.Fatal(err)
	}
	other := openStore(t, "sqlite::memory:")
	if _, err := other.DB().Exec("SELECT * FROM only_here"); err == nil {
		t.Error("two Opens of sqlite::memory: share a database")
	}
}

// fileState is a file's hash and whether its -wal and -shm exist.
func fileState(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	s := string(sum[:])
	for _, ext := range []string{"-wal", "-shm"} {
		if _, err := os.Stat(path + ext); err == nil {
			s += ext
		}
	}
	return s
}

// A read-only open of a migrated copy reads, refuses to sync, runs no
// migration and leaves the file as it was; a copy whose schema is behind
// says so.
func TestOpenSQLiteReadOnly(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "inbox.db")
	f := setup(t, "sqlite:"+path)
	mustSync(t, f.s)
	want, err := f.st.Conversations(ctx, acct, inboxsync.ConversationQuery{})
	if err != nil || len(want) == 0 {
		t.Fatalf("conversations: %d, %v", len(want), err)
	}
	f.st.Close()
	before := fileState(t, path)
	if strings.Contains(before, "-wal") {
		t.Fatalf("the writer left its -wal behind")
	}

	ro := openStore(t, "sqlite:"+path+"?mode=ro")
	if !ro.ReadOnly() {
		t.Error("ReadOnly() = false")
	}
	got, err := ro.Conversations(ctx, acct, inboxsync.ConversationQuery{})
	if err != nil || len(got) != len(want) {
		t.Errorf("read-only Conversations: %d, %v; want %d", len(got), err, len(want))
	}
	_, err = inboxsync.New(ro, acct, f.c).Sync(ctx)
	if !errors.Is(err, inboxsync.ErrReadOnly) {
		t.Errorf("Sync on a read-only store: %v; want ErrReadOnly", err)
	}
	if _, err := ro.DB().Exec("DELETE FROM conversations"); err == nil || !strings.Contains(err.Error(), "readonly") {
		t.Errorf("a write through DB(): %v; want SQLite's read-only refusal", err)
	}
	ro.Close()
	if after := fileState(t, path); after != before {
		t.Errorf("the read-only open changed the file or left -wal/-shm behind: %q -> %q", before[32:], after[32:])
	}

	// A copy one migration behind.
	rw := openStore(t, "sqlite:"+path)
	if _, err := rw.DB().Exec("DELETE FROM inboxsync_migrations WHERE line = 'fleet' AND version = (SELECT MAX(version) FROM inboxsync_migrations WHERE line = 'fleet')"); err != nil {
		t.Fatal(err)
	}
	rw.Close()
	before = fileState(t, path)
	_, err = inboxsync.Open(ctx, "sqlite:"+path+"?mode=ro")
	var behind *inboxsync.SchemaBehindError
	if !errors.As(err, &behind) || len(behind.Pending) != 1 || behind.Pending[0].Line != "fleet" {
		t.Errorf("read-only open of a copy behind: %v; want a SchemaBehindError naming the fleet's last migration", err)
	}
	if after := fileState(t, path); after != before {
		t.Error("the refused read-only open changed the file")
	}

	// A file that was never migrated.
	empty := filepath.Join(t.TempDir(), "empty.db")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := inboxsync.Open(ctx, "sqlite:"+empty+"?mode=ro"); !errors.As(err, &behind) {
		t.Errorf("read-only open of an empty file: %v; want a SchemaBehindError", err)
	}
	if _, err := inboxsync.Migrate(ctx, "sqlite:"+path+"?mode=ro"); !errors.Is(err, inboxsync.ErrReadOnly) {
		t.Errorf("Migrate of a read-only DSN: %v; want ErrReadOnly", err)
	}
}

// Errors name the path and the reason.
func TestOpenSQLiteErrorsNamePathAndReason(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	plain := filepath.Join(dir, "plain")
	if err := os.WriteFile(plain, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ dsn, path, reason string }{
		{"sqlite:" + filepath.Join(dir, "missing.db") + "?mode=ro", filepath.Join(dir, "missing.db"), "no such file"},
		{"sqlite:" + filepath.Join(dir, "nodir", "inbox.db"), filepath.Join(dir, "nodir", "inbox.db"), "does not exist"},
		{"sqlite:" + filepath.Join(plain, "inbox.db"), filepath.Join(plain, "inbox.db"), "is not a directory"},
		{"sqlite:" + dir, dir, "is a directory"},
	} {
		_, err := inboxsync.Open(context.Background(), tc.dsn)
		if err == nil || !strings.Contains(err.Error(), tc.path) || !strings.Contains(err.Error(), tc.reason) {
			t.Errorf("Open(%q): %v; want the path and %q", tc.dsn, err, tc.reason)
		}
	}
	if os.Geteuid() == 0 {
		return // root reads and writes whatever the modes say
	}
	ro := filepath.Join(dir, "ro")
	os.Mkdir(ro, 0o555)
	_, err := inboxsync.Open(context.Background(), "sqlite:"+filepath.Join(ro, "inbox.db"))
	if err == nil || !strings.Contains(err.Error(), "no write permission") {
		t.Errorf("Open in a read-only directory: %v", err)
	}
}

// No message shows a database password, in a URL's user part or in a
// password parameter, URL or keyword form.
func TestDSNPasswordsNeverShown(t *testing.T) {
	t.Parallel()
	const secret = "s3cr3tpw"
	for _, tc := range []struct{ dsn, want string }{
		{"postgres://u:" + secret + "@h/db", "postgres://u:xxxxx@h/db"},
		{"postgres://u@h/db?password=" + secret + "&sslmode=disable", "postgres://u@h/db?password=xxxxx&sslmode=disable"},
		{"host=h user=u password=" + secret + " dbname=d", "host=h user=u password=xxxxx dbname=d"},
		{"host=h password = '" + secret + " x\\' y' dbname=d", "host=h password = xxxxx dbname=d"},
		{"postgres://u:" + secret + "@h:notaport/db", ""},
		{"sqlite:/x/inbox.db?mode=ro", "sqlite:/x/inbox.db?mode=ro"},
		{"postgres://u:" + secret + "@h:5432/db?sslmode=disable", "postgres://u:xxxxx@h:5432/db?sslmode=disable"},
		{"postgres://u:p@" + secret + "@h/db", "postgres://u:xxxxx@h/db"},
		{"postgres://u:" + secret + " x/y@h/db", "postgres://u:xxxxx@h/db"},
		{"postgres://h/db?user=u&password=" + secret + "&sslmode=allow", "postgres://h/db?user=u&password=xxxxx&sslmode=allow"},
		{"postgres://u@h/db", "postgres://u@h/db"},
		// A message quoting DSNs (the bookingsync command redacts its
		// messages so).
		{"opening postgres://u:p@" + secret + "@h/db: failed", "opening postgres://u:xxxxx@h/db: failed"},
		{`parse "postgres://u:` + secret + `@[::1/db": missing ']' in host`, `parse "postgres://u:xxxxx@[::1/db": missing ']' in host`},
		{"open postgres://h/db?password=" + secret + ": refused", "open postgres://h/db?password=xxxxx refused"},
	} {
		got := inboxsync.RedactDSN(tc.dsn)
		if strings.Contains(got, secret) || tc.want != "" && got != tc.want {
			t.Errorf("RedactDSN(%q) = %q, want %q", tc.dsn, got, tc.want)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, dsn := range []string{
		"postgres://u:" + secret + "@127.0.0.1:1/db?sslmode=disable&connect_timeout=2",
		"postgres://u@127.0.0.1:1/db?sslmode=disable&connect_timeout=2&password=" + secret,
		"postgres://u:" + secret + "@h:notaport/db",
		"postgres://u@h/db?password=" + secret + "&sslmode=bogus",
		"host=127.0.0.1 port=1 user=u password=" + secret,
		"mysql://u:" + secret + "@h/db",
	} {
		_, err := inboxsync.Open(ctx, dsn)
		if err == nil {
			t.Errorf("Open(%s): no error", inboxsync.RedactDSN(dsn))
		} else if strings.Contains(err.Error(), secret) {
			t.Errorf("Open's error shows the password: %v", err)
		}
	}
}
