package bookingsync

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptrace"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/oauth2"
)

// The retry defaults, used for every zero field of a RetryPolicy.
const (
	DefaultMaxAttempts = 3
	DefaultMinBackoff  = 250 * time.Millisecond
	DefaultMaxBackoff  = 30 * time.Second
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
	// first included: 1 never retries. 0 means DefaultMaxAttempts.
	MaxAttempts int
	// MinBackoff is the least wait before a retry. 0 means
	// DefaultMinBackoff, or MaxBackoff when that is smaller.
	MinBackoff time.Duration
	// MaxBackoff bounds every wait. The n-th retry waits a random time
	// between MinBackoff and min(MaxBackoff, MinBackoff·2ⁿ) ("full jitter"
	// above a floor), unless the response said Retry-After: then exactly
	// that, and a Retry-After longer than MaxBackoff ends the retries at
	// once. 0 means DefaultMaxBackoff.
	MaxBackoff time.Duration
	// RetryStatuses are the statuses that retry an idempotent request; only
	// 5xx statuses are accepted (401 and 429 have their own handling). nil
	// means 502, 503 and 504.
	RetryStatuses []int
}

// NoRetry sends every request once: pass it to WithRetry to turn retries
// off. The 401 refresh and WithRateLimitWait still apply.
var NoRetry = RetryPolicy{MaxAttempts: 1}

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
		p.MaxAttempts = DefaultMaxAttempts
	}
	if p.MaxBackoff == 0 {
		p.MaxBackoff = DefaultMaxBackoff
	}
	if p.MinBackoff == 0 {
		p.MinBackoff = min(DefaultMinBackoff, p.MaxBackoff)
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

// send performs req under the client's policies: the rate-limit throttle,
// retries, the 401 refresh and the 429 wait. It returns the final response
// with its body read (bounded) and closed.
func (c *Client) send(req *http.Request) (*Response, []byte, error) {
	ctx := req.Context()
	tok, err := c.authorize(req)
	if err != nil {
		return nil, nil, err
	}
	var (
		cur       = req
		tries     = 1           // sends counted against MaxAttempts
		refreshed bool          // the one 401 refresh is spent
		limited   int           // 429 resends
		waited    time.Duration // time spent waiting for the rate limit
		idem      = idempotent(req.Method)
	)
	for n := 1; ; n++ {
		d, err := c.throttle(cur, waited)
		if err != nil {
			return nil, nil, err
		}
		waited += d
		resp, body, sent, err := c.attempt(cur, n)
		var wait time.Duration
		var why string
		switch {
		case err != nil:
			if ctx.Err() != nil || final(err) || (sent && !idem) || tries >= c.policy.MaxAttempts {
				if tries > 1 {
					err = fmt.Errorf("%w (after %d attempts)", err, tries)
				}
				return resp, body, err
			}
			tries++
			wait, why = c.backoff(tries-1), "a transport error"
		case resp.StatusCode == http.StatusUnauthorized && tok != nil && !refreshed:
			refreshed = true
			fresh := c.refresh(ctx, resp, tok)
			if fresh == nil {
				return resp, body, nil
			}
			next, cerr := cloneRequest(cur)
			if cerr != nil {
				return resp, body, nil
			}
			// A 401 was not processed, so resending is safe for every method.
			fresh.SetAuthHeader(next)
			tok, cur = fresh, next
			continue
		case resp.StatusCode == http.StatusTooManyRequests:
			d, ok := c.rateLimitDelay(resp, limited, waited)
			if !ok {
				return resp, body, nil
			}
			limited++
			waited += d
			wait, why = d, "429"
		case idem && slices.Contains(c.policy.RetryStatuses, resp.StatusCode) && tries < c.policy.MaxAttempts:
			wait = c.backoff(tries)
			if ra, ok := parseRetryAfter(resp.Header.Get("Retry-After"), c.now()); ok {
				if ra > c.policy.MaxBackoff {
					return resp, body, nil
				}
				wait = ra
			}
			tries++
			why = strconv.Itoa(resp.StatusCode)
		default:
			return resp, body, err
		}
		next, cerr := cloneRequest(cur)
		if cerr != nil {
			return resp, body, err
		}
		if serr := c.sleep(ctx, wait); serr != nil {
			return resp, nil, fmt.Errorf("bookingsync: %s %s: waiting to resend after %s: %w", req.Method, req.URL.Path, why, serr)
		}
		cur = next
	}
}

// final reports whether a transport error would only repeat: a body over
// the limit, a redirect refused by the guard or for going in clear.
func final(err error) bool {
	var re *redirectError
	return errors.Is(err, ErrResponseTooLarge) || errors.Is(err, ErrRefused) || errors.As(err, &re)
}

// refresh asks a TokenRefresher to replace a token the API rejected with
// 401 invalid_token; nil when it cannot. A static token is never refreshed.
func (c *Client) refresh(ctx context.Context, resp *Response, tok *oauth2.Token) *oauth2.Token {
	r, ok := c.ts.(TokenRefresher)
	if !ok {
		return nil
	}
	if code, _ := parseWWWAuthenticate(resp.Header.Get("WWW-Authenticate")); code != "" && code != "invalid_token" {
		return nil
	}
	fresh, err := r.RefreshToken(ctx, tok)
	if err != nil || fresh == nil || !fresh.Valid() {
		return nil
	}
	return fresh
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

// traceSent returns req with a trace that records whether a connection was
// obtained for it. Until one is, not one byte of the request can have left
// (dial, DNS and TLS failures); after, the request may have reached the
// server, however it failed.
func traceSent(req *http.Request) (*http.Request, func() bool) {
	var got atomic.Bool
	trace := &httptrace.ClientTrace{GotConn: func(httptrace.GotConnInfo) { got.Store(true) }}
	return req.WithContext(httptrace.WithClientTrace(req.Context(), trace)), got.Load
}
