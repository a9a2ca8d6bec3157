package inboxsync

// The fleet's token source: the account's stored token source, which
// uninstalls the account when its refresh token is refused.

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/go-bookingsync/bookingsync"
	"golang.org/x/oauth2"
)

// fleetTokenSource is the account's StoredTokenSource, which uninstalls
// the account when the token endpoint refuses its refresh token. It wraps
// the source rather than embedding it, so that every way to a token the
// client takes passes through check.
type fleetTokenSource struct {
	src    *bookingsync.StoredTokenSource
	f      *Fleet
	tokens *accountTokens
	gone   *atomic.Bool // the account was uninstalled: no token any more
}

var (
	_ bookingsync.TokenSourceContext = (*fleetTokenSource)(nil)
	_ bookingsync.TokenRefresher     = (*fleetTokenSource)(nil)
)

func (s *fleetTokenSource) Token() (*oauth2.Token, error) {
	if s.gone.Load() {
		return nil, s.revoked()
	}
	t, err := s.src.Token()
	s.check(err)
	return t, err
}

func (s *fleetTokenSource) TokenContext(ctx context.Context) (*oauth2.Token, error) {
	if s.gone.Load() {
		return nil, s.revoked()
	}
	t, err := s.src.TokenContext(ctx)
	s.check(err)
	return t, err
}

func (s *fleetTokenSource) RefreshToken(ctx context.Context, rejected *oauth2.Token) (*oauth2.Token, error) {
	if s.gone.Load() {
		return nil, s.revoked()
	}
	t, err := s.src.RefreshToken(ctx, rejected)
	s.check(err)
	return t, err
}

// revoked is the error of a token asked for after the uninstall.
func (s *fleetTokenSource) revoked() error {
	return fmt.Errorf("inboxsync: account %d: %w: %w", s.tokens.id, ErrAccountRevoked, bookingsync.ErrNoToken)
}

// check uninstalls the account after an invalid_grant: the refresh token
// the store held is dead, so is the account's access, until the user
// installs the application again.
func (s *fleetTokenSource) check(err error) {
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	revoked, rerr := s.tokens.revokeLoaded(ctx, "invalid_grant on refresh")
	if rerr != nil {
		s.f.log.Error("inboxsync: uninstalling after invalid_grant", "account", s.tokens.id, "error", rerr.Error())
		return
	}
	if revoked {
		s.f.log.Warn("inboxsync: account uninstalled: its refresh token was refused (invalid_grant)", "account", s.tokens.id)
		s.f.forget(s.tokens.id)
	}
}
