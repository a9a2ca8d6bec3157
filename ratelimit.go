package bookingsync

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Rate is the application's rate-limit budget as the last response stated
// it: Limit requests per hour, Remaining of them left until Reset.
type Rate struct {
	Limit     int
	Remaining int
	Reset     time.Time
}

// known reports whether the headers were present.
func (r Rate) known() bool { return r.Limit > 0 || !r.Reset.IsZero() }

// resetHorizon bounds how far ahead a stated reset is believed: the budget
// resets hourly, so a reset further ahead than an hour and a quarter
// (clock skew allowed for) is garbage, or a clock years off, and is
// treated as unknown rather than obeyed. Local throttling therefore never
// holds requests back for longer: after it, the server is asked again.
const resetHorizon = time.Hour + 15*time.Minute

// plausible returns r with a reset beyond resetHorizon from now, or
// already past, dropped as unknown.
func (r Rate) plausible(now time.Time) Rate {
	if d := r.Reset.Sub(now); !r.Reset.IsZero() && d > resetHorizon {
		r.Reset = time.Time{}
	}
	return r
}

// resetText names a reset time: the time of day when it is today (UTC),
// with the date when it is not.
func resetText(t time.Time) string {
	t = t.UTC()
	if y, m, d := time.Now().UTC().Date(); t.Year() == y && t.Month() == m && t.Day() == d {
		return t.Format("15:04:05 UTC")
	}
	return t.Format("2006-01-02 15:04:05 UTC")
}

// parseRate reads X-RateLimit-Limit, -Remaining and -Reset (Unix seconds).
// Missing or garbage values leave the field zero.
func parseRate(h http.Header) Rate {
	var r Rate
	r.Limit = headerInt(h, "X-RateLimit-Limit")
	if v := strings.TrimSpace(h.Get("X-RateLimit-Remaining")); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n >= 0 {
			r.Remaining = n
		}
	}
	if v := strings.TrimSpace(h.Get("X-RateLimit-Reset")); v != "" {
		if secs, err := strconv.ParseInt(v, 10, 64); err == nil && secs > 0 && secs < 1<<40 {
			r.Reset = time.Unix(secs, 0).UTC()
		}
	}
	return r
}

// WithRateLimitWait makes the client wait out the rate limit, for at most
// max in all for one request, instead of failing:
//
//   - A 429 is resent (any method, POST included: a 429 was not processed)
//     after Retry-After if the response has one, else at X-RateLimit-Reset.
//     A reset that is missing, in the past or garbage waits
//     UnknownResetWait (or max, if shorter). A 429 is resent at most
//     MaxRateLimitResends times per request.
//   - A request made while the last response said the budget is spent
//     (X-RateLimit-Remaining 0, reset ahead) waits until the reset without
//     touching the network, then goes out.
//
// A wait that would take the request past max is not begun: the 429 is
// returned as *RateLimitError, the held-back request as *ThrottledError,
// at once. The context bounds every wait. Without this option (or with max
// 0) a 429 returns *RateLimitError at once and a held-back request fails
// at once with *ThrottledError.
func WithRateLimitWait(max time.Duration) Option {
	return func(c *Client) error {
		if max < 0 {
			return errors.New("bookingsync: WithRateLimitWait: negative duration")
		}
		c.rateWait = max
		return nil
	}
}

const (
	// UnknownResetWait is how long WithRateLimitWait waits before resending
	// a 429 that states no usable reset time.
	UnknownResetWait = time.Second
	// MaxRateLimitResends bounds the 429 resends of one request under
	// WithRateLimitWait, so that a storm of 429s cannot keep it spinning.
	MaxRateLimitResends = 3
)

// throttle holds back a request while the budget is spent: it fails at
// once, or, under WithRateLimitWait, waits once until the reset if that
// fits the wait left (max less waited). It returns the time waited. A
// reset that is unknown or past never holds anything back: the server
// decides.
func (c *Client) throttle(req *http.Request, waited time.Duration) (time.Duration, error) {
	r := c.Rate()
	if c.rateShare != nil {
		if sr, ok := c.rateShare.Rate(req.Context()); ok {
			c.adoptRate(sr)
			// Unless it is of an older window, the share's answer is this
			// request's own: above zero, the share took a request from
			// the budget for this one. The client's figure may meanwhile
			// have dropped to zero on another goroutine's answer, which
			// would hold back a request whose place is already taken.
			if !sr.Reset.Before(r.Reset) {
				r = sr
			}
		}
	}
	if r.Limit == 0 || r.Remaining > 0 {
		return 0, nil
	}
	d := r.Reset.Sub(c.now())
	if r.Reset.IsZero() || d <= 0 {
		return 0, nil
	}
	if d > c.rateWait-waited {
		return 0, &ThrottledError{Method: req.Method, Path: req.URL.Path, Rate: r}
	}
	if err := c.sleep(req.Context(), d); err != nil {
		return 0, fmt.Errorf("bookingsync: %s %s: waiting for the rate limit reset: %w", req.Method, req.URL.Path, err)
	}
	return d, nil
}

// rateLimitDelay is how long to wait before resending a 429, and whether
// to resend it at all.
func (c *Client) rateLimitDelay(resp *Response, resends int, waited time.Duration) (time.Duration, bool) {
	if c.rateWait <= 0 || resends >= MaxRateLimitResends {
		return 0, false
	}
	now := c.now()
	d, ok := parseRetryAfter(resp.Header.Get("Retry-After"), now)
	switch {
	case ok:
	case resp.Rate.Reset.After(now):
		d = resp.Rate.Reset.Sub(now)
	default:
		d = min(UnknownResetWait, c.rateWait)
	}
	if d > c.rateWait-waited {
		return 0, false
	}
	return d, true
}

// RateShare shares one account's rate-limit budget between the clients
// that use its token, in this process or in other processes: the API
// counts the requests of every replica against the same budget, but each
// client sees only the figures of its own responses. inboxsync keeps the
// shared figure in its database (Fleet.Client).
//
// Implementations must be safe for concurrent use and fast: Rate is asked
// before every request. A failing share should answer ok false (and Note
// do nothing) rather than block; the server enforces the budget anyway.
type RateShare interface {
	// Note records the budget a response stated.
	Note(ctx context.Context, r Rate)
	// Rate returns the newest budget any sharer noted; ok is false when
	// none is known. It is asked once before each request is sent, so a
	// share may also count the request against the budget there (take
	// one while Remaining is above zero), which keeps concurrent sharers
	// from overspending the last requests of a window together.
	Rate(ctx context.Context) (r Rate, ok bool)
}

// WithRateShare makes the client share its rate-limit budget through s:
// every budget a response states is noted there, and before each request
// the shared budget is taken when it is newer than the client's own
// (a later reset, or fewer requests left in the same window), so that the
// throttle (see WithRateLimitWait) and Rate see what other clients spent.
func WithRateShare(s RateShare) Option {
	return func(c *Client) error {
		c.rateShare = s
		return nil
	}
}

// adoptRate takes r, stated to another client, when it is newer than the
// budget this client knows.
func (c *Client) adoptRate(r Rate) {
	if !r.known() {
		return
	}
	c.rateMu.Lock()
	if r.Reset.After(c.rate.Reset) || (r.Reset.Equal(c.rate.Reset) && r.Remaining < c.rate.Remaining) || !c.rate.known() {
		c.rate = r
	}
	c.rateMu.Unlock()
}
