package inboxsync

// Installs: the OAuth callback's exchange, and the reconciliation with
// BookingSync's own list of installed accounts.

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/go-bookingsync/bookingsync"
	"golang.org/x/oauth2"
)

// Install completes an installation from the OAuth callback: it exchanges
// code (the callback's code parameter, once its state was checked) with
// cfg, asks GET /me which account the new token acts for, and saves the
// token under that account, which Fleet.Run then syncs. It returns the
// account's id. opts configure the client that calls /me (base URL, HTTP
// client); an *http.Client in ctx under oauth2.HTTPClient serves the token
// request, as in golang.org/x/oauth2.
//
// Installing an account again (a new authorization) replaces its token
// and clears an earlier uninstall.
func (s *Store) Install(ctx context.Context, cfg *oauth2.Config, code string, opts ...bookingsync.Option) (int64, error) {
	if cfg == nil || strings.TrimSpace(code) == "" {
		return 0, errors.New("inboxsync: install: an OAuth config and a code are required")
	}
	if err := s.writable("install"); err != nil {
		return 0, err
	}
	tok, err := cfg.Exchange(ctx, code)
	if err != nil {
		// x/oauth2's error carries the server's answer, never the code.
		return 0, fmt.Errorf("inboxsync: install: exchanging the code: %w", err)
	}
	c, err := bookingsync.NewClient(append(opts, bookingsync.WithTokenSource(oauth2.StaticTokenSource(tok)))...)
	if err != nil {
		return 0, fmt.Errorf("inboxsync: install: %w", err)
	}
	me, _, err := c.Me(ctx)
	if err != nil {
		return 0, fmt.Errorf("inboxsync: install: GET /me: %w", err)
	}
	id := me.AccountID
	if id <= 0 {
		return 0, errors.New("inboxsync: install: GET /me named no account")
	}
	if err := s.TokenStore(id).Save(ctx, tok); err != nil {
		return 0, fmt.Errorf("inboxsync: install: %w", err)
	}
	return id, nil
}

// Reconciliation is what Fleet.Reconcile found.
type Reconciliation struct {
	// Uninstalled are the accounts installed here that the application's
	// listing no longer shows: they were uninstalled now.
	Uninstalled []int64
	// Unknown are the accounts the listing shows that have no token here:
	// the application is installed on their side, but the OAuth callback
	// never completed (or their token was forgotten); they need Install.
	Unknown []int64
}

// Reconcile compares the installed accounts with BookingSync's own list of
// the accounts that installed the application (GET /accounts with a
// client-credentials token: cc, e.g. bookingsync.ClientCredentials(…).
// TokenSource(ctx)), and uninstalls the accounts that left without an
// accounts_application_destroyed webhook reaching any replica. Only a
// complete listing counts: on any error nothing is uninstalled. Run it
// now and then (daily, say); it costs one request per 100 accounts.
func (f *Fleet) Reconcile(ctx context.Context, cc oauth2.TokenSource) (*Reconciliation, error) {
	c, err := bookingsync.NewClient(append(append([]bookingsync.Option{}, f.cfg.ClientOptions...), bookingsync.WithTokenSource(cc))...)
	if err != nil {
		return nil, fmt.Errorf("inboxsync: reconcile: %w", err)
	}
	listed := map[int64]bool{}
	for a, err := range c.Accounts.All(ctx, nil) {
		if err != nil {
			return nil, fmt.Errorf("inboxsync: reconcile: listing accounts: %w", err)
		}
		listed[a.ID] = true
	}
	accts, err := f.st.Accounts(ctx)
	if err != nil {
		return nil, err
	}
	rec := &Reconciliation{}
	for _, a := range accts {
		switch {
		case a.Installed && !listed[a.ID]:
			if err := f.st.Uninstall(ctx, a.ID, "not in the application's accounts listing"); err != nil {
				return rec, err
			}
			f.log.Warn("inboxsync: account uninstalled (absent from the accounts listing)", "account", a.ID)
			f.forget(a.ID)
			rec.Uninstalled = append(rec.Uninstalled, a.ID)
		case a.Installed:
			delete(listed, a.ID)
		}
	}
	rec.Unknown = sortedIDs(listed) // listed, not installed here
	return rec, nil
}
