package inboxsync

// The DSN, parsed once: which back end, and for SQLite the file, the
// caller's parameters and the driver's DSN built from them. RedactDSN is
// how every message shows a DSN.

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
)

// ErrReadOnly is returned, wrapped, when a write (a pass, an install, a
// migration) is asked of a store opened read-only (a SQLite DSN with
// ?mode=ro or ?immutable=1).
var ErrReadOnly = errors.New("inboxsync: the store is open read-only")

// parseDSN returns the dialect of dsn, with everything it says parsed and
// checked: what cannot be honoured is refused here, before anything is
// opened.
func parseDSN(dsn string) (dialect, error) {
	switch {
	case strings.HasPrefix(dsn, "sqlite:"):
		p, err := parseSQLiteDSN(dsn)
		if err != nil {
			return nil, fmt.Errorf("inboxsync: open %s: %w", RedactDSN(dsn), err)
		}
		return &sqliteDialect{dsn: p}, nil
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		// pgx's own parser, once, so that a malformed DSN fails here
		// with a message that names it (redacted), not at the first
		// query.
		if _, err := pgx.ParseConfig(dsn); err != nil {
			var pe interface{ Unwrap() error }
			if errors.As(err, &pe) && pe.Unwrap() != nil {
				err = pe.Unwrap() // the reason, without pgx's copy of the DSN
			}
			return nil, fmt.Errorf("inboxsync: open %s: %w", RedactDSN(dsn), err)
		}
		return newPostgres(dsn), nil
	}
	return nil, fmt.Errorf(`inboxsync: open %s: the DSN must start with "sqlite:" or "postgres://"`, RedactDSN(dsn))
}

// sqliteDSN is a parsed SQLite DSN:
//
//	sqlite:PATH[?PARAMS]
//	sqlite::memory:[?PARAMS]
//
// PATH is everything between "sqlite:" (and an optional "//") and the
// first "?", taken literally: no percent-decoding ("%41" is three
// characters of the name), "#" is part of the name. A path holding a "?"
// cannot be written in this form (rename the file or link to it): what
// follows the first "?" is always PARAMS, in URL query syntax, and a
// parameter this package does not know is refused, so that such a path
// fails with a message rather than opening another file.
type sqliteDSN struct {
	raw      string // as the caller wrote it, for messages (RedactDSN)
	path     string // the file; "" for :memory:
	memory   bool
	readOnly bool       // mode=ro or immutable=1: no migration, no write
	params   url.Values // the caller's parameters, checked
	driver   string     // the driver's DSN, the path escaped
}

// sqliteParams are the parameters a SQLite DSN may carry: SQLite's own
// URI parameters and the driver's (modernc.org/sqlite), each passed on as
// given, with the values SQLite and the driver check themselves. mode
// "memory" is sqlite::memory:'s; _txlock stays "immediate" (the write
// pipeline needs every writer to take the lock at BEGIN).
var sqliteParams = []string{
	"mode", "cache", "immutable", "nolock", "psow", "vfs",
	"_pragma", "_busy_timeout", "_timeout", "_journal_mode", "_journal",
	"_foreign_keys", "_fk", "_synchronous", "_sync", "_auto_vacuum", "_vacuum",
	"_query_only", "_txlock",
}

// sqliteDefaults are the pragmas every connection gets unless the caller
// sets the same one (by _pragma or the driver's shorthand): busy_timeout
// first, so that setting WAL waits for a concurrent opener.
var sqliteDefaults = []struct{ name, pragma string }{
	{"busy_timeout", "busy_timeout(30000)"},
	{"journal_mode", "journal_mode(WAL)"},
	{"foreign_keys", "foreign_keys(1)"},
}

// sqliteShorthands maps the driver's shorthand parameters to the pragma
// they set.
var sqliteShorthands = map[string]string{
	"_busy_timeout": "busy_timeout", "_timeout": "busy_timeout",
	"_journal_mode": "journal_mode", "_journal": "journal_mode",
	"_foreign_keys": "foreign_keys", "_fk": "foreign_keys",
}

func parseSQLiteDSN(dsn string) (*sqliteDSN, error) {
	rest := strings.TrimPrefix(strings.TrimPrefix(dsn, "sqlite:"), "//")
	path, query, _ := strings.Cut(rest, "?")
	p := &sqliteDSN{raw: dsn, path: path}
	if path == ":memory:" {
		p.path, p.memory = "", true
	} else if path == "" {
		return nil, errors.New("empty SQLite path")
	}
	params, err := url.ParseQuery(query)
	if err != nil {
		return nil, fmt.Errorf("parameters after the first %q: %w (a path holding %q cannot be written in a DSN)", "?", err, "?")
	}
	for k := range params {
		if !slices.Contains(sqliteParams, k) {
			return nil, fmt.Errorf("unknown SQLite parameter %q (what follows the first %q is parameters; a path holding %q cannot be written in a DSN)", k, "?", "?")
		}
		if len(params[k]) > 1 && k != "_pragma" {
			return nil, fmt.Errorf("SQLite parameter %q given twice", k)
		}
	}
	for _, pr := range params["_pragma"] {
		if !pragmaForm.MatchString(pr) {
			return nil, fmt.Errorf("SQLite _pragma=%s: want one pragma, name(value) or name=value", pr)
		}
	}
	switch mode := params.Get("mode"); mode {
	case "", "rwc", "rw":
	case "ro":
		p.readOnly = true
	default:
		return nil, fmt.Errorf("SQLite mode=%s: want ro, rw or rwc (sqlite::memory: is the in-memory database)", mode)
	}
	if v := params.Get("immutable"); v != "" && v != "0" {
		p.readOnly = true
	}
	if v := params.Get("_txlock"); v != "" && !strings.EqualFold(v, "immediate") {
		return nil, fmt.Errorf("SQLite _txlock=%s: inboxsync needs immediate (every writer takes the lock at BEGIN)", v)
	}
	if p.memory && (p.readOnly || params.Has("vfs") || params.Has("cache")) {
		return nil, errors.New("sqlite::memory: takes no mode, immutable, vfs or cache parameter")
	}
	p.params = params
	p.driver = p.driverDSN()
	return p, nil
}

// driverDSN is the DSN handed to the driver: a SQLite URI (file:) with the
// path escaped, so that SQLite reads back exactly the caller's path, then
// the defaults the caller did not override, then the caller's parameters.
// sqlite::memory: is one database per Open, shared by the pool's
// connections (the memdb VFS, under a name of its own).
func (p *sqliteDSN) driverDSN() string {
	set := map[string]bool{}
	for _, pr := range p.params["_pragma"] {
		set[pragmaName(pr)] = true
	}
	for k, v := range p.params {
		if name, ok := sqliteShorthands[k]; ok && len(v) > 0 {
			set[name] = true
		}
	}
	q := url.Values{}
	for _, d := range sqliteDefaults {
		// A read-only connection cannot switch the journal mode: a
		// read-only copy is read in the mode it was left in.
		if !set[d.name] && !(p.readOnly && d.name == "journal_mode") {
			q.Add("_pragma", d.pragma)
		}
	}
	for k, v := range p.params {
		q[k] = append(q[k], v...)
	}
	if p.readOnly {
		// BEGIN IMMEDIATE takes the write lock, which a read-only
		// connection cannot: its transactions only read.
		q.Set("_txlock", "deferred")
	} else {
		q.Set("_txlock", "immediate")
	}
	if p.memory {
		var r [8]byte
		rand.Read(r[:])
		q.Set("vfs", "memdb")
		return "file:/inboxsync-" + hex.EncodeToString(r[:]) + "?" + q.Encode()
	}
	return "file:" + escapedPath(p.path) + "?" + q.Encode()
}

// escapedPath is path as the path of a file: URI.
func escapedPath(path string) string {
	if strings.HasPrefix(path, "/") {
		return "//" + escapeURIPath(path) // an empty authority: "file:////x" is the path //x
	}
	return escapeURIPath(path)
}

// pragmaForm is one pragma as _pragma carries it: a name and a plain
// value, nothing the driver would run as a second statement.
var pragmaForm = regexp.MustCompile(`^\s*[A-Za-z_][A-Za-z0-9_.]*\s*(\(\s*[-+A-Za-z0-9_.' ]*\)|=\s*[-+A-Za-z0-9_.' ]*)?\s*$`)

// pragmaName is the name a _pragma value sets: "busy_timeout(5000)" and
// "busy_timeout = 5000" set busy_timeout.
func pragmaName(pr string) string {
	name, _, _ := strings.Cut(pr, "(")
	name, _, _ = strings.Cut(name, "=")
	return strings.ToLower(strings.TrimSpace(name))
}

// escapeURIPath percent-encodes every byte of a path but the unreserved
// ones and "/", so that SQLite's URI parser, which decodes %XX and stops
// at "?" and "#", reads back the path as it was.
func escapeURIPath(path string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(path); i++ {
		c := path[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-._~/", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}

// explain says why the first connection to the file failed, naming the
// path: the driver's error alone ("unable to open database file") names
// neither.
func (p *sqliteDSN) explain(err error) error {
	if p.memory {
		return fmt.Errorf("inboxsync: open %s: %w", RedactDSN(p.raw), err)
	}
	return fmt.Errorf("inboxsync: open SQLite file %q (%s): %s: %w", p.path, RedactDSN(p.raw), p.reason(), err)
}

// reason looks at the file and its directory for the likely cause of a
// failed open.
func (p *sqliteDSN) reason() string {
	dir := filepath.Dir(p.path)
	fi, err := os.Stat(p.path)
	if di, derr := os.Stat(dir); derr == nil && !di.IsDir() {
		return fmt.Sprintf("%q is not a directory", dir)
	}
	switch {
	case errors.Is(err, os.ErrNotExist):
		if p.readOnly || p.params.Get("mode") == "rw" {
			return "no such file (a read-only or mode=rw open does not create it)"
		}
		di, derr := os.Stat(dir)
		switch {
		case errors.Is(derr, os.ErrNotExist):
			return fmt.Sprintf("directory %q does not exist", dir)
		case derr != nil:
			return fmt.Sprintf("directory %q: %v", dir, derr)
		case !di.IsDir():
			return fmt.Sprintf("%q is not a directory", dir)
		}
		return fmt.Sprintf("cannot create the file in directory %q (read-only, or no write permission)", dir)
	case err != nil:
		return err.Error()
	case fi.IsDir():
		return "it is a directory"
	}
	if f, err := os.Open(p.path); err != nil {
		return fmt.Sprintf("cannot read the file: %v", err)
	} else {
		f.Close()
	}
	if !p.readOnly {
		if f, err := os.OpenFile(p.path, os.O_WRONLY, 0); err != nil {
			return fmt.Sprintf("cannot write the file (open it with ?mode=ro to read it): %v", err)
		} else {
			f.Close()
		}
	}
	return fmt.Sprintf("check the file and its directory %q: SQLite keeps -wal and -shm files next to it", dir)
}

// secretParam matches a password in key=value form ("password=secret",
// "password = 'se cret'"), as Postgres's keyword DSNs and URL queries
// carry it.
var secretParam = regexp.MustCompile(`(?i)(\bpassword\s*=\s*)('(?:\\.|[^'\\])*'|[^\s&]*)`)

// userPassword matches the password of a URL's user part quoted in a
// message (scheme://user:PW@host): up to the last "@" before a blank, so
// that a password holding "@", "/" or "?" is hidden whole.
var userPassword = regexp.MustCompile(`(?i)(\b[a-z][a-z0-9+.-]*://[^/?#@:\s]*:)(\S*)@`)

// RedactDSN returns s, a DSN or a message quoting DSNs, fit for a message
// or a log: the password of a URL's user part and the value of a password
// parameter (URL query or Postgres keyword=value form) are replaced by
// "xxxxx", in a DSN that does not parse too. Every message of this
// package and of the bookingsync command that shows a DSN shows it
// through RedactDSN.
func RedactDSN(s string) string {
	const blanks = " \t\r\n"
	if i := strings.Index(s, "://"); i <= 0 || strings.ContainsAny(s[:i], blanks) {
		// No URL, or URLs quoted in a message.
		s = userPassword.ReplaceAllString(s, "${1}xxxxx@")
	} else if u, err := url.Parse(s); err == nil && !strings.ContainsAny(s, blanks) {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
			s = u.String()
		}
	} else if at := strings.LastIndex(s, "@"); at > i {
		// One URL that does not parse: its user part runs to its last
		// "@", whatever the password holds (a blank, a "/"), and the
		// password starts after its first ":".
		if colon := strings.IndexByte(s[i+3:at], ':'); colon >= 0 {
			s = s[:i+3+colon+1] + "xxxxx" + s[at:]
		}
	}
	return secretParam.ReplaceAllString(s, "${1}xxxxx")
}
