package bookingsync

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"
)

// bsServer is a small BookingSync stand-in: it records every request it
// receives and answers with the handler under test.
type bsServer struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []*http.Request
}

func newBSServer(t *testing.T, h http.HandlerFunc) (*Client, *bsServer) {
	t.Helper()
	s := &bsServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.reqs = append(s.reqs, r.Clone(context.Background()))
		s.mu.Unlock()
		h(w, r)
	}))
	t.Cleanup(s.Close)
	c, err := NewClient(WithBaseURL(s.URL), WithToken("test-token"))
	if err != nil {
		t.Fatal(err)
	}
	return c, s
}

// requests returns the requests received so far.
func (s *bsServer) requests() []*http.Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*http.Request(nil), s.reqs...)
}

// paths returns the path (and query, when any) of every request received.
func (s *bsServer) paths() []string {
	var out []string
	for _, r := range s.requests() {
		p := r.URL.Path
		if r.URL.RawQuery != "" {
			p += "?" + r.URL.RawQuery
		}
		out = append(out, p)
	}
	return out
}

// writeEnvelope answers with the API's envelope {"<key>": items, "meta": meta}.
func writeEnvelope(w http.ResponseWriter, key string, items any, meta map[string]any) {
	if meta == nil {
		meta = map[string]any{}
	}
	w.Header().Set("Content-Type", "application/vnd.api+json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(map[string]any{"links": map[string]any{}, key: items, "meta": meta})
}

// setRate writes the rate-limit headers.
func setRate(w http.ResponseWriter, limit, remaining int, reset time.Time) {
	w.Header().Set("X-RateLimit-Limit", strconv.Itoa(limit))
	w.Header().Set("X-RateLimit-Remaining", strconv.Itoa(remaining))
	w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(reset.Unix(), 10))
}

// bookingJSON is a minimal booking payload with the given conversations.
func bookingJSON(id int64, conversations ...int64) map[string]any {
	if conversations == nil {
		conversations = []int64{}
	}
	return map[string]any{
		"id":       id,
		"status":   "Booked",
		"start_at": "2026-07-10T16:00:00Z",
		"end_at":   "2026-07-17T10:00:00Z",
		"links":    map[string]any{"account": 1, "rental": 16, "conversations": conversations},
	}
}

func conversationJSON(id int64) map[string]any {
	return map[string]any{
		"id": id, "subject": "Booking " + strconv.FormatInt(id, 10), "default_channel": "booking-com",
		"created_by_id": 9, "created_by_type": "Doorkeeper::Application",
		"links": map[string]any{"account": 1, "bookings": []int64{80}},
	}
}

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// fakeClock stands in for waitClock: Sleep records the pause, moves the
// clock forward at once and calls onSleep (which may cancel a context).
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	sleeps  []time.Duration
	onSleep func(n int)
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	c.sleeps = append(c.sleeps, d)
	c.now = c.now.Add(d)
	n := len(c.sleeps)
	hook := c.onSleep
	c.mu.Unlock()
	if hook != nil {
		hook(n)
	}
	return ctx.Err()
}

func (c *fakeClock) slept() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.sleeps...)
}

// useFakeClock swaps waitClock for the test's duration. Tests using it must
// not run in parallel.
func useFakeClock(t *testing.T, now time.Time) *fakeClock {
	t.Helper()
	c := &fakeClock{now: now}
	old := waitClock
	waitClock = c
	t.Cleanup(func() { waitClock = old })
	return c
}
