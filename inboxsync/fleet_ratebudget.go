package inboxsync

// The rate budget an account's clients share through the database.

import (
	"context"
	"database/sql"
	"errors"

	"github.com/go-bookingsync/bookingsync"
)

// RateBudget returns the account's rate-limit budget as shared through
// this database by every client using the account's token: give it to
// bookingsync.NewClient with bookingsync.WithRateShare (Fleet.Client does).
// Each response's X-RateLimit-* is noted in rate_budgets (the newest
// window, the fewest requests left), and each request takes one from it
// before it goes: the throttle, and so the Syncer's rate reserve, see what
// every replica spent, and replicas together stay within the window.
// Database errors are not the request's: the share then answers nothing
// and the client goes by what it saw itself. It costs one small write per
// request.
//
// Until the first response of a window is noted (at the start, and after
// each reset), requests go without being counted; replicas can then
// overspend by at most the requests they have in flight at that moment,
// which matters only if a window starts nearly spent.
func (s *Store) RateBudget(accountID int64) bookingsync.RateShare {
	return &rateBudget{st: s, id: accountID}
}

type rateBudget struct {
	st *Store
	id int64
}

// Note keeps r unless the table holds a newer budget.
func (b *rateBudget) Note(ctx context.Context, r bookingsync.Rate) {
	if r.Reset.IsZero() || r.Limit <= 0 {
		return // without a window, figures cannot be ordered
	}
	_, err := b.st.exec(ctx, b.st.db, `INSERT INTO rate_budgets (account_id, rate_limit, remaining, reset_at, noted_at)
VALUES (?, ?, ?, ?, db_clock(?))
ON CONFLICT (account_id) DO UPDATE SET rate_limit = excluded.rate_limit, remaining = excluded.remaining,
	reset_at = excluded.reset_at, noted_at = excluded.noted_at
WHERE excluded.reset_at > rate_budgets.reset_at
	OR (excluded.reset_at = rate_budgets.reset_at AND excluded.remaining < rate_budgets.remaining)`,
		b.id, r.Limit, r.Remaining, ts(b.st.d, &r.Reset), b.st.clockAt(0))
	_ = err // the server enforces the budget anyway; the next figure tries again
}

// Rate takes one request from the shared budget for the request about to
// go out and returns the budget as it stood before: a request goes only
// while the shared count is above zero, so that replicas together never
// send more than the API's window allows (each response's figure then
// corrects the count, Note). A spent budget is returned as it is, taking
// nothing: the client holds the request back until the reset. Without a
// figure for the current window it answers nothing.
func (b *rateBudget) Rate(ctx context.Context) (bookingsync.Rate, bool) {
	var r bookingsync.Rate
	var reset any
	err := b.st.queryRow(ctx, b.st.db, `UPDATE rate_budgets SET remaining = remaining - 1
WHERE account_id = ? AND remaining > 0 AND reset_at > db_clock(?) RETURNING rate_limit, remaining + 1, reset_at`,
		b.id, b.st.clockAt(0)).Scan(&r.Limit, &r.Remaining, &reset)
	if errors.Is(err, sql.ErrNoRows) {
		// Spent (until the reset), or no figure for this window.
		err = b.st.queryRow(ctx, b.st.db, `SELECT rate_limit, remaining, reset_at FROM rate_budgets
WHERE account_id = ? AND reset_at > db_clock(?)`, b.id, b.st.clockAt(0)).Scan(&r.Limit, &r.Remaining, &reset)
	}
	if err == nil {
		r.Reset, err = scanTime(reset)
	}
	return r, err == nil
}
