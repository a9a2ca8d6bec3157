package inboxsync

import (
	"context"
	"encoding/json"
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
	tok, err := cfg.Exchange(ctx, code)
	if err != nil {
		// x/oauth2's error carries the server's answer, never the code.
		return 0, fmt.Errorf("inboxsync: install: exchanging the code: %w", err)
	}
	c, err := bookingsync.NewClient(append(opts, bookingsync.WithTokenSource(oauth2.StaticTokenSource(tok)))...)
	if err != nil {
		return 0, fmt.Errorf("inboxsync: install: %w", err)
	}
	id, err := meAccount(ctx, c)
	if err != nil {
		return 0, fmt.Errorf("inboxsync: install: %w", err)
	}
	if err := s.TokenStore(id).Save(ctx, tok); err != nil {
		return 0, fmt.Errorf("inboxsync: install: %w", err)
	}
	return id, nil
}

// meAccount asks GET /me for the account the client's token acts for. The
// answer is an accounts_applications record whose links.account (or
// account attribute) is the id.
func meAccount(ctx context.Context, c *bookingsync.Client) (int64, error) {
	req, err := c.NewRequest(ctx, "GET", "me", nil)
	if err != nil {
		return 0, err
	}
	type me struct {
		Account json.Number `json:"account"`
		Links   struct {
			Account json.Number `json:"account"`
		} `json:"links"`
	}
	var body struct {
		Apps []me `json:"accounts_applications"`
	}
	if _, err := c.Do(req, &body); err != nil {
		return 0, fmt.Errorf("GET /me: %w", err)
	}
	if len(body.Apps) != 1 {
		return 0, fmt.Errorf("GET /me: %d records, want 1", len(body.Apps))
	}
	for _, v := range []json.Number{body.Apps[0].Links.Account, body.Apps[0].Account} {
		if id, err := v.Int64(); err == nil && id > 0 {
			return id, nil
		}
	}
	return 0, errors.New("GET /me: no account id in the answer")
}
