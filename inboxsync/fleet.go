package inboxsync

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/go-bookingsync/bookingsync"
	"golang.org/x/oauth2"
)

// FleetConfig configures a Fleet.
type FleetConfig struct {
	// OAuth is the application's OAuth configuration (client id, secret,
	// endpoint; see bookingsync.Endpoint): the accounts' tokens are
	// refreshed with it.
	OAuth *oauth2.Config
	// ClientOptions configure every account's client (base URL, HTTP
	// client, logger, retry policy…); the fleet adds the token source,
	// the host lock and the shared rate budget.
	ClientOptions []bookingsync.Option
	// Every is the period of each account's passes (default 5 minutes).
	Every time.Duration
	// WebhookSecret is the application's client secret, which signs the
	// webhook deliveries (WebhookHandler).
	WebhookSecret string

	// HTTPClient, if set, makes the token requests (refreshes). Give the
	// API's client to ClientOptions with bookingsync.WithHTTPClient.
	HTTPClient *http.Client
	// SyncOptions configure every account's Syncer (rate reserve, logger…).
	// Its resource leases last LeaseTTL unless an option says otherwise.
	SyncOptions []Option
	// Replica names this replica in the database (default: host name,
	// process id and a random suffix). Names must be unique among live
	// replicas.
	Replica string
	// LeaseTTL is how long a replica keeps an account without renewing its
	// lease (default 30s): a replica that dies leaves its accounts to the
	// others within about this time. Leases are renewed every LeaseTTL/3.
	LeaseTTL time.Duration
	// DeliveryPoll is how often a replica looks for webhook deliveries
	// received by the others for the accounts it syncs (default 1s).
	// Deliveries it receives itself are acted on at once.
	DeliveryPoll time.Duration
	// Logger receives the fleet's events: leases taken and released,
	// uninstalls, failures (default: none).
	Logger *slog.Logger
}

// Fleet syncs every installed account of a Store, spread over all the
// replicas that run it against the same database. Build it with NewFleet.
//
// Each account is synced by one replica at a time: Run takes leases on
// accounts (an account's lease is a row of the accounts table, held until
// it expires by the database's clock unless renewed), each replica taking
// its fair share (the installed accounts divided by the live replicas),
// and runs an account's Syncer only while it holds its lease. Leases are
// renewed every LeaseTTL/3; a replica that cannot renew stops the account
// before its lease can expire, so that two replicas never sync one
// account at once; a replica that stops cleanly frees its leases at once;
// one that dies leaves them to expire, and the others take them over
// within LeaseTTL. A replica joining takes its share as the others shed
// their excess; replicas started together wait a moment (LeaseTTL/3, at
// most 2s) to see each other before taking any. The fleet's bookkeeping
// runs on connections of its own, so that a replica busy syncing renews
// its leases on time.
//
// Everything a replica does for an account goes through one client per
// account (Client): its token is in the database and refreshed under a
// lock held across replicas, its rate budget is shared through the
// database, and its EnsureHost and SendAsHost never add a second Host
// participant, whichever replicas call them at once.
type Fleet struct {
	st  *Store
	cfg FleetConfig
	log *slog.Logger

	mu      sync.Mutex
	clients map[int64]*fleetClient
	running map[int64]*accountRun
	poke    chan struct{} // deliveries to act on: look now
}

// fleetClient is the one client of an account in this process.
type fleetClient struct {
	c      *bookingsync.Client
	tokens *accountTokens
}

// accountRun is an account this replica syncs.
type accountRun struct {
	cancel     context.CancelFunc
	done       chan struct{}
	syncer     *Syncer
	fence      *time.Timer // stops the run if the lease is not renewed in time
	deliveries chan delivery
	// dispatched is the last delivery id handed to the run (under
	// Fleet.mu): a look at the table that raced the run's own progress
	// hands nothing twice. A delivery whose handling failed is tried
	// again by the account's next run; the periodic pass covers it anyway.
	dispatched int64
}

// NewFleet returns a Fleet over st.
func NewFleet(st *Store, cfg FleetConfig) (*Fleet, error) {
	if st == nil || cfg.OAuth == nil {
		return nil, errors.New("inboxsync: NewFleet: a store and an OAuth config are required")
	}
	if cfg.Every <= 0 {
		cfg.Every = 5 * time.Minute
	}
	if cfg.LeaseTTL <= 0 {
		cfg.LeaseTTL = 30 * time.Second
	}
	if cfg.DeliveryPoll <= 0 {
		cfg.DeliveryPoll = time.Second
	}
	if cfg.Replica == "" {
		host, _ := os.Hostname()
		cfg.Replica = fmt.Sprintf("%s/%d/%s", host, os.Getpid(), randomID()[:8])
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Fleet{st: st, cfg: cfg, log: log.With("replica", cfg.Replica),
		clients: map[int64]*fleetClient{}, running: map[int64]*accountRun{}, poke: make(chan struct{}, 1)}, nil
}

// Replica is this replica's name in the database.
func (f *Fleet) Replica() string { return f.cfg.Replica }

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
// ErrAccountRevoked after an uninstall) when the account has no token.
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
	src := &fleetTokenSource{
		src: bookingsync.NewStoredTokenSource(tctx, f.cfg.OAuth, tokens, bookingsync.WithLocker(f.st.Locker(accountID))),
		f:   f, tokens: tokens,
	}
	opts := append(append([]bookingsync.Option{}, f.cfg.ClientOptions...),
		bookingsync.WithTokenSource(src),
		bookingsync.WithHostLocker(f.st.hostLocker),
		bookingsync.WithRateShare(f.st.RateBudget(accountID)))
	c, err := bookingsync.NewClient(opts...)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if fc := f.clients[accountID]; fc != nil {
		return fc, nil // another goroutine built it first
	}
	fc = &fleetClient{c: c, tokens: tokens}
	f.clients[accountID] = fc
	return fc, nil
}

// fleetTokenSource is the account's StoredTokenSource, which uninstalls
// the account when the token endpoint refuses its refresh token. It wraps
// the source rather than embedding it, so that every way to a token the
// client takes passes through check.
type fleetTokenSource struct {
	src    *bookingsync.StoredTokenSource
	f      *Fleet
	tokens *accountTokens
}

var (
	_ bookingsync.TokenSourceContext = (*fleetTokenSource)(nil)
	_ bookingsync.TokenRefresher     = (*fleetTokenSource)(nil)
)

func (s *fleetTokenSource) Token() (*oauth2.Token, error) {
	t, err := s.src.Token()
	s.check(err)
	return t, err
}

func (s *fleetTokenSource) TokenContext(ctx context.Context) (*oauth2.Token, error) {
	t, err := s.src.TokenContext(ctx)
	s.check(err)
	return t, err
}

func (s *fleetTokenSource) RefreshToken(ctx context.Context, rejected *oauth2.Token) (*oauth2.Token, error) {
	t, err := s.src.RefreshToken(ctx, rejected)
	s.check(err)
	return t, err
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

// forget drops the account's client and stops its sync here; the lease
// was cleared with the token.
func (f *Fleet) forget(accountID int64) {
	f.mu.Lock()
	delete(f.clients, accountID)
	r := f.running[accountID]
	f.mu.Unlock()
	if r != nil {
		r.cancel()
	}
}

// WebhookHandler returns the http.Handler of BookingSync's deliveries for
// every account, to mount on every replica. It verifies the signature
// (WebhookSecret), records the delivery in the database (the same delivery
// twice is recorded once) and answers 200 as soon as it is stored, before
// anything is done about it; the replica syncing the account then acts on
// it (HandleEvent: a re-read of the record and a pass soon), at once when
// that is this replica, within DeliveryPoll otherwise. A delivery that
// cannot be stored is answered 500 so that BookingSync delivers it again.
// Deliveries for accounts that are not installed are acknowledged and
// dropped.
//
// An accounts_application_destroyed delivery uninstalls the account
// (Store.Uninstall) before it is acknowledged.
func (f *Fleet) WebhookHandler() http.Handler {
	return bookingsync.NewWebhookHandler(f.cfg.WebhookSecret, f.receive)
}

func (f *Fleet) receive(ctx context.Context, e *bookingsync.WebhookEvent) error {
	if e.Event == bookingsync.EventApplicationDestroyed {
		if err := f.st.Uninstall(ctx, e.AccountID, "accounts_application_destroyed webhook"); err != nil {
			return err
		}
		f.log.Warn("inboxsync: account uninstalled (accounts_application_destroyed)", "account", e.AccountID)
		f.forget(e.AccountID)
		return nil
	}
	fresh, err := f.st.recordDelivery(ctx, e)
	if err != nil {
		f.log.Error("inboxsync: recording a webhook delivery", "account", e.AccountID, "error", err.Error())
		return err
	}
	f.mu.Lock()
	_, mine := f.running[e.AccountID]
	f.mu.Unlock()
	if fresh && mine {
		select {
		case f.poke <- struct{}{}:
		default:
		}
	}
	return nil
}

// Run takes this replica's share of the installed accounts and syncs them
// (see Fleet) until ctx ends, then stops their syncs, frees their leases
// and returns nil. It returns an error only when it cannot start (the
// database is unreachable); later database failures are logged and
// retried on the next beat, the fences stopping the accounts whose leases
// could not be renewed.
func (f *Fleet) Run(ctx context.Context) error {
	ttl := f.cfg.LeaseTTL
	if err := f.st.heartbeat(ctx, f.cfg.Replica, ttl); err != nil {
		return fmt.Errorf("inboxsync: fleet: %w", err)
	}
	defer f.stop()
	// Replicas started together (a deploy) see each other before taking
	// leases, rather than one taking every account and handing half back.
	if !sleep(ctx, min(ttl/3, 2*time.Second)) {
		return nil
	}
	beat := time.NewTicker(ttl / 3)
	defer beat.Stop()
	poll := time.NewTicker(f.cfg.DeliveryPoll)
	defer poll.Stop()
	lastPrune := time.Time{}
	for {
		f.balance(ctx)
		f.dispatch(ctx)
		if time.Since(lastPrune) > time.Hour {
			lastPrune = time.Now()
			if err := f.st.pruneDeliveries(ctx, 7*24*time.Hour); err != nil && ctx.Err() == nil {
				f.log.Warn("inboxsync: pruning deliveries", "error", err.Error())
			}
		}
		for next := false; !next; {
			select {
			case <-ctx.Done():
				return nil
			case <-beat.C:
				next = true
			case <-poll.C:
				f.dispatch(ctx)
			case <-f.poke:
				f.dispatch(ctx)
			}
		}
	}
}

// balance is one beat: say this replica lives, renew its leases, stop the
// accounts it lost, shed its excess over the fair share or take its
// missing share.
func (f *Fleet) balance(ctx context.Context) {
	ttl := f.cfg.LeaseTTL
	start := time.Now()
	if err := f.st.heartbeat(ctx, f.cfg.Replica, ttl); err != nil {
		f.beatFailed(ctx, err)
		return
	}
	held, err := f.st.renewLeases(ctx, f.cfg.Replica, ttl)
	if err != nil {
		f.beatFailed(ctx, err)
		return
	}
	// The leases now run until at least start+ttl by any clock that
	// keeps time: stop an account by then unless renewed again.
	fence := time.Until(start.Add(ttl - ttl/6))
	f.mu.Lock()
	var lost []int64
	for id, r := range f.running {
		if held[id] {
			r.fence.Reset(fence)
		} else {
			lost = append(lost, id)
		}
	}
	f.mu.Unlock()
	for _, id := range lost {
		f.log.Warn("inboxsync: lease lost; account stopped here", "account", id)
	}
	f.stopAccounts(lost)

	share, err := f.st.fairShare(ctx)
	if err != nil {
		f.beatFailed(ctx, err)
		return
	}
	switch {
	case len(held) > share:
		ids := sortedIDs(held)[share:]
		f.stopAccounts(ids)
		for _, id := range ids {
			delete(held, id)
		}
		if err := f.st.releaseLeases(ctx, f.cfg.Replica, ids); err != nil {
			f.beatFailed(ctx, err)
		}
		f.log.Info("inboxsync: leases released to other replicas", "accounts", ids)
	case len(held) < share:
		start = time.Now()
		taken, err := f.st.takeLeases(ctx, f.cfg.Replica, share-len(held), ttl)
		if err != nil {
			f.beatFailed(ctx, err)
			return
		}
		fence = time.Until(start.Add(ttl - ttl/6))
		for id := range taken {
			held[id] = true
			f.startAccount(ctx, id, fence)
		}
	}
	// Held but not running: after a fence fired and the lease survived.
	for id := range held {
		f.mu.Lock()
		_, running := f.running[id]
		f.mu.Unlock()
		if !running {
			f.startAccount(ctx, id, fence)
		}
	}
}

func (f *Fleet) beatFailed(ctx context.Context, err error) {
	if ctx.Err() == nil {
		f.log.Error("inboxsync: fleet beat failed; retrying", "error", err.Error())
	}
}

// startAccount runs the account's Syncer, and the deliveries for it, until
// stopped or its fence fires.
func (f *Fleet) startAccount(ctx context.Context, id int64, fence time.Duration) {
	fc, err := f.client(id)
	if err != nil {
		f.log.Error("inboxsync: account not started", "account", id, "error", err.Error())
		return
	}
	rctx, cancel := context.WithCancel(ctx)
	r := &accountRun{cancel: cancel, done: make(chan struct{}), deliveries: make(chan delivery, 64),
		syncer: New(f.st, id, fc.c, append([]Option{WithLeaseTTL(f.cfg.LeaseTTL)}, f.cfg.SyncOptions...)...)}
	r.fence = time.AfterFunc(fence, func() {
		f.log.Warn("inboxsync: lease not renewed in time; account stopped here", "account", id)
		cancel()
	})
	f.mu.Lock()
	f.running[id] = r
	f.mu.Unlock()
	f.log.Info("inboxsync: account leased; syncing", "account", id)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		r.syncer.Run(rctx, f.cfg.Every)
	}()
	go func() {
		defer wg.Done()
		f.handleDeliveries(rctx, id, r)
	}()
	go func() {
		wg.Wait()
		r.fence.Stop()
		f.mu.Lock()
		if f.running[id] == r {
			delete(f.running, id)
		}
		f.mu.Unlock()
		f.log.Info("inboxsync: account stopped", "account", id)
		close(r.done)
	}()
}

// stopAccounts stops the accounts' runs here, all at once, and waits for
// them to end.
func (f *Fleet) stopAccounts(ids []int64) {
	f.mu.Lock()
	var runs []*accountRun
	for _, id := range ids {
		if r := f.running[id]; r != nil {
			runs = append(runs, r)
		}
	}
	f.mu.Unlock()
	for _, r := range runs {
		r.cancel()
	}
	for _, r := range runs {
		<-r.done
	}
}

// stop ends every run, then frees the leases and leaves the fleet.
func (f *Fleet) stop() {
	f.mu.Lock()
	ids := make([]int64, 0, len(f.running))
	for id := range f.running {
		ids = append(ids, id)
	}
	f.mu.Unlock()
	f.stopAccounts(ids)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := f.st.releaseLeases(ctx, f.cfg.Replica, nil); err != nil {
		f.log.Error("inboxsync: releasing leases at stop; they will expire", "error", err.Error())
	}
	if err := f.st.leaveFleet(ctx, f.cfg.Replica); err != nil {
		f.log.Error("inboxsync: leaving the fleet", "error", err.Error())
	}
}

// dispatch hands the deliveries pending for this replica's accounts to
// their runs.
func (f *Fleet) dispatch(ctx context.Context) {
	pending, err := f.st.pendingDeliveries(ctx, f.cfg.Replica, 500)
	if err != nil {
		f.beatFailed(ctx, err)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, d := range pending {
		r := f.running[d.event.AccountID]
		if r == nil || d.id <= r.dispatched {
			continue
		}
		select {
		case r.deliveries <- d:
			r.dispatched = d.id
		default: // full: the next look hands it over
		}
	}
}

// handleDeliveries acts on the account's deliveries one by one.
func (f *Fleet) handleDeliveries(ctx context.Context, id int64, r *accountRun) {
	for {
		select {
		case <-ctx.Done():
			return
		case d := <-r.deliveries:
			err := r.syncer.HandleEvent(ctx, d.event)
			if ctx.Err() != nil {
				return // not done: the next holder acts on it
			}
			if err != nil {
				f.log.Warn("inboxsync: acting on a webhook delivery failed", "account", id, "event", d.event.Event, "error", err.Error())
			}
			// Done is done, even if the run is stopping now.
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			ferr := f.st.finishDelivery(fctx, d.id, err != nil)
			cancel()
			if ferr != nil {
				f.log.Warn("inboxsync: recording a delivery done", "account", id, "error", ferr.Error())
			}
		}
	}
}

func sortedIDs(set map[int64]bool) []int64 {
	ids := make([]int64, 0, len(set))
	for id := range set {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids
}
