package inboxsync

import (
	"context"
	"database/sql"
	"errors"
	"sync"
	"time"

	"github.com/go-bookingsync/bookingsync"
)

// rateCacheFor is how long a replica trusts the budget it read from the
// database before reading it again: a few requests' worth, so that the
// shared budget costs about one small query per request at most.
const rateCacheFor = 250 * time.Millisecond

// RateBudget returns the account's rate-limit budget as shared through
// this database by every client using the account's token: give it to
// bookingsync.NewClient with bookingsync.WithRateShare (Fleet.Client does).
// Each response's X-RateLimit-* is noted in rate_budgets, and each
// request's throttle, and so the Syncer's rate reserve, read the newest
// budget any replica noted (a later reset, or fewer requests left in the
// same window). Database errors are not the request's: the share then
// answers nothing and the client goes by what it saw itself.
func (s *Store) RateBudget(accountID int64) bookingsync.RateShare {
	return &rateBudget{st: s, id: accountID}
}

type rateBudget struct {
	st *Store
	id int64

	mu     sync.Mutex
	cached bookingsync.Rate
	ok     bool
	read   time.Time
}

// Note keeps r unless the table holds a newer budget.
func (b *rateBudget) Note(ctx context.Context, r bookingsync.Rate) {
	if r.Reset.IsZero() || r.Limit <= 0 {
		return // without a window, figures cannot be ordered
	}
	d := b.st.d
	_, err := b.st.exec(ctx, b.st.db, `INSERT INTO rate_budgets (account_id, rate_limit, remaining, reset_at, noted_at)
VALUES (?, ?, ?, ?, `+d.clock()+`)
ON CONFLICT (account_id) DO UPDATE SET rate_limit = excluded.rate_limit, remaining = excluded.remaining,
	reset_at = excluded.reset_at, noted_at = excluded.noted_at
WHERE excluded.reset_at > rate_budgets.reset_at
	OR (excluded.reset_at = rate_budgets.reset_at AND excluded.remaining < rate_budgets.remaining)`,
		b.id, r.Limit, r.Remaining, d.ts(&r.Reset), d.clockArg(0))
	if err != nil {
		return
	}
	b.mu.Lock()
	if !b.ok || newerRate(r, b.cached) {
		b.cached, b.ok = r, true
	}
	b.mu.Unlock()
}

// Rate returns the newest budget noted, from a cache younger than
// rateCacheFor or from the table.
func (b *rateBudget) Rate(ctx context.Context) (bookingsync.Rate, bool) {
	b.mu.Lock()
	if b.ok && time.Since(b.read) < rateCacheFor {
		r := b.cached
		b.mu.Unlock()
		return r, true
	}
	b.mu.Unlock()
	var r bookingsync.Rate
	var reset any
	err := b.st.queryRow(ctx, b.st.db, `SELECT rate_limit, remaining, reset_at FROM rate_budgets WHERE account_id = ?`, b.id).
		Scan(&r.Limit, &r.Remaining, &reset)
	if errors.Is(err, sql.ErrNoRows) {
		return r, false
	}
	if err == nil {
		r.Reset, err = b.st.d.scanTime(reset)
	}
	if err != nil {
		return r, false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.ok || !r.Reset.Before(b.cached.Reset) { // the table is the truth, unless a window behind
		b.cached, b.ok = r, true
	}
	b.read = time.Now()
	return b.cached, true
}

// newerRate reports whether a is a later statement of the budget than b.
func newerRate(a, b bookingsync.Rate) bool {
	return a.Reset.After(b.Reset) || (a.Reset.Equal(b.Reset) && a.Remaining < b.Remaining)
}
