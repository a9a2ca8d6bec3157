package bookingsync

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
)

// The fault-injection suite: a local server misbehaves in one way per
// case; each case asserts the typed error or the recovered result, and
// counts what the server received, so that a write is never seen twice.

func TestFaultsServerErrors(t *testing.T) {
	t.Parallel()
	html502 := "<html><body><h1>502 Bad Gateway</h1></body></html>"
	tests := []struct {
		name     string
		method   string
		opts     []Option
		script   func(n int, w http.ResponseWriter, r *http.Request)
		status   int // 0: success expected
		received int
		sleeps   int
	}{
		{"GET 503 burst recovers", "GET", nil, func(n int, w http.ResponseWriter, r *http.Request) {
			if n <= 2 {
				answer(w, 503, `{"error":"down"}`)
				return
			}
			answer(w, 200, convOK)
		}, 0, 3, 2},
		{"GET 503 storm gives up after 3", "GET", nil, func(n int, w http.ResponseWriter, r *http.Request) {
			answer(w, 503, `{"error":"down"}`)
		}, 503, 3, 2},
		{"GET 502 HTML page, MaxAttempts 1", "GET", []Option{WithRetry(RetryPolicy{MaxAttempts: 1})}, func(n int, w http.ResponseWriter, r *http.Request) {
			answer(w, 502, html502, "Content-Type", "text/html")
		}, 502, 1, 0},
		{"PUT 504 then 200", "PUT", nil, func(n int, w http.ResponseWriter, r *http.Request) {
			if n == 1 {
				answer(w, 504, "")
				return
			}
			answer(w, 200, convOK)
		}, 0, 2, 1},
		{"DELETE 503 then 204", "DELETE", nil, func(n int, w http.ResponseWriter, r *http.Request) {
			if n == 1 {
				answer(w, 503, "")
				return
			}
			w.WriteHeader(204)
		}, 0, 2, 1},
		{"GET 500 is not in RetryStatuses", "GET", nil, func(n int, w http.ResponseWriter, r *http.Request) {
			answer(w, 500, `{"error":"boom"}`)
		}, 500, 1, 0},
		{"GET 500 retried when listed", "GET", []Option{WithRetry(RetryPolicy{RetryStatuses: []int{500}})}, func(n int, w http.ResponseWriter, r *http.Request) {
			if n == 1 {
				answer(w, 500, `{"error":"boom"}`)
				return
			}
			answer(w, 200, convOK)
		}, 0, 2, 1},
		{"POST 502 is never resent", "POST", nil, func(n int, w http.ResponseWriter, r *http.Request) {
			answer(w, 502, html502, "Content-Type", "text/html")
		}, 502, 1, 0},
		{"POST 503 with Retry-After is never resent", "POST", nil, func(n int, w http.ResponseWriter, r *http.Request) {
			answer(w, 503, "", "Retry-After", "1")
		}, 503, 1, 0},
		{"PATCH 503 is never resent", "PATCH", nil, func(n int, w http.ResponseWriter, r *http.Request) {
			answer(w, 503, "")
		}, 503, 1, 0},
		{"GET Retry-After beyond MaxBackoff ends retries", "GET", nil, func(n int, w http.ResponseWriter, r *http.Request) {
			answer(w, 503, "", "Retry-After", "3600")
		}, 503, 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := newTestServer(t, 0)
			fs.script(tt.script)
			c := fs.client(t, tt.opts...)
			clk := newFakeClock(c)
			resp, err := doMethod(context.Background(), c, tt.method)
			got := fs.count(tt.method, "")
			assert.EqualValues(t, tt.received, got, "server received %d %s requests, want %d", got, tt.method, tt.received)
			assert.Len(t, clk.slept(), tt.sleeps, "sleeps")
			if tt.status == 0 {
				require.NoError(t, err, "want recovery, got")
				require.EqualValues(t, 2, resp.StatusCode/100, "status %d", resp.StatusCode)
				return
			}
			var er *ErrorResponse
			require.False(t, !errors.As(err, &er) || er.StatusCode != tt.status, "want *ErrorResponse %d, got %T %v", tt.status, err, err)
			require.False(t, resp == nil || resp.StatusCode != tt.status, "response %+v", resp)
		})
	}
}

func TestFaultsRetryAfter(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	fs := newTestServer(t, 0)
	fs.script(func(n int, w http.ResponseWriter, r *http.Request) {
		switch n {
		case 1:
			answer(w, 503, "", "Retry-After", "2")
		case 2:
			answer(w, 503, "", "Retry-After", clk.now().Add(5*time.Second).Format(http.TimeFormat))
		default:
			answer(w, 200, convOK)
		}
	})
	c := fs.client(t, WithRetry(RetryPolicy{MaxAttempts: 3}))
	newFakeClock(c)
	clk.install(c)
	conv, _, err := getConv(context.Background(), c)
	require.False(t, err != nil || conv.ID != 5, "got %v, %v", conv, err)
	want := []time.Duration{2 * time.Second, 5 * time.Second}
	require.Equal(t, want, clk.slept(), "sleeps (Retry-After as seconds, then as a date)")
}

func TestFaultsConnections(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		method     string
		resetFirst int // connections reset at their first byte, before the request is read
		script     func(n int, w http.ResponseWriter, r *http.Request)
		recovered  bool
		isErr      error // when not recovered, errors.Is target (nil: any error)
		received   int
		accepts    int
	}{
		{"GET reset before the request is read recovers", "GET", 1, func(n int, w http.ResponseWriter, r *http.Request) {
			answer(w, 200, convOK)
		}, true, nil, 1, 2},
		{"POST reset before the request is read is not resent", "POST", 1, func(n int, w http.ResponseWriter, r *http.Request) {
			answer(w, 201, convOK)
		}, false, nil, 0, 1},
		{"GET reset after the request was read, recovers", "GET", 0, func(n int, w http.ResponseWriter, r *http.Request) {
			if n == 1 {
				hijackReset(w, r)
				return
			}
			answer(w, 200, convOK)
		}, true, nil, 2, 2},
		{"POST reset after the request was read is not resent", "POST", 0, func(n int, w http.ResponseWriter, r *http.Request) {
			hijackReset(w, r)
		}, false, nil, 1, 1},
		{"GET truncated body recovers", "GET", 0, func(n int, w http.ResponseWriter, r *http.Request) {
			if n == 1 {
				truncated(w, r)
				return
			}
			answer(w, 200, convOK)
		}, true, nil, 2, 2},
		{"GET truncated body every time", "GET", 0, func(n int, w http.ResponseWriter, r *http.Request) {
			truncated(w, r)
		}, false, io.ErrUnexpectedEOF, 3, 3},
		{"POST truncated body is not resent", "POST", 0, func(n int, w http.ResponseWriter, r *http.Request) {
			truncated(w, r)
		}, false, io.ErrUnexpectedEOF, 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := newTestServer(t, tt.resetFirst)
			fs.script(tt.script)
			c := fs.client(t)
			newFakeClock(c)
			resp, err := doMethod(context.Background(), c, tt.method)
			got := fs.count(tt.method, "")
			assert.EqualValues(t, tt.received, got, "server received %d %s requests, want %d", got, tt.method, tt.received)
			assert.Equal(t, tt.accepts, int(fs.accepts.Load()), "connections the server accepted")
			if tt.recovered {
				require.False(t, err != nil || resp.StatusCode/100 != 2, "want recovery, got %v", err)
				return
			}
			require.Error(t, err, "want an error, got a response")
			require.False(t, tt.isErr != nil && !errors.Is(err, tt.isErr), "want %v, got %v", tt.isErr, err)
			var er *ErrorResponse
			require.False(t, errors.As(err, &er), "a transport failure must not look like an API answer: %v", err)
		})
	}
}

func TestFaultsDialFailure(t *testing.T) {
	t.Parallel()
	for _, method := range []string{"POST", "GET", "PATCH"} {
		t.Run(method+" resent after a dial failure", func(t *testing.T) {
			fs := newTestServer(t, 0)
			fs.script(func(n int, w http.ResponseWriter, r *http.Request) { answer(w, 201, convOK) })
			d := &failingDialer{fail: 2}
			c := fs.client(t, WithHTTPClient(d.client()))
			clk := newFakeClock(c)
			_, err := doMethod(context.Background(), c, method)
			require.NoError(t, err)
			got := fs.count(method, "")
			assert.EqualValues(t, 1, got, "server received %d %ss, want 1", got, method)
			assert.EqualValues(t, 3, d.dials.Load(), "dials")
			assert.Len(t, clk.slept(), 2, "sleeps")
		})
	}
	t.Run("POST dial failing every time", func(t *testing.T) {
		fs := newTestServer(t, 0)
		fs.script(func(n int, w http.ResponseWriter, r *http.Request) { answer(w, 201, convOK) })
		d := &failingDialer{fail: 100}
		c := fs.client(t, WithHTTPClient(d.client()))
		newFakeClock(c)
		_, err := doMethod(context.Background(), c, "POST")
		var oe *net.OpError
		require.False(t, !errors.As(err, &oe) || oe.Op != "dial", "want the dial error, got %v", err)
		assert.EqualValues(t, 3, d.dials.Load(), "dials, want 3 (MaxAttempts)")
		assert.EqualValues(t, 0, fs.count("POST", ""), "server received a POST")
	})
	t.Run("POST without GetBody is not resent", func(t *testing.T) {
		fs := newTestServer(t, 0)
		fs.script(func(n int, w http.ResponseWriter, r *http.Request) { answer(w, 201, convOK) })
		d := &failingDialer{fail: 1}
		c := fs.client(t, WithHTTPClient(d.client()))
		newFakeClock(c)
		req, err := http.NewRequest("POST", c.APIURL().String()+"inbox/messages", io.NopCloser(strings.NewReader(`{"messages":[{}]}`)))
		require.NoError(t, err)
		_, err = c.Do(req, nil)
		require.Error(t, err, "want the dial error")
		got := d.dials.Load()
		assert.EqualValues(t, 1, got, "%d dials, want 1: a body that cannot be replayed is never resent", got)
	})
}

func TestFaultsSlowBody(t *testing.T) {
	t.Parallel()
	t.Run("context deadline: no retry", func(t *testing.T) {
		fs := newTestServer(t, 0)
		fs.script(func(n int, w http.ResponseWriter, r *http.Request) { slowBody(w, r) })
		c := fs.client(t)
		clk := newFakeClock(c)
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		_, _, err := getConv(ctx, c)
		require.ErrorIs(t, err, context.DeadlineExceeded, "want DeadlineExceeded, got %v", err)
		require.False(t, fs.count("GET", "") != 1 || len(clk.slept()) != 0, "received %d, slept %v: a spent context must end the request", fs.count("GET", ""), clk.slept())
	})
	for _, method := range []string{"GET", "POST"} {
		t.Run(method+" against the client timeout", func(t *testing.T) {
			fs := newTestServer(t, 0)
			fs.script(func(n int, w http.ResponseWriter, r *http.Request) { slowBody(w, r) })
			hc := fs.Client()
			// Long enough that a loaded machine still has the request
			// reach the server before it fires (at 30 ms a POST was seen
			// to time out unsent under load, counted 0 times).
			hc.Timeout = 250 * time.Millisecond
			c := fs.client(t, WithHTTPClient(hc))
			newFakeClock(c)
			_, err := doMethod(context.Background(), c, method)
			var ne net.Error
			require.False(t, !errors.As(err, &ne) || !ne.Timeout(), "want a timeout, got %v", err)
			want := 1
			if method == "GET" {
				want = 3
			}
			require.Equal(t, want, fs.count(method, ""), "%ss the server received", method)
		})
	}
}

func TestFaultsContextCanceledDuringBackoff(t *testing.T) {
	t.Parallel()
	fs := newTestServer(t, 0)
	fs.script(func(n int, w http.ResponseWriter, r *http.Request) { answer(w, 503, "") })
	c := fs.client(t)
	newFakeClock(c)
	ctx, cancel := context.WithCancel(context.Background())
	c.sleep = func(ctx context.Context, d time.Duration) error {
		cancel()
		return sleepContext(ctx, time.Hour)
	}
	resp, err := doMethod(ctx, c, "GET")
	require.ErrorIs(t, err, context.Canceled, "want Canceled, got %v", err)
	assert.ErrorContains(t, err, "GET /api/v3/inbox/messages", "the error names the request")
	require.False(t, resp == nil || resp.StatusCode != 503 || fs.count("GET", "") != 1, "resp %v, received %d", resp, fs.count("GET", ""))
}

// rateHeaders states a spent budget that resets at reset (a Unix time, or
// garbage).
func rateHeaders(remaining int, reset string) []string {
	return []string{"X-RateLimit-Limit", "1000", "X-RateLimit-Remaining", strconv.Itoa(remaining), "X-RateLimit-Reset", reset}
}

const limited = `{"error":"API v3 rate limit exceeded."}`

func TestFaults429Storms(t *testing.T) {
	t.Parallel()
	unix := func(clk *fakeClock, d time.Duration) string {
		return strconv.FormatInt(clk.now().Add(d).Unix(), 10)
	}
	tests := []struct {
		name      string
		method    string
		wait      time.Duration // WithRateLimitWait
		reset     func(clk *fakeClock) string
		extra     []string
		storm     bool // 429 every time, else once
		recovered bool
		received  int
		sleeps    []time.Duration
	}{
		{"no waiting: 429 at once", "POST", 0, func(c *fakeClock) string { return unix(c, 30*time.Second) }, nil, false, false, 1, nil},
		{"reset in the future: POST waits and is resent", "POST", time.Minute, func(c *fakeClock) string { return unix(c, 30*time.Second) }, nil, false, true, 2, []time.Duration{30 * time.Second}},
		{"reset past the wait bound: 429 at once", "GET", time.Minute, func(c *fakeClock) string { return unix(c, 50*time.Minute) }, nil, false, false, 1, nil},
		{"reset years ahead: unknown, short wait", "GET", time.Minute, func(c *fakeClock) string { return unix(c, 70*365*24*time.Hour) }, nil, false, true, 2, []time.Duration{UnknownResetWait}},
		{"reset beyond the hourly window: unknown, short wait", "POST", time.Hour, func(c *fakeClock) string { return unix(c, 3*time.Hour) }, nil, false, true, 2, []time.Duration{UnknownResetWait}},
		{"reset in the past: short wait", "GET", time.Minute, func(c *fakeClock) string { return unix(c, -time.Hour) }, nil, false, true, 2, []time.Duration{UnknownResetWait}},
		{"reset garbage: short wait", "PUT", time.Minute, func(c *fakeClock) string { return "soon-ish" }, nil, false, true, 2, []time.Duration{UnknownResetWait}},
		{"reset missing, Retry-After wins", "GET", time.Minute, func(c *fakeClock) string { return "" }, []string{"Retry-After", "7"}, false, true, 2, []time.Duration{7 * time.Second}},
		{"storm, reset in the past: bounded resends", "POST", time.Minute, func(c *fakeClock) string { return unix(c, -time.Hour) }, nil, true, false, 1 + MaxRateLimitResends,
			[]time.Duration{UnknownResetWait, UnknownResetWait, UnknownResetWait}},
		{"storm, reset garbage: bounded resends", "GET", time.Minute, func(c *fakeClock) string { return "-1" }, nil, true, false, 1 + MaxRateLimitResends,
			[]time.Duration{UnknownResetWait, UnknownResetWait, UnknownResetWait}},
		{"storm, reset in the future: bounded by the wait", "POST", time.Minute, func(c *fakeClock) string { return unix(c, 40*time.Second) }, nil, true, false, 2, []time.Duration{40 * time.Second}},
		{"wait bound shorter than the unknown-reset wait", "GET", 300 * time.Millisecond, func(c *fakeClock) string { return "" }, nil, true, false, 2,
			[]time.Duration{300 * time.Millisecond}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newFakeClock()
			var processed atomic.Int32
			fs := newTestServer(t, 0)
			fs.script(func(n int, w http.ResponseWriter, r *http.Request) {
				if n == 1 || tt.storm {
					answer(w, 429, limited, append(rateHeaders(0, tt.reset(clk)), tt.extra...)...)
					return
				}
				processed.Add(1)
				answer(w, 200, convOK, rateHeaders(999, unix(clk, time.Hour))...)
			})
			c := fs.client(t, WithRateLimitWait(tt.wait))
			newFakeClock(c)
			clk.install(c)
			resp, err := doMethod(context.Background(), c, tt.method)
			got := fs.count(tt.method, "")
			assert.EqualValues(t, tt.received, got, "server received %d %ss, want %d", got, tt.method, tt.received)
			assert.False(t, processed.Load() > 1, "processed %d times", processed.Load())
			slept := clk.slept()
			assert.True(t, equalDurations(slept, tt.sleeps), "slept %v, want %v", slept, tt.sleeps)
			if tt.recovered {
				require.False(t, err != nil || processed.Load() != 1, "want recovery, got %v (processed %d)", err, processed.Load())
				return
			}
			var rl *RateLimitError
			require.False(t, !errors.As(err, &rl) || !errors.Is(err, ErrRateLimited) || resp.StatusCode != 429, "want *RateLimitError, got %T %v", err, err)
			assert.False(t, rl.Message != "API v3 rate limit exceeded." || rl.Rate.Limit != 1000, "RateLimitError %+v", rl)
		})
	}
}

func TestFaultsThrottleAhead(t *testing.T) {
	t.Parallel()
	resetIn := func(clk *fakeClock, d time.Duration) string { return strconv.FormatInt(clk.now().Add(d).Unix(), 10) }
	tests := []struct {
		name     string
		wait     time.Duration
		reset    func(clk *fakeClock) string
		throttle bool // the second request is held back with *ThrottledError
		received int
		sleeps   []time.Duration
	}{
		{"spent, no waiting: fail fast", 0, func(c *fakeClock) string { return resetIn(c, 10*time.Second) }, true, 1, nil},
		{"spent, waiting: wait for the reset, then send", time.Minute, func(c *fakeClock) string { return resetIn(c, 10*time.Second) }, false, 2, []time.Duration{10 * time.Second}},
		{"spent, reset beyond the wait: fail fast", time.Minute, func(c *fakeClock) string { return resetIn(c, time.Hour) }, true, 1, nil},
		{"spent, reset years ahead: unknown, send", 0, func(c *fakeClock) string { return resetIn(c, 30*365*24*time.Hour) }, false, 2, nil},
		{"spent, reset beyond the hourly window: unknown, send", time.Hour, func(c *fakeClock) string { return resetIn(c, 2*time.Hour) }, false, 2, nil},
		{"spent, reset in the past: send", 0, func(c *fakeClock) string { return resetIn(c, -time.Minute) }, false, 2, nil},
		{"spent, reset garbage: send", time.Minute, func(c *fakeClock) string { return "tomorrow" }, false, 2, nil},
		{"spent, reset missing: send", 0, func(c *fakeClock) string { return "" }, false, 2, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newFakeClock()
			fs := newTestServer(t, 0)
			fs.script(func(n int, w http.ResponseWriter, r *http.Request) {
				answer(w, 200, convOK, rateHeaders(0, tt.reset(clk))...)
			})
			c := fs.client(t, WithRateLimitWait(tt.wait))
			newFakeClock(c)
			clk.install(c)
			_, _, err := getConv(context.Background(), c)
			require.NoError(t, err)
			resp, err := doMethod(context.Background(), c, "POST")
			got := fs.count("GET", "") + fs.count("POST", "")
			assert.EqualValues(t, tt.received, got, "server received %d requests, want %d", got, tt.received)
			slept := clk.slept()
			assert.True(t, equalDurations(slept, tt.sleeps), "slept %v, want %v", slept, tt.sleeps)
			if !tt.throttle {
				require.NoError(t, err)
				return
			}
			var te *ThrottledError
			require.False(t, !errors.As(err, &te) || !errors.Is(err, ErrRateLimited) || resp != nil, "want *ThrottledError and no response, got %T %v", err, err)
			assert.False(t, te.Method != "POST" || te.Rate.Remaining != 0 || !strings.Contains(err.Error(), "not sent"), "ThrottledError %+v: %v", te, err)
		})
	}
}

func equalDurations(a, b []time.Duration) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// memShare is a RateShare in memory, standing for inboxsync's database.
type memShare struct {
	mu    sync.Mutex
	r     Rate
	notes int
}

func (s *memShare) Note(_ context.Context, r Rate) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.notes++
	if r.Reset.After(s.r.Reset) || (r.Reset.Equal(s.r.Reset) && r.Remaining < s.r.Remaining) {
		s.r = r
	}
}

func (s *memShare) Rate(context.Context) (Rate, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.r, s.r.known()
}

// Two clients of one account share the budget: the one that never saw a
// response is held back once the other learnt the budget is spent, and an
// older figure never replaces a newer one.
func TestRateShareHoldsBackOtherClients(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	reset := strconv.FormatInt(clk.now().Add(10*time.Minute).Unix(), 10)
	fs := newTestServer(t, 0)
	fs.script(func(n int, w http.ResponseWriter, r *http.Request) {
		answer(w, 200, convOK, rateHeaders(0, reset)...)
	})
	share := &memShare{}
	a := fs.client(t, WithRateShare(share))
	b := fs.client(t, WithRateShare(share))
	clk.install(a)
	clk.install(b)
	_, _, err := getConv(context.Background(), a)
	require.NoError(t, err)
	require.EqualValues(t, 1, share.notes, "%d notes, want 1", share.notes)
	_, _, err = getConv(context.Background(), b)
	var te *ThrottledError
	require.False(t, !errors.As(err, &te) || fs.count("GET", "") != 1, "b: %v after %d requests; want *ThrottledError and nothing sent", err, fs.count("GET", ""))
	got := b.Rate()
	require.False(t, got.Remaining != 0 || got.Limit != 1000, "b.Rate() = %+v, want the shared spent budget", got)

	// An older window's figure in the share does not undo what b knows.
	c := fs.client(t, WithRateShare(&memShare{r: Rate{Limit: 1000, Remaining: 500, Reset: clk.now().Add(-time.Hour)}}))
	clk.install(c)
	c.adoptRate(b.Rate())
	c.adoptRate(Rate{Limit: 1000, Remaining: 500, Reset: clk.now().Add(-time.Hour)})
	got = c.Rate()
	require.Equal(t, 0, got.Remaining, "an older window replaced a newer one: %+v", got)
}

// takingShare is a share that takes one request from its budget at each
// Rate, and calls before, when set, in the middle of it.
type takingShare struct {
	memShare
	before func()
}

func (s *takingShare) Rate(ctx context.Context) (Rate, bool) {
	if s.before != nil {
		s.before()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.r
	if s.r.Remaining > 0 {
		s.r.Remaining--
	}
	return r, r.known()
}

// A request whose place the share took goes, even when another of the
// client's requests, answered meanwhile that the budget is now spent,
// lowered the client's own figure to zero.
func TestRateShareTakenPlaceIsSent(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	reset := clk.now().Add(10 * time.Minute).Truncate(time.Second)
	fs := newTestServer(t, 0)
	fs.script(func(n int, w http.ResponseWriter, r *http.Request) {
		answer(w, 200, convOK, rateHeaders(0, strconv.FormatInt(reset.Unix(), 10))...)
	})
	share := &takingShare{memShare: memShare{r: Rate{Limit: 1000, Remaining: 1, Reset: reset}}}
	c := fs.client(t, WithRateShare(share))
	clk.install(c)
	c.adoptRate(Rate{Limit: 1000, Remaining: 1, Reset: reset})
	share.before = func() { c.adoptRate(Rate{Limit: 1000, Remaining: 0, Reset: reset}) } // another goroutine's answer
	_, _, err := getConv(context.Background(), c)
	require.NoError(t, err, "the request the share counted was held back")
	assert.Equal(t, 1, fs.count("GET", ""))
}

// hangGuard fails the test if fn has not returned within a long safety
// net; it only catches a hang, it never judges a duration.
func hangGuard(t *testing.T, what string, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); fn() }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatalf("%s: still waiting", what)
	}
}

// A slow token endpoint holds no request past its own context, and one
// refresh still serves every caller that waits for it.
func TestFaultsSlowTokenEndpoint(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	st := &memStore{}
	f.seed(st)
	entered := make(chan struct{}, 10)
	release := make(chan struct{})
	f.srv.refreshHook = func() {
		entered <- struct{}{}
		<-release
	}
	f.clock.Advance(3 * time.Hour) // the stored token has expired
	api := newTestServer(t, 0)
	api.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { serveJSON(w, 200, []byte(convOK)) })
	c, err := NewClient(WithBaseURL(api.URL), WithTokenSource(f.source(st)))
	require.NoError(t, err)

	patient := make(chan error, 2)
	for range 2 {
		go func() { _, _, err := c.Conversations.Get(context.Background(), 5); patient <- err }()
	}
	<-entered // the refresh hangs at the token endpoint
	for i := range 3 {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		if i == 2 {
			cancel()
		}
		hangGuard(t, "a request waiting for the token", func() {
			_, _, err := c.Conversations.Get(ctx, 5)
			assert.ErrorIs(t, err, ctx.Err())
		})
		cancel()
	}
	close(release)
	for range 2 {
		require.NoError(t, <-patient)
	}
	assert.Equal(t, 1, f.srv.refreshCount(), "one refresh for all")
	assert.Len(t, api.requests(), 2, "the impatient requests sent nothing")
}

// blockingSource is a token source without a context, stuck until released.
type blockingSource struct{ release chan struct{} }

func (s blockingSource) Token() (*oauth2.Token, error) {
	<-s.release
	return &oauth2.Token{AccessToken: testToken}, nil
}

func TestFaultsSlowForeignTokenSource(t *testing.T) {
	t.Parallel()
	api := newTestServer(t, 0)
	api.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { serveJSON(w, 200, []byte(convOK)) })
	src := blockingSource{make(chan struct{})}
	defer close(src.release)
	c, err := NewClient(WithBaseURL(api.URL), WithTokenSource(src))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	hangGuard(t, "a request waiting for a plain TokenSource", func() {
		_, _, err := c.Conversations.Get(ctx, 5)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
	})
	assert.Empty(t, api.requests())
}

// Hostile redirects: a token never follows a request off the client's own
// scheme and host, nothing follows one from https to http, and no request
// in the chain a response leads back to keeps Authorization.
func TestFaultsHostileRedirects(t *testing.T) {
	t.Parallel()
	plain := newTestServer(t, 0)
	plain.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { serveJSON(w, 200, []byte(convOK)) })
	var tlsHits atomic.Int32
	tls := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tlsHits.Add(1)
		http.Redirect(w, r, plain.URL+r.URL.Path, http.StatusFound)
	}))
	defer tls.Close()

	// https to http: refused, whatever the status, never retried.
	c, err := NewClient(WithBaseURL(tls.URL), WithToken(testToken), WithHTTPClient(tls.Client()))
	require.NoError(t, err)
	_, _, err = c.Conversations.Get(context.Background(), 5)
	require.ErrorContains(t, err, "refused: it would send the request in clear")
	assert.NotContains(t, err.Error(), testToken)
	assert.Empty(t, plain.requests(), "nothing went out in clear")
	assert.Equal(t, int32(1), tlsHits.Load(), "a refused redirect is not retried")

	// A request to the client's host on another scheme carries no token.
	req, _ := http.NewRequest("GET", "http://"+strings.TrimPrefix(tls.URL, "https://")+"/api/v3/hosts", nil)
	c.Do(req, nil)

	// To another host (here: port): followed, without the token.
	var hops atomic.Int32
	own := newTestServer(t, 0)
	own.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if hops.Add(1) < 3 {
			http.Redirect(w, r, r.URL.Path+"x", http.StatusFound) // same origin: keeps the token
			return
		}
		http.Redirect(w, r, plain.URL+"/elsewhere", http.StatusTemporaryRedirect)
	})
	c = own.client(t)
	req, _ = http.NewRequest("GET", own.URL+"/api/v3/hosts", nil)
	resp, err := c.Do(req, nil)
	require.NoError(t, err)
	for _, r := range own.requests() {
		assert.Equal(t, "Bearer "+testToken, r.Header.Get("Authorization"), "own origin: %s", r.Path)
	}
	got := plain.requests()
	require.Len(t, got, 1)
	assert.Empty(t, got[0].Header.Get("Authorization"), "another host gets no token")
	n := 0
	for r := resp.Response; r != nil && r.Request != nil; r = r.Request.Response {
		n++
		assert.Empty(t, r.Request.Header.Get("Authorization"), "hop %d of the chain", n)
	}
	assert.Equal(t, 4, n, "the whole chain was walked")
	assert.Empty(t, req.Header.Get("Authorization"), "nor the caller's request")

	// A Host header naming another site (a CDN routes by it) gets no token.
	before := len(own.requests())
	req, _ = http.NewRequest("GET", own.URL+"/api/v3/hosts", nil)
	req.Host = "evil.example"
	c.Do(req, nil)
	got = own.requests()[before:]
	require.NotEmpty(t, got)
	assert.Empty(t, got[0].Header.Get("Authorization"), "Host evil.example")
}

// A server or proxy that echoes the request's token (in a body, in a
// header) does not get it into an error string.
func TestFaultsTokenEchoRedacted(t *testing.T) {
	t.Parallel()
	for name, h := range map[string]http.HandlerFunc{
		"401 JSON": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token", error_description="token `+testToken+` is invalid"`)
			answer(w, 401, `{"error":"`+r.Header.Get("Authorization")+` rejected"}`)
		},
		"422 fields": func(w http.ResponseWriter, r *http.Request) {
			answer(w, 422, `{"errors":{"auth":["`+r.Header.Get("Authorization")+`"],"other":{"t":"`+testToken+`"}}}`)
		},
		"502 HTML": func(w http.ResponseWriter, r *http.Request) {
			answer(w, 502, "<html><pre>GET / HTTP/1.1\nAuthorization: "+r.Header.Get("Authorization")+"</pre></html>", "Content-Type", "text/html")
		},
		"200 HTML": func(w http.ResponseWriter, r *http.Request) {
			answer(w, 200, "<html>debug: "+url.QueryEscape(testToken)+" "+r.Header.Get("Authorization")+"</html>", "Content-Type", "text/html")
		},
	} {
		t.Run(name, func(t *testing.T) {
			srv := newTestServer(t, 0)
			srv.mux.HandleFunc("/", h)
			c := srv.client(t, WithRetry(RetryPolicy{MaxAttempts: 1}))
			_, resp, err := c.Conversations.Get(context.Background(), 5)
			require.Error(t, err)
			assert.NotContains(t, err.Error(), testToken)
			assert.NotContains(t, fmt.Sprintf("%+v", err), testToken)
			assert.Contains(t, err.Error(), "REDACTED")
			if resp != nil {
				assert.NotContains(t, fmt.Sprint(resp.Header), testToken)
			}
		})
	}
}

// A body known to be over the limit drops its connection at once rather
// than draining it at the server's pace.
func TestFaultsOversizedBodyDropsConnection(t *testing.T) {
	t.Parallel()
	for name, length := range map[string]string{"stated length": "10000000", "chunked": ""} {
		t.Run(name, func(t *testing.T) {
			closed := make(chan struct{})
			srv := newTestServer(t, 0)
			srv.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
				defer close(closed)
				if length != "" {
					w.Header().Set("Content-Length", length)
				}
				w.WriteHeader(200)
				w.Write(bytes.Repeat([]byte(" "), 4096))
				w.(http.Flusher).Flush()
				// A slow server: the rest would come when it pleases.
				select {
				case <-r.Context().Done(): // the client hung up
				case <-time.After(30 * time.Second):
				}
			})
			c := srv.client(t, WithMaxResponseBytes(1024))
			hangGuard(t, "an oversized body", func() {
				_, _, err := c.Conversations.Get(context.Background(), 5)
				assert.ErrorIs(t, err, ErrResponseTooLarge)
			})
			hangGuard(t, "the server noticing the dropped connection", func() { <-closed })
		})
	}
}

// A compressed body is bounded after decompression: a gzip bomb stops at
// the limit, whatever its compressed size.
func TestFaultsGzipBomb(t *testing.T) {
	t.Parallel()
	var zipped bytes.Buffer
	zw := gzip.NewWriter(&zipped)
	zw.Write(bytes.Repeat([]byte(" "), 8<<20)) // 8 MiB of spaces, ~8 KiB zipped
	zw.Close()
	srv := newTestServer(t, 0)
	srv.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Encoding", "gzip")
		w.Header().Set("Content-Type", mediaType)
		w.Write(zipped.Bytes())
	})
	c := srv.client(t, WithMaxResponseBytes(1<<20))
	_, _, err := c.Conversations.Get(context.Background(), 5)
	assert.ErrorIs(t, err, ErrResponseTooLarge)
}
