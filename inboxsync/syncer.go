package inboxsync

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/go-bookingsync/bookingsync"
	"github.com/go-bookingsync/bookingsync/inboxsync/internal/testsignal"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
)

// Syncer mirrors one account's Inbox into a Store through a client whose
// token acts for that account. Its methods are safe for concurrent use;
// several Syncers (in one process or in replicas sharing the database) may
// run for the same account: a lease per (account, resource) makes sure only
// one walks a resource at a time.
type Syncer struct {
	st       *Store
	acct     int64
	c        *bookingsync.Client
	holder   string // this syncer's name in sync_leases
	reserve  float64
	leaseTTL time.Duration
	log      *slog.Logger
	now      func() time.Time
	// after is how the Syncer waits (Run's period, backoff and cue delay,
	// keepReserve): time.After, or a test's hand (export_test.go).
	after  func(time.Duration) <-chan time.Time
	outbox OutboxPolicy // deliver.go
	mp     metric.MeterProvider
	tp     trace.TracerProvider
	tel    *telemetry // metrics.go

	cue    chan struct{} // a webhook asks for a pass soon; buffered, coalesced
	passMu sync.Mutex    // one pass at a time in this process

	passed *testsignal.Signal[int64] // Run's passes, with the account: a Fleet's tests wait on them

	meMu      sync.Mutex
	tokenAcct int64 // the account the client's token acts for (GET /me), once known

	// A walk's fetches may run at once (the client's WithPrefetch).
	countMu   sync.Mutex // a pass's Report.Requests and Report.Waited
	reserveMu sync.Mutex // one fetch at a time keeps the rate-limit reserve
}

// ErrNilClient is returned by Sync and HandleEvent of a Syncer made by New
// with a nil client or store.
var ErrNilClient = errors.New("inboxsync: the Syncer has no client or no store (New was given nil)")

// ErrAccountMismatch is what an *AccountMismatchError matches (errors.Is):
// the client's token acts for another account than the Syncer's.
var ErrAccountMismatch = errors.New("inboxsync: the token acts for another account")

// AccountMismatchError is returned by Sync and HandleEvent, before any
// write, when GET /me says that the client's token acts for another
// account than the one the Syncer mirrors: its records would be filed
// under the wrong account.
type AccountMismatchError struct {
	AccountID      int64 // the account the Syncer mirrors (New's accountID)
	TokenAccountID int64 // the account the token acts for (GET /me)
}

func (e *AccountMismatchError) Error() string {
	return fmt.Sprintf("inboxsync: the token acts for account %d, not account %d: nothing is synced, so that no record is filed under the wrong account",
		e.TokenAccountID, e.AccountID)
}

// Is makes errors.Is(err, ErrAccountMismatch) hold.
func (e *AccountMismatchError) Is(target error) bool { return target == ErrAccountMismatch }

// Option configures a Syncer.
type Option func(*Syncer)

// WithRateReserve sets the share of the rate-limit budget a Syncer leaves
// to the integrator's own calls (default 0.1): when the last response said
// that no more than this share of X-RateLimit-Limit remains, the syncer
// waits for X-RateLimit-Reset before its next request instead of spending
// it. 0 spends the whole budget.
func WithRateReserve(share float64) Option {
	return func(s *Syncer) { s.reserve = min(max(share, 0), 1) }
}

// WithLeaseTTL sets how long a resource's lease lasts without renewal
// (default 2 minutes). A replica renews it with every page it writes; when
// one dies mid-walk another may take the resource over after this time.
func WithLeaseTTL(d time.Duration) Option {
	return func(s *Syncer) {
		if d > 0 {
			s.leaseTTL = d
		}
	}
}

// WithLogger makes the syncer log its passes and errors (default: none).
func WithLogger(l *slog.Logger) Option {
	return func(s *Syncer) {
		if l != nil {
			s.log = l
		}
	}
}

// WithTokenAccount tells the Syncer which account its client's token acts
// for, as the caller already learned it from GET /me (Client.Me): the
// Syncer then does not ask again. It still refuses to write when id is
// not its own account (AccountMismatchError).
func WithTokenAccount(id int64) Option {
	return func(s *Syncer) {
		if id > 0 {
			s.tokenAcct = id
		}
	}
}

// New returns a Syncer mirroring account accountID into st through c; c's
// token must act for that account (with the inbox_read scope). Before its
// first write the Syncer asks GET /me, once, which account the token acts
// for, and refuses to write under another one (AccountMismatchError). A
// nil st or c makes every Sync fail with ErrNilClient.
func New(st *Store, accountID int64, c *bookingsync.Client, opts ...Option) *Syncer {
	s := &Syncer{
		st: st, acct: accountID, c: c,
		holder:   newHolderID(),
		reserve:  0.1,
		leaseTTL: 2 * time.Minute,
		log:      slog.New(slog.DiscardHandler),
		now:      time.Now,
		after:    time.After,
		cue:      make(chan struct{}, 1),
		outbox:   OutboxPolicy{}.withDefaults(),
	}
	for _, o := range opts {
		o(s)
	}
	s.tel = newTelemetry(s.mp, s.tp)
	return s
}

// AccountID is the account this syncer mirrors.
func (s *Syncer) AccountID() int64 { return s.acct }

// Report is what one pass did.
type Report struct {
	// Requests is the number of API requests this pass made (a request the
	// client retried counts once).
	Requests int
	// Resources has one entry per resource the pass looked at, in order.
	Resources []ResourceReport
	// Waited is how long the pass waited for a rate-limit reset to keep
	// the reserve.
	Waited time.Duration
}

// ResourceReport is what a pass did to one resource.
type ResourceReport struct {
	Resource string // the table: "conversations", "messages", …
	Pages    int    // pages fetched
	Upserted int    // records written, new or changed
	Deleted  int    // records removed (meta.deleted_ids)
	// Advanced reports whether the walk completed and moved the cursor.
	// It stays false when another replica held the resource (Skipped),
	// when the server gave no X-Updated-Since-Request-Synced-At, and when
	// records were deleted during the walk (page numbers may then have
	// shifted past a record: the next pass walks the same window again).
	Advanced bool
	// SetAside counts the records (and deleted ids) the walk could not
	// store: an id of 0 or below, a time that does not parse, a record
	// that is no JSON object. The rest of their pages was written; the
	// cursor did not advance (Advanced is false), so the next pass lists
	// them again. Each is logged (Warn) with its reason.
	SetAside int
	// Skipped reports that another syncer held the resource's lease.
	Skipped bool
	// Forbidden reports that the token lacks the resource's scope
	// (bookings_read, clients_read, applications_read): the resource is
	// not mirrored.
	Forbidden bool

	unsettled bool // records were deleted during the walk; the cursor stayed
}

// Changed is the number of records written or removed.
func (r ResourceReport) Changed() int { return r.Upserted + r.Deleted }

// unsettled reports whether a walk kept its cursor because records were
// deleted during it.
func (r *Report) unsettled() bool {
	for _, rr := range r.Resources {
		if rr.unsettled {
			return true
		}
	}
	return false
}

// Changed is the number of records the pass wrote or removed.
func (r *Report) Changed() int {
	n := 0
	for _, rr := range r.Resources {
		n += rr.Changed()
	}
	return n
}

// firstCursor is where a resource's first walk starts: before any account
// existed. Listing with updated_since (rather than without) makes the
// server hand back the cursor for the next walk.
var firstCursor = time.Date(2010, 1, 1, 0, 0, 0, 0, time.UTC)

// Sync makes one pass over every mirrored resource: hosts, conversations,
// participants, messages, attachments, bookings (every status), guests
// and rentals, each an account-wide listing from the resource's stored
// cursor (updated_since), one page in memory at a time, deleted_ids
// applied; then the applications that created conversations and are not
// yet known, every page of their id-list GETs. A resource whose scope the
// token lacks is skipped (ResourceReport.Forbidden).
//
// Each page is written in one transaction; a resource's cursor advances
// only when its walk completes, in the transaction of its last page. A pass
// that fails half-way leaves the copy stale, never wrong, and the next
// pass resumes from the old cursor. The report is returned with the error,
// telling what was done before it.
func (s *Syncer) Sync(ctx context.Context) (*Report, error) {
	ctx, done := s.tel.startPass(ctx, s.acct)
	rep, err := s.sync(ctx)
	done(err)
	return rep, err
}

func (s *Syncer) sync(ctx context.Context) (*Report, error) {
	s.passMu.Lock()
	defer s.passMu.Unlock()
	rep := &Report{}
	if err := s.ready(ctx, rep); err != nil {
		return rep, err
	}
	for _, r := range walked {
		rr, err := s.walk(ctx, r, rep)
		rep.Resources = append(rep.Resources, rr)
		if err != nil {
			return rep, err
		}
	}
	rr, err := s.syncApplications(ctx, rep)
	rep.Resources = append(rep.Resources, rr)
	if err != nil {
		return rep, err
	}
	s.log.LogAttrs(ctx, slog.LevelDebug, "inboxsync: pass", slog.Int64("account", s.acct),
		slog.Int("requests", rep.Requests), slog.Int("changed", rep.Changed()))
	return rep, nil
}

// ready is nil when the syncer may write: it has a client, its store is
// writable, and its token acts for its account. GET /me is asked once and
// its answer kept: a token acts for one account as long as it lives, its
// refreshes included; a failed request is asked again next time.
func (s *Syncer) ready(ctx context.Context, rep *Report) error {
	if s.c == nil || s.st == nil {
		return ErrNilClient
	}
	if err := s.st.writable("sync"); err != nil {
		return err
	}
	s.meMu.Lock()
	defer s.meMu.Unlock()
	if s.tokenAcct == 0 {
		rep.Requests++
		me, _, err := s.c.Me(ctx)
		if err != nil {
			return fmt.Errorf("inboxsync: asking which account the token acts for (GET /me): %w", err)
		}
		if me.AccountID <= 0 {
			return errors.New("inboxsync: GET /me named no account: a token that acts for no one account (client credentials) cannot sync")
		}
		s.tokenAcct = me.AccountID
	}
	if s.tokenAcct != s.acct {
		return &AccountMismatchError{AccountID: s.acct, TokenAccountID: s.tokenAcct}
	}
	return nil
}
