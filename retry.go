package bookingsync

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The retry defaults, used for every zero field of a RetryPolicy; see
// DefaultRetryPolicy.
const (
	defaultMaxAttempts = 3
	defaultMinBackoff  = 250 * time.Millisecond
	defaultMaxBackoff  = 30 * time.Second
)

// RetryPolicy says when a request that failed in passing is sent again.
//
// Only requests the server cannot have acted on twice are resent:
//
//   - GET, HEAD, PUT, DELETE and OPTIONS are resent after a transport error
//     (connection refused or reset, timeout, a body cut short) and after a
//     status in RetryStatuses.
//   - Any method, POST included, is resent after a transport error that
//     happened before a connection was obtained (a dial failure, a DNS
//     error): not one byte of the request left the machine.
//   - Nothing else is retried under the policy: a POST or PATCH that failed
//     after its connection was established, or answered 5xx, may have been
//     processed and is never resent.
//
// Two resends lie outside the policy because the server provably did not
// process the request: a 401 answered by a token refresh (once; see
// TokenRefresher) and a 429 under WithRateLimitWait.
//
// A request whose body cannot be replayed (no GetBody; NewRequest always
// sets it) is never resent. The context bounds every wait.
type RetryPolicy struct {
	// MaxAttempts bounds the sends of one request under the policy, the
	// first included: 1 never retries. 0 means 3 (DefaultRetryPolicy).
	MaxAttempts int
	// MinBackoff is the least wait before a retry. 0 means 250ms, or
	// MaxBackoff when that is smaller.
	MinBackoff time.Duration
	// MaxBackoff bounds every wait. The n-th retry waits a random time
	// between MinBackoff and min(MaxBackoff, MinBackoff·2ⁿ) ("full jitter"
	// above a floor), unless the response said Retry-After: then exactly
	// that, and a Retry-After longer than MaxBackoff ends the retries at
	// once. 0 means 30s.
	MaxBackoff time.Duration
	// RetryStatuses are the statuses that retry an idempotent request; only
	// 5xx statuses are accepted (401 and 429 have their own handling). nil
	// means 502, 503 and 504.
	RetryStatuses []int
}

// DefaultRetryPolicy is the policy of a client built without WithRetry: 3
// attempts, 250ms to 30s backoff, retrying 502, 503 and 504.
func DefaultRetryPolicy() RetryPolicy {
	p, _ := RetryPolicy{}.normalize()
	return p
}

// WithRetry sets the retry policy (default: DefaultRetryPolicy). A negative
// field, MinBackoff above MaxBackoff, or a status outside 500–599 is an
// error.
func WithRetry(p RetryPolicy) Option {
	return func(c *Client) error {
		np, err := p.normalize()
		if err != nil {
			return err
		}
		c.policy = np
		return nil
	}
}

// normalize checks p and fills its zero fields with the defaults.
func (p RetryPolicy) normalize() (RetryPolicy, error) {
	if p.MaxAttempts < 0 || p.MinBackoff < 0 || p.MaxBackoff < 0 {
		return p, errors.New("bookingsync: WithRetry: negative MaxAttempts, MinBackoff or MaxBackoff")
	}
	if p.MaxAttempts == 0 {
		p.MaxAttempts = defaultMaxAttempts
	}
	if p.MaxBackoff == 0 {
		p.MaxBackoff = defaultMaxBackoff
	}
	if p.MinBackoff == 0 {
		p.MinBackoff = min(defaultMinBackoff, p.MaxBackoff)
	}
	if p.MinBackoff > p.MaxBackoff {
		return p, fmt.Errorf("bookingsync: WithRetry: MinBackoff %v above MaxBackoff %v", p.MinBackoff, p.MaxBackoff)
	}
	for _, s := range p.RetryStatuses {
		if s < 500 || s > 599 {
			return p, fmt.Errorf("bookingsync: WithRetry: status %d: only 5xx statuses are retried (401 and 429 have their own handling)", s)
		}
	}
	if p.RetryStatuses == nil {
		p.RetryStatuses = []int{http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout}
	} else {
		p.RetryStatuses = slices.Clone(p.RetryStatuses)
	}
	return p, nil
}

// reliability is the Client's retry and rate-limit state. Its clock, sleep
// and randomness are fields so that tests can drive them.
type reliability struct {
	policy   RetryPolicy
	rateWait time.Duration // WithRateLimitWait; 0: a 429 fails at once

	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration) error
	randN func(n int64) int64 // uniform in [0, n)
}

func defaultReliability() reliability {
	return reliability{
		policy: DefaultRetryPolicy(),
		now:    time.Now,
		sleep:  sleepContext,
		randN:  rand.Int64N,
	}
}

func sleepContext(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// idempotent reports whether sending the method twice has the effect of
// sending it once (RFC 9110 §9.2.2).
func idempotent(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPut, http.MethodDelete, http.MethodOptions:
		return true
	}
	return false
}

// backoff is the wait before retry n (from 1): uniform between MinBackoff
// and min(MaxBackoff, MinBackoff·2ⁿ).
func (c *Client) backoff(n int) time.Duration {
	p := c.policy
	ceil := p.MinBackoff
	for i := 0; i < n && ceil < p.MaxBackoff; i++ {
		if ceil > p.MaxBackoff/2 {
			ceil = p.MaxBackoff
		} else {
			ceil *= 2
		}
	}
	ceil = min(ceil, p.MaxBackoff)
	if ceil <= p.MinBackoff {
		return p.MinBackoff
	}
	return p.MinBackoff + time.Duration(c.randN(int64(ceil-p.MinBackoff)+1))
}

// maxRetryAfter bounds a parsed Retry-After so that it cannot overflow;
// any policy gives up long before.
const maxRetryAfter = 1 << 30 * time.Second

// parseRetryAfter reads Retry-After as delay-seconds or an HTTP date
// (RFC 9110 §10.2.3). A date in the past means now; garbage (a negative
// number included) means absent.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if strings.Trim(v, "0123456789") == "" {
		secs, err := strconv.ParseInt(v, 10, 64)
		if err != nil || secs > int64(maxRetryAfter/time.Second) {
			return maxRetryAfter, true // too many digits for int64
		}
		return time.Duration(secs) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return min(max(t.Sub(now), 0), maxRetryAfter), true
}
