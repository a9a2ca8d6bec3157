package bookingsync

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The test scaffold of the package: one recording server (setup,
// newTestServer), one fixture reader (fixture), one fake clock
// (newFakeClock). Tests talk HTTP to the server in the API's wire format.

// testToken is the bearer token of the tests; no log line, error or
// response a test can see may contain it.
const testToken = "tok-S3CR3T-never-print"

// recorded is a request as the test server received it.
type recorded struct {
	Method   string
	Path     string // as sent: "/api/v3/inbox/participants/10"
	RawQuery string
	Header   http.Header
	Body     []byte
}

// testServer is the tests' API stand-in: an httptest server that records
// every request, then routes it through mux with the API root stripped
// (patterns such as "GET /inbox/conversations/{id}"; "/" catches all).
type testServer struct {
	*httptest.Server
	t   testing.TB
	mux *http.ServeMux

	// requireToken, when set, answers 401 to a request without it as
	// bearer token, before mux sees it.
	requireToken string
	// accepts counts the TCP connections accepted.
	accepts atomic.Int64

	mu   sync.Mutex
	reqs []recorded
}

// setup starts a testServer that requires testToken and a client of it
// (WithBaseURL, WithToken(testToken), the server's own transport, then
// opts): go-github's setup.
func setup(t testing.TB, opts ...Option) (*Client, *http.ServeMux, *testServer) {
	t.Helper()
	s := newTestServer(t, 0)
	s.requireToken = testToken
	return s.client(t, opts...), s.mux, s
}

// newTestServer starts a testServer that requires no token. resetFirst > 0
// makes its listener reset that many connections as soon as their first
// byte arrives, before the server reads the request: the client has begun
// writing, so the request may, as far as it can know, have been processed.
func newTestServer(t testing.TB, resetFirst int) *testServer {
	t.Helper()
	s := &testServer{t: t, mux: http.NewServeMux()}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	s.Listener = &resettingListener{Listener: s.Listener, s: s, reset: int64(resetFirst)}
	s.Start()
	t.Cleanup(s.Close)
	return s
}

func (s *testServer) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	s.mu.Lock()
	s.reqs = append(s.reqs, recorded{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Clone(), body})
	n := len(s.reqs)
	s.mu.Unlock()
	w.Header().Set("X-Request-Id", "req-"+strconv.Itoa(n))
	if s.requireToken != "" && r.Header.Get("Authorization") != "Bearer "+s.requireToken {
		answer(w, http.StatusUnauthorized, `{"error":"Not authorized"}`)
		return
	}
	r2 := r.Clone(r.Context())
	r2.URL.Path = "/" + strings.TrimPrefix(strings.TrimPrefix(r.URL.Path, strings.TrimSuffix(apiPath, "/")), "/")
	r2.URL.RawPath = ""
	s.mux.ServeHTTP(w, r2)
}

// client returns a client of s authenticated with testToken, using the
// server's own transport so that tests share no connections.
func (s *testServer) client(t testing.TB, opts ...Option) *Client {
	t.Helper()
	base := []Option{WithBaseURL(s.URL), WithToken(testToken), WithHTTPClient(s.Client())}
	c, err := NewClient(append(base, opts...)...)
	require.NoError(t, err)
	return c
}

// script answers every request with fn, n counting requests from 1.
func (s *testServer) script(fn func(n int, w http.ResponseWriter, r *http.Request)) {
	var n atomic.Int64
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { fn(int(n.Add(1)), w, r) })
}

// requests returns the requests received so far.
func (s *testServer) requests() []recorded {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]recorded(nil), s.reqs...)
}

// total is len(requests()).
func (s *testServer) total() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.reqs)
}

// paths returns the path (and query, when any) of every request received.
func (s *testServer) paths() []string {
	var out []string
	for _, r := range s.requests() {
		p := r.Path
		if r.RawQuery != "" {
			p += "?" + r.RawQuery
		}
		out = append(out, p)
	}
	return out
}

// count returns how many requests had the method and a path starting with
// prefix, relative to the API root ("inbox/participants"; "" for all).
func (s *testServer) count(method, prefix string) int {
	n := 0
	for _, r := range s.requests() {
		if r.Method == method && strings.HasPrefix(strings.TrimPrefix(r.Path, apiPath), prefix) {
			n++
		}
	}
	return n
}

// last returns the last request with the method and path prefix (relative
// to the API root).
func (s *testServer) last(method, prefix string) recorded {
	s.t.Helper()
	reqs := s.requests()
	for i := len(reqs) - 1; i >= 0; i-- {
		if reqs[i].Method == method && strings.HasPrefix(strings.TrimPrefix(reqs[i].Path, apiPath), prefix) {
			return reqs[i]
		}
	}
	require.Failf(s.t, "no such request", "no %s %s request among %d", method, prefix, len(reqs))
	return recorded{}
}

type resettingListener struct {
	net.Listener
	s     *testServer
	reset int64
}

func (l *resettingListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.s.accepts.Add(1) > l.reset {
			return c, nil
		}
		go func() {
			c.Read(make([]byte, 1))
			rst(c)
		}()
	}
}

// fixture reads a file under testdata ("conversations/x.json").
func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", filepath.FromSlash(name)))
	require.NoError(t, err)
	return b
}

// answer writes a JSON body with status and headers (key, value pairs),
// as the API does: its media type unless a Content-Type is given, and
// X-Request-Id "req-<status>" unless one is given.
func answer(w http.ResponseWriter, status int, body string, kv ...string) {
	w.Header().Set("X-Request-Id", "req-"+strconv.Itoa(status))
	for i := 0; i+1 < len(kv); i += 2 {
		w.Header().Set(kv[i], kv[i+1])
	}
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", mediaType+"; charset=utf-8")
	}
	w.WriteHeader(status)
	io.WriteString(w, body)
}

// fakeClock is the client's clock and sleep in tests: sleeping advances
// it at once, records the duration and calls onSleep (which may, say,
// cancel a context).
type fakeClock struct {
	mu      sync.Mutex
	t       time.Time
	sleeps  []time.Duration
	onSleep func(n int)
}

// newFakeClock returns a fake clock at the current second and installs it
// on each of clients.
func newFakeClock(clients ...*Client) *fakeClock {
	c := &fakeClock{t: time.Now().Truncate(time.Second).UTC()}
	for _, cl := range clients {
		c.install(cl)
	}
	return c
}

// install makes c the client's clock.
func (c *fakeClock) install(cl *Client) {
	cl.now, cl.sleep = c.now, c.sleep
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Now is now, spelled for the options that take a func() time.Time
// (WithClock).
func (c *fakeClock) Now() time.Time { return c.now() }

// Advance moves the clock forward by d without sleeping.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func (c *fakeClock) sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	c.sleeps = append(c.sleeps, d)
	c.t = c.t.Add(d)
	n, hook := len(c.sleeps), c.onSleep
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

// serveJSON answers body with the API's headers: a request id and a rate
// budget.
func serveJSON(w http.ResponseWriter, status int, body []byte) {
	answer(w, status, string(body), "X-Request-Id", "req-123",
		"X-RateLimit-Limit", "1000", "X-RateLimit-Remaining", "998", "X-RateLimit-Reset", "1700000000")
}

// serveFixture answers with a testdata file.
func serveFixture(t testing.TB, status int, name string) http.HandlerFunc {
	b := fixture(t, name)
	return func(w http.ResponseWriter, r *http.Request) { answer(w, status, string(b)) }
}
