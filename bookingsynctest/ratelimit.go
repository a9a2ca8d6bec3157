package bookingsynctest

import (
	"sync"
	"time"
)

// SetRateLimit sets the account's hourly limit and the requests remaining
// in the current window.
func (a *Account) SetRateLimit(limit, remaining int) { a.budget.set(limit, remaining) }

// SetRateLimitReset sets when the account's current window ends; once the
// clock reaches it the budget refills and a new one-hour window starts.
func (a *Account) SetRateLimitReset(t time.Time) { a.budget.setReset(t) }

// RateRemaining returns the requests left in the account's window.
func (a *Account) RateRemaining() int { return a.budget.left() }

// Throttled counts the account's requests answered 429 because its
// budget was spent (not those of a Fault429). A client that keeps within
// its budget keeps it at zero.
func (a *Account) Throttled() int { return int(a.throttled.Load()) }

// budget is one rate-limit window.
type budget struct {
	mu        sync.Mutex
	limit     int
	remaining int
	reset     int64 // unix seconds
}

func (b *budget) init(limit int, now time.Time) {
	b.limit, b.remaining, b.reset = limit, limit, now.Add(time.Hour).Unix()
}

// take uses one request of the window; over reports that none was left.
func (b *budget) take(now time.Time) (limit, remaining int, reset int64, over bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if now.Unix() >= b.reset {
		b.remaining = b.limit
		b.reset = now.Add(time.Hour).Unix()
	}
	over = b.remaining <= 0
	if !over {
		b.remaining--
	}
	return b.limit, max(b.remaining, 0), b.reset, over
}

func (b *budget) state() (limit int, reset int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.limit, b.reset
}

func (b *budget) set(limit, remaining int) {
	b.mu.Lock()
	b.limit, b.remaining = limit, remaining
	b.mu.Unlock()
}

func (b *budget) setReset(t time.Time) {
	b.mu.Lock()
	b.reset = t.Unix()
	b.mu.Unlock()
}

func (b *budget) left() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.remaining
}

// budgetFor returns the window a request uses: its account's, the
// application's for a client-credentials token, or the one shared by
// requests without a valid token (a guess: the real keying is unknown).
func (s *Server) budgetFor(c *apiReq) *budget {
	switch {
	case c.acct != nil:
		return &c.acct.budget
	case c.tok != nil:
		return &s.app
	}
	return &s.anon
}
