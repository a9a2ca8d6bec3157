package inboxsync

// The Fleet: its configuration and its Run loop. Its jobs each have a
// file: fleet_balance.go (leases and runs), fleet_clients.go (one client per
// account), fleet_tokensource.go (uninstall on invalid_grant),
// fleet_webhooks.go (webhook intake), fleet_ratebudget.go (the shared rate
// budget), fleet_install.go (installs), fleet_tokens.go and
// fleet_accounts.go (the accounts table). The fleet builds on the
// one-account copy (Store, Syncer), which knows nothing of it.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/go-bookingsync/bookingsync"
	"github.com/go-bookingsync/bookingsync/inboxsync/internal/testsignal"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
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
	// MeterProvider and TracerProvider receive the fleet's series and
	// traces (see the Metric constants, WithTracerProvider and
	// APIObserver, which every account's client has); default: the
	// global providers.
	MeterProvider  metric.MeterProvider
	TracerProvider trace.TracerProvider
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
	tel *telemetry

	mu      sync.Mutex
	clients map[int64]*fleetClient
	running map[int64]*accountRun
	idle    bool // no account is installed: said once (balance)

	signals fleetSignals
}

// fleetSignals are the events a test waits on instead of sleeping
// (testsignal), and its hand on the beat; inert unless a test arms them
// (export_fleet_test.go).
type fleetSignals struct {
	beat    testsignal.Signal[struct{}] // a beat (balance and dispatch) ended
	started testsignal.Signal[int64]    // an account's run started here
	passed  testsignal.Signal[int64]    // an account's Syncer ended a pass
	beatNow chan struct{}               // a test's beat, besides the ticker's; nil (never) in production
}

// NewFleet returns a Fleet over st.
func NewFleet(st *Store, cfg FleetConfig) (*Fleet, error) {
	if st == nil || cfg.OAuth == nil {
		return nil, errors.New("inboxsync: NewFleet: a store and an OAuth config are required")
	}
	if err := st.writable("NewFleet"); err != nil {
		return nil, err
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
		cfg.Replica = newHolderID()
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Fleet{st: st, cfg: cfg, log: log.With("replica", cfg.Replica), tel: newTelemetry(cfg.MeterProvider, cfg.TracerProvider),
		clients: map[int64]*fleetClient{}, running: map[int64]*accountRun{}}, nil
}

// Replica is this replica's name in the database.
func (f *Fleet) Replica() string { return f.cfg.Replica }

// Run takes this replica's share of the installed accounts and syncs them
// (see Fleet) until ctx ends, then stops their syncs, frees their leases
// and returns nil. It returns an error only when it cannot start (the
// database is unreachable); later database failures are logged and
// retried on the next beat, the fences stopping the accounts whose leases
// could not be renewed.
func (f *Fleet) Run(ctx context.Context) error {
	ttl := f.cfg.LeaseTTL
	if err := f.st.heartbeat(ctx, f.cfg.Replica, ttl); err != nil {
		if ctx.Err() != nil {
			// Ended while starting: that is ctx ending, not a failure
			// to start. The heartbeat may have been written all the
			// same: leave the fleet as at any end.
			f.stop()
			return nil
		}
		return fmt.Errorf("inboxsync: fleet: %w", err)
	}
	defer f.stop()
	defer f.st.observe(f.cfg.MeterProvider)()
	defer f.observe()()
	// Replicas started together (a deploy) see each other before taking
	// leases, rather than one taking every account and handing half back.
	select {
	case <-ctx.Done():
		return nil
	case <-time.After(min(ttl/3, 2*time.Second)):
	case <-f.signals.beatNow:
	}
	beat := time.NewTicker(ttl / 3)
	defer beat.Stop()
	poll := time.NewTicker(f.cfg.DeliveryPoll)
	defer poll.Stop()
	lastPrune := time.Time{}
	for {
		f.balance(ctx)
		f.dispatch(ctx)
		f.signals.beat.Signal(struct{}{})
		if time.Since(lastPrune) > time.Hour {
			lastPrune = time.Now()
			if err := f.pruneDeliveries(ctx, 7*24*time.Hour); err != nil && ctx.Err() == nil {
				f.log.Warn("inboxsync: pruning deliveries", "error", err.Error())
			}
		}
		for next := false; !next; {
			select {
			case <-ctx.Done():
				return nil
			case <-beat.C:
				next = true
			case <-f.signals.beatNow:
				next = true
			case <-poll.C:
				f.dispatch(ctx)
			}
		}
	}
}

// forget ends the account's client (it fails from now on, see Client),
// drops it and stops the account's sync here; the lease was cleared with
// the token.
func (f *Fleet) forget(accountID int64) {
	f.mu.Lock()
	if fc := f.clients[accountID]; fc != nil {
		fc.gone.Store(true) // wherever it was handed out
	}
	delete(f.clients, accountID)
	r := f.running[accountID]
	f.mu.Unlock()
	if r != nil {
		r.cancel()
	}
}

// forgetUninstalled forgets the clients of accounts that another replica
// (or Store.Uninstall) uninstalled.
func (f *Fleet) forgetUninstalled(ctx context.Context) error {
	f.mu.Lock()
	ids := make([]int64, 0, len(f.clients))
	for id := range f.clients {
		ids = append(ids, id)
	}
	f.mu.Unlock()
	if len(ids) == 0 {
		return nil
	}
	db, err := f.st.controlDB()
	if err != nil {
		return err
	}
	list, args := idList(ids)
	rows, err := f.st.query(ctx, db, `SELECT account_id FROM accounts WHERE token IS NULL AND account_id IN (`+list+`)`, args...)
	if err != nil {
		return err
	}
	gone, err := scanIDSet(rows)
	for id := range gone {
		// Forgotten before it is said: a reader of the log (a test) then
		// finds the client ended.
		f.forget(id)
		f.log.Info("inboxsync: account uninstalled elsewhere; its client ends here", "account", id)
	}
	return err
}
