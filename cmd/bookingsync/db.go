package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"

	"github.com/go-bookingsync/bookingsync"
	"github.com/go-bookingsync/bookingsync/inboxsync"
	"golang.org/x/oauth2"
)

// dbLogin saves the token in an inboxsync database with Store.Install: the
// exchange, GET /me for the account, the save under that account, which
// `sync --db` (and a Fleet) then use. The database is opened once first so
// that a wrong DSN fails before the browser is involved.
func (c *cli) dbLogin(dsn string) (finisher, error) {
	st, err := openStore(context.Background(), dsn)
	if err != nil {
		return nil, err
	}
	_ = st.Close()
	return func(ctx context.Context, cfg *oauth2.Config, code string) (saved, error) {
		st, err := openStore(ctx, dsn)
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
		return saved{account: fmt.Sprintf(" to account %d", id), place: redactDSN(dsn)}, nil
	}, nil
}

// openStore opens an inboxsync database; a DSN it cannot use is a usage
// error.
func openStore(ctx context.Context, dsn string) (*inboxsync.Store, error) {
	st, err := inboxsync.Open(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", redactDSN(dsn), err)
	}
	return st, nil
}

// redactDSN hides a database password, for messages.
func redactDSN(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && u.User != nil {
		return u.Redacted()
	}
	return dsn
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
// for the account.
func (c *cli) storeClient(ctx context.Context, st *inboxsync.Store, accountID int64, extra ...bookingsync.Option) (*bookingsync.Client, error) {
	return c.storedClient(ctx, st.TokenStore(accountID), extra...)
}
