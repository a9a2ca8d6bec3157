package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/go-bookingsync/bookingsync"
	"golang.org/x/oauth2"
)

// baseURL is BOOKINGSYNC_BASE_URL, or the production site.
func (c *cli) baseURL() string {
	return strings.TrimRight(cmp.Or(c.getenv("BOOKINGSYNC_BASE_URL"), bookingsync.DefaultBaseURL), "/")
}

// oauthConfig is the application's OAuth configuration from the
// environment; ClientID is "" when BOOKINGSYNC_CLIENT_ID is unset.
func (c *cli) oauthConfig(redirectURL string, scopes []string) *oauth2.Config {
	return &oauth2.Config{
		ClientID:     c.getenv("BOOKINGSYNC_CLIENT_ID"),
		ClientSecret: c.getenv("BOOKINGSYNC_CLIENT_SECRET"),
		Endpoint:     bookingsync.Endpoint(c.baseURL()),
		RedirectURL:  redirectURL,
		Scopes:       scopes,
	}
}

// tokenPath is the file `login` saves the token in and the other commands
// read it from: <user config dir>/bookingsync/token-<host>.json, one file
// per site so that a sandbox's or a fake's token never replaces the
// production one.
func (c *cli) tokenPath() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("no configuration directory for the token file: %w", err)
	}
	u, err := url.Parse(c.baseURL())
	if err != nil || u.Host == "" {
		return "", usageError("BOOKINGSYNC_BASE_URL is not a URL")
	}
	host := strings.NewReplacer(":", "_", "/", "_").Replace(u.Host)
	return filepath.Join(dir, "bookingsync", "token-"+host+".json"), nil
}

// client returns an API client for the commands that read and write:
// BOOKINGSYNC_TOKEN when set, else the token `login` stored, refreshed
// (and saved again) when BOOKINGSYNC_CLIENT_ID and _SECRET are set. extra
// options come after the tool's own.
func (c *cli) client(ctx context.Context, extra ...bookingsync.Option) (*bookingsync.Client, error) {
	opts := append(c.baseOptions(), extra...)
	if tok := c.getenv("BOOKINGSYNC_TOKEN"); tok != "" {
		return c.newClient(append(opts, bookingsync.WithToken(tok)))
	}
	path, err := c.tokenPath()
	if err != nil {
		return nil, err
	}
	return c.storedClient(ctx, bookingsync.NewFileTokenStore(path), fileLocker(path+".lock"), extra...)
}

// storedClient is a client acting with the token store keeps: refreshed
// and saved back there when BOOKINGSYNC_CLIENT_ID and _SECRET are set,
// used as it is otherwise. Every refresh takes lock (when not nil), the
// lock every process refreshing the same store takes, and reads the store
// again under it: a token another process refreshed meanwhile is used,
// not refreshed twice.
func (c *cli) storedClient(ctx context.Context, store bookingsync.TokenStore, lock bookingsync.Locker, extra ...bookingsync.Option) (*bookingsync.Client, error) {
	opts := append(c.baseOptions(), extra...)
	tok, err := store.Load(ctx)
	if errors.Is(err, bookingsync.ErrNoToken) {
		return nil, authError("no token: set BOOKINGSYNC_TOKEN or run 'bookingsync login'")
	}
	if err != nil {
		return nil, err
	}
	cfg := c.oauthConfig("", nil)
	if cfg.ClientID == "" || cfg.ClientSecret == "" {
		if !tok.Valid() {
			return nil, authError("the stored token has expired: set BOOKINGSYNC_CLIENT_ID and BOOKINGSYNC_CLIENT_SECRET to refresh it, or run 'bookingsync login'")
		}
		return c.newClient(append(opts, bookingsync.WithToken(tok.AccessToken)))
	}
	var withLock []bookingsync.StoredTokenOption
	if lock != nil {
		withLock = append(withLock, bookingsync.WithLocker(lock))
	}
	ts := bookingsync.NewStoredTokenSource(ctx, cfg, store, withLock...)
	return c.newClient(append(opts, bookingsync.WithTokenSource(ts)))
}

// baseOptions are every client's: the site and the tool's name.
func (c *cli) baseOptions() []bookingsync.Option {
	return []bookingsync.Option{bookingsync.WithBaseURL(c.baseURL()), bookingsync.WithUserAgent(userAgent())}
}

func (c *cli) newClient(opts []bookingsync.Option) (*bookingsync.Client, error) {
	cl, err := bookingsync.NewClient(opts...)
	if err != nil {
		// A bad base URL is the only option that can fail here.
		return nil, usageError("BOOKINGSYNC_BASE_URL: %v", err)
	}
	return cl, nil
}
