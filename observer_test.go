package bookingsync

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// attempts collects what an Observer is told.
type attempts struct {
	mu  sync.Mutex
	got []Attempt
}

func (a *attempts) observe(ctx context.Context, at Attempt) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.got = append(a.got, at)
}

func (a *attempts) list() []Attempt {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]Attempt(nil), a.got...)
}

// Every send is reported once, with the route's template (no ids, no
// query), the status, whether it is a resend and the budget it stated.
func TestObserverSeesEveryAttempt(t *testing.T) {
	t.Parallel()
	var seen attempts
	var second attempts // a second observer is called too
	c, mux, _ := setup(t, WithObserver(seen.observe), WithObserver(second.observe), WithRateLimitWait(time.Minute))
	newFakeClock(c)
	rate := []string{"X-RateLimit-Limit", "1000", "X-RateLimit-Remaining", "998", "X-RateLimit-Reset", "4102444800"}
	n := 0
	mux.HandleFunc("GET /inbox/conversations/{id}", func(w http.ResponseWriter, r *http.Request) {
		n++
		switch n {
		case 1:
			answer(w, http.StatusServiceUnavailable, `<html>busy</html>`, "Content-Type", "text/html")
		case 2:
			answer(w, http.StatusTooManyRequests, `{"error":"API v3 rate limit exceeded."}`,
				"X-RateLimit-Limit", "1000", "X-RateLimit-Remaining", "0", "X-RateLimit-Reset", "1")
		default:
			answer(w, http.StatusOK, inboxEnvelope("conversations", `{"id":5,"links":{}}`), rate...)
		}
	})
	mux.HandleFunc("GET /inbox/messages/{ids}", func(w http.ResponseWriter, r *http.Request) {
		answer(w, http.StatusOK, inboxEnvelope("messages", `{"id":7,"links":{}}`, `{"id":8,"links":{}}`), rate...)
	})
	ctx := context.Background()
	_, _, err := c.Conversations.Get(ctx, 5)
	require.NoError(t, err)
	_, _, err = c.Messages.GetMany(ctx, []int64{7, 8})
	require.NoError(t, err)

	got := seen.list()
	require.Len(t, got, 4, "%+v", got)
	want := []struct {
		route  string
		status int
		n      int
		limit  bool
	}{
		{"/inbox/conversations/{id}", 503, 1, false},
		{"/inbox/conversations/{id}", 429, 2, true},
		{"/inbox/conversations/{id}", 200, 3, false},
		{"/inbox/messages/{ids}", 200, 1, false},
	}
	for i, w := range want {
		a := got[i]
		assert.Equal(t, "GET", a.Method, "attempt %d", i)
		assert.Equal(t, w.route, a.Route, "attempt %d", i)
		assert.Equal(t, w.status, a.Status, "attempt %d", i)
		assert.Equal(t, w.n, a.N, "attempt %d", i)
		assert.Equal(t, w.n > 1, a.Retry, "attempt %d", i)
		assert.Equal(t, w.limit, a.RateLimited, "attempt %d", i)
		assert.NoError(t, a.Err, "attempt %d", i)
		assert.Positive(t, a.Duration, "attempt %d", i)
	}
	assert.Equal(t, 998, got[2].Rate.Remaining, "the budget the response stated")
	assert.Equal(t, 1000, got[2].Rate.Limit)
	assert.Len(t, second.list(), 4, "every observer is called")
}

// A send that gets no response is reported with its error and status 0;
// the routes of other paths are templates too.
func TestObserverTransportErrorAndRoutes(t *testing.T) {
	t.Parallel()
	var seen attempts
	s := newTestServer(t, 1) // the first connection is reset
	c := s.client(t, WithObserver(seen.observe), WithRetry(RetryPolicy{MaxAttempts: 1}))
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { answer(w, http.StatusOK, `{}`) })
	req, err := c.NewRequest(context.Background(), "POST", "hosts?x=secret", map[string]any{"hosts": []any{map[string]string{"firstname": "A", "lastname": "B"}}})
	require.NoError(t, err)
	_, err = c.Do(req, nil)
	require.Error(t, err)
	got := seen.list()
	require.NotEmpty(t, got)
	last := got[len(got)-1]
	assert.Equal(t, "POST", last.Method)
	assert.Equal(t, "/hosts", last.Route, "no query string")
	assert.Zero(t, last.Status)
	assert.Error(t, last.Err)

	for path, want := range map[string]string{
		"/api/v3/inbox/conversations/12/connect_booking": "/inbox/conversations/{id}/connect_booking",
		"/api/v3/inbox/conversations/1,2,3":              "/inbox/conversations/{ids}",
		"/api/v3/hosts":                                  "/hosts",
		"/api/v3/":                                       "/",
		"/oauth/token":                                   "other",
	} {
		assert.Equal(t, want, c.route(path), path)
	}
	_, err = NewClient(WithObserver(nil))
	assert.Error(t, err, "a nil observer is refused")
}
