package inboxsync

// The fleet's clients: one bookingsync.Client per account in this
// process, with the stored token, the host lock and the shared rate budget.

import (
	"context"
	"strconv"
	"sync/atomic"

	"github.com/go-bookingsync/bookingsync"
	"golang.org/x/oauth2"
)

// fleetClient is the one client of an account in this process.
type fleetClient struct {
	c      *bookingsync.Client
	tokens *accountTokens
	// gone is set when the account is uninstalled (Fleet.forget): the
	// client, wherever it was handed, then fails without a request.
	gone *atomic.Bool
}

// Client returns the client of an installed account, the same one every
// time in this process. Its token comes from the store
// (TokenStore(accountID)), refreshed under the account's Locker, and saved
// only over the token it was refreshed from; a refresh answered
// invalid_grant uninstalls the account. Its rate budget is shared with
// every replica (RateBudget). Its Participants.EnsureHost,
// EnsureHostFor and Messages.SendAsHost take a lock keyed by
// (conversation, host) in the database before adding a participant, and
// read the participants again under it: however many replicas call them
// at once, at most one Host participant is created.
//
// It fails with an error wrapping bookingsync.ErrNoToken (and
// ErrAccountRevoked after an uninstall) when the account has no token. A
// client handed out before an uninstall fails from then on too, with
// ErrAccountRevoked and without sending a request: at once when this
// replica learnt of the uninstall, within a lease renewal (LeaseTTL/3)
// when another did. A later installation needs a new Client.
func (f *Fleet) Client(ctx context.Context, accountID int64) (*bookingsync.Client, error) {
	f.mu.Lock()
	fc := f.clients[accountID]
	f.mu.Unlock()
	if fc == nil {
		if _, err := f.st.TokenStore(accountID).Load(ctx); err != nil {
			return nil, err
		}
	}
	fc, err := f.client(accountID)
	if err != nil {
		return nil, err
	}
	return fc.c, nil
}

// client returns the account's client, building it the first time; the
// token is read when the first request needs it.
func (f *Fleet) client(accountID int64) (*fleetClient, error) {
	f.mu.Lock()
	fc := f.clients[accountID]
	f.mu.Unlock()
	if fc != nil {
		return fc, nil
	}
	tokens := &accountTokens{st: f.st, id: accountID}
	tctx := context.Background()
	if f.cfg.HTTPClient != nil {
		tctx = context.WithValue(tctx, oauth2.HTTPClient, f.cfg.HTTPClient)
	}
	gone := &atomic.Bool{}
	src := &fleetTokenSource{
		src: bookingsync.NewStoredTokenSource(tctx, f.cfg.OAuth, tokens, bookingsync.WithLocker(f.st.Locker(accountID))),
		f:   f, tokens: tokens, gone: gone,
	}
	opts := append(append([]bookingsync.Option{}, f.cfg.ClientOptions...),
		bookingsync.WithTokenSource(src),
		bookingsync.WithHostLocker(f.st.hostLocker),
		bookingsync.WithRateShare(f.st.RateBudget(accountID)),
		bookingsync.WithObserver(APIObserver(f.cfg.MeterProvider, f.cfg.TracerProvider)))
	c, err := bookingsync.NewClient(opts...)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if fc := f.clients[accountID]; fc != nil {
		return fc, nil // another goroutine built it first
	}
	fc = &fleetClient{c: c, tokens: tokens, gone: gone}
	f.clients[accountID] = fc
	return fc, nil
}

// hostLocker is the lock of Fleet.Client's EnsureHost: one per
// (conversation, host), across replicas.
func (s *Store) hostLocker(conversationID, hostID int64) bookingsync.Locker {
	return namedLock{s, "host:" + strconv.FormatInt(conversationID, 10) + ":" + strconv.FormatInt(hostID, 10)}
}
