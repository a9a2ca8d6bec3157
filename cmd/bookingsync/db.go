package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/go-bookingsync/bookingsync"
	"github.com/go-bookingsync/bookingsync/inboxsync"
	"golang.org/x/oauth2"
)

// dbLogin saves the token in an inboxsync database with Store.Install: the
// exchange, GET /me for the account, the save under that account, which
// `sync --db` (and a Fleet) then use. The database is opened once first so
// that a wrong DSN fails before the browser is involved.
func (c *cli) dbLogin(dsn string) (finisher, error) {
	st, err := c.openStore(context.Background(), "login", dsn)
	if err != nil {
		return nil, err
	}
	_ = st.Close()
	return func(ctx context.Context, cfg *oauth2.Config, code string) (saved, error) {
		st, err := c.openStore(ctx, "login", dsn)
		if err != nil {
			return saved{}, err
		}
		defer st.Close()
		id, err := st.Install(ctx, cfg, code, c.baseOptions()...)
		var re *oauth2.RetrieveError
		if errors.As(err, &re) {
			return saved{}, authError("login: exchanging the code: %v", scrubOAuthError(err))
		}
		if err != nil {
			return saved{}, fmt.Errorf("login: %w", err)
		}
		return saved{account: fmt.Sprintf(" to account %d", id), place: inboxsync.RedactDSN(dsn)}, nil
	}, nil
}

// openStore opens an inboxsync database. A DSN that is not one inboxsync
// takes (sqlite:PATH, postgres://…) is a usage error, and no message
// shows its password.
func (c *cli) openStore(ctx context.Context, cmd, dsn string) (*inboxsync.Store, error) {
	c.noteDSN(dsn)
	if err := checkDSN(dsn); err != nil {
		return nil, usageError("%s: --db %s: %v", cmd, inboxsync.RedactDSN(dsn), err)
	}
	st, err := inboxsync.Open(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("%s: opening %s: %w", cmd, inboxsync.RedactDSN(dsn), err)
	}
	return st, nil
}

// checkDSN says what is wrong with a DSN inboxsync would not take.
func checkDSN(dsn string) error {
	switch {
	case strings.HasPrefix(dsn, "sqlite:"):
		if strings.TrimPrefix(strings.TrimPrefix(dsn, "sqlite:"), "//") == "" {
			return errors.New("sqlite: wants a file path, as in sqlite:/path/inbox.db")
		}
		return nil
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		if _, err := url.Parse(dsn); err != nil {
			return errors.New("not a valid postgres:// URL")
		}
		return nil
	}
	return errors.New("want sqlite:/path/inbox.db or postgres://user@host/db")
}

// noteDSN remembers the DSN's passwords as a message may spell them
// apart from the DSN (decoded), so that redact hides them wherever they
// turn up; the DSN's own text, quoted in a message, inboxsync.RedactDSN
// hides. A DSN that does not parse is quoted, if at all, as it was given.
func (c *cli) noteDSN(dsn string) {
	u, err := url.Parse(dsn)
	if err != nil {
		return
	}
	var pws []string
	if pw, ok := u.User.Password(); ok {
		pws = append(pws, pw)
	}
	for k, v := range u.Query() {
		if strings.EqualFold(k, "password") {
			pws = append(pws, v...)
		}
	}
	for _, pw := range pws {
		if len(pw) >= 3 { // shorter is too short to look for without hiding noise
			c.secrets = append(c.secrets, pw)
		}
	}
}

// redact hides, in a message about to be printed, every DSN password:
// those of the DSNs given (noteDSN), however the message spells them, and
// any a DSN quoted in it carries.
func (c *cli) redact(msg string) string {
	msg = inboxsync.RedactDSN(msg)
	for _, s := range c.secrets {
		msg = strings.ReplaceAll(msg, s, "xxxxx")
	}
	return msg
}

// installedAccount is the account whose token the store holds: want when
// it is installed there, else the store's only installed account; ok is
// false when there is none (or several and want is 0).
func installedAccount(ctx context.Context, st *inboxsync.Store, want int64) (int64, bool, error) {
	accts, err := st.Accounts(ctx)
	if err != nil {
		return 0, false, err
	}
	var found []int64
	for _, a := range accts {
		if a.Installed && (want == 0 || a.ID == want) {
			found = append(found, a.ID)
		}
	}
	if len(found) != 1 {
		return 0, false, nil
	}
	return found[0], true, nil
}

// storeClient is a client acting with the token an inboxsync store keeps
// for the account, refreshed under the account's Store.Locker: a Fleet
// sharing the database refreshes under the same lock, so that the two
// never spend one refresh token twice (the loser would get invalid_grant,
// which uninstalls the account).
func (c *cli) storeClient(ctx context.Context, st *inboxsync.Store, accountID int64, extra ...bookingsync.Option) (*bookingsync.Client, error) {
	return c.storedClient(ctx, st.TokenStore(accountID), st.Locker(accountID), extra...)
}

var dbCommand = &command{
	name:    "db",
	args:    "migrate|status --db DSN [--json]",
	summary: "Migrate an inboxsync database, or show its migrations",
	help: `migrate applies the migrations the database lacks (each once, even when
replicas migrate together) and lists them; status lists every migration,
applied or pending, without changing anything. Stores opened without
migrating (inboxsync.WithoutMigrate: a role without DDL rights) need
migrate first. DSN is sqlite:/path/inbox.db or postgres://….`,
	run: runDB,
}

// migrationLine is the --json form of a migration.
type migrationLine struct {
	Line      string     `json:"line"`
	Version   int        `json:"version"`
	Name      string     `json:"name"`
	AppliedAt *time.Time `json:"applied_at"` // null: pending
}

func runDB(ctx context.Context, c *cli, cmd *command, args []string) error {
	fs := flags(cmd)
	dsn := fs.String("db", "", "the database: sqlite:/path/inbox.db or postgres://… (required)")
	asJSON := fs.Bool("json", false, "the migrations as a JSON array")
	pos, err := c.parse(cmd, fs, args, 1, 1)
	if err != nil {
		return err
	}
	if *dsn == "" {
		return usageError("db: --db DSN is required")
	}
	var ms []inboxsync.Migration
	switch pos[0] {
	case "migrate":
		ms, err = inboxsync.Migrate(ctx, *dsn)
	case "status":
		ms, err = inboxsync.MigrationStatus(ctx, *dsn)
	default:
		return usageError("db: unknown subcommand %q (want migrate or status)", pos[0])
	}
	if err != nil {
		return fmt.Errorf("db %s: %s: %w", pos[0], inboxsync.RedactDSN(*dsn), err)
	}
	if *asJSON {
		out := make([]migrationLine, len(ms))
		for i, m := range ms {
			out[i] = migrationLine{Line: m.Line, Version: m.Version, Name: m.Name}
			if m.Applied() {
				at := m.AppliedAt.UTC()
				out[i].AppliedAt = &at
			}
		}
		return writeJSON(c.stdout, out)
	}
	if pos[0] == "migrate" && len(ms) == 0 {
		_, err := fmt.Fprintln(c.stdout, "the schema is current: nothing to apply")
		return err
	}
	rows := make([][]string, len(ms))
	for i, m := range ms {
		state := "pending"
		if m.Applied() {
			state = "applied " + stamp(m.AppliedAt)
		}
		rows[i] = []string{m.Line, fmt.Sprintf("%04d", m.Version), m.Name, state}
	}
	return table(c.stdout, []string{"LINE", "VERSION", "NAME", "STATE"}, rows)
}
