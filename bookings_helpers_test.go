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

// useFakeClock returns a fake clock starting at now; install it on the
// client under test.
func useFakeClock(t *testing.T, now time.Time) *fakeClock {
	t.Helper()
	return &fakeClock{t: now}
}
