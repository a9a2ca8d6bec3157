// Package bookingsynctest is an in-memory fake of the BookingSync (Smily)
// API v3 for tests and examples: the Inbox resources, hosts, bookings,
// applications, the OAuth 2.0 endpoints and webhook deliveries, speaking the
// wire format the API reference documents.
//
// The fake is an independent implementation of the wire format; it does not
// import the SDK. It aims to be honest: a test that passes against it should
// also pass against the real API's documented behaviour. Where the real
// behaviour is unknown the fake follows the project's API notes and says so
// in a comment; where it had to choose, it chose the stricter reading.
//
// Guesses (undocumented real behaviour), in one place:
//   - Error bodies: 403 {"error":"Forbidden"}, 404 {"error":"Not found"},
//     429 {"error":"API v3 rate limit exceeded."}, 400 for malformed JSON or
//     a missing resource key, 415 for a non-JSON Content-Type.
//   - GET /x/1,2,3 returns the known ids in id order; 404 only when none is.
//   - Every API request counts against the rate limit, 401s included.
//   - X-Updated-Since-Request-Synced-At is sent only with updated_since;
//     meta.deleted_ids is then always present ([] when empty).
//   - An empty collection reports X-Total-Pages 1.
//   - Validation error keys and messages follow Rails conventions
//     ("conversation": ["must exist"], "content": ["can't be blank"]); the
//     same member twice in a conversation is "has already been taken".
//   - Bookings: from keeps bookings ending after it and defaults to now
//     (none with updated_since); until keeps those starting before it;
//     months sets until = from + months; canceled bookings appear only with
//     include_canceled or updated_since. A token without bookings_read or
//     bookings_write sees the reduced view of the reference's public-scope
//     example instead of a 403.
//   - Message update accepts origin, visibility, channel and attachment_ids
//     (the reference's example); API-created messages and conversations have
//     null created_by_*.
//   - A refresh revokes the previous access token as well as the previous
//     refresh token; OAuth failures are 401 as API.md says.
//   - Bookings writes answer 501: the real API has them, the fake does not.
package bookingsynctest

import (
	"crypto/rand"
	"encoding/hex"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Defaults used when no option overrides them.
const (
	// DefaultToken is the access token accepted by a new Server.
	DefaultToken = "bookingsynctest-token"
	// DefaultClientID is the OAuth client id of the fake's one application.
	DefaultClientID = "bookingsynctest-client"
	// DefaultClientSecret is the OAuth client secret of that application;
	// it is also the default webhook signing secret.
	DefaultClientSecret = "bookingsynctest-secret"
	// DefaultRedirectURI is the registered OAuth redirect URI.
	DefaultRedirectURI = "http://127.0.0.1/oauth/callback"
	// AccountID is the id of the fake's single account.
	AccountID = 1
)

// DefaultScopes are the scopes the default token carries.
var DefaultScopes = []string{"public", "inbox_read", "inbox_write", "bookings_read", "applications_read"}

type config struct {
	token         string
	scopes        []string
	rateLimit     int
	clock         func() time.Time
	latency       time.Duration
	seed          bool
	clientID      string
	clientSecret  string
	redirectURI   string
	webhookSecret *string
	pageCap       int
	convDelay     time.Duration
	listener      net.Listener
}

// Option configures a Server.
type Option func(*config)

// WithToken sets the static access token the server accepts (never expires).
func WithToken(tok string) Option { return func(c *config) { c.token = tok } }

// WithScopes sets the scopes granted to the static access token.
func WithScopes(scopes ...string) Option {
	return func(c *config) { c.scopes = append([]string(nil), scopes...) }
}

// WithRateLimit sets the number of API requests allowed per one-hour window
// (default 1000, as the real API).
func WithRateLimit(limit int) Option { return func(c *config) { c.rateLimit = limit } }

// WithClock injects the server's clock (default time.Now).
func WithClock(now func() time.Time) Option { return func(c *config) { c.clock = now } }

// WithLatency delays every API response by d.
func WithLatency(d time.Duration) Option { return func(c *config) { c.latency = d } }

// WithoutSeed starts the server with an empty account.
func WithoutSeed() Option { return func(c *config) { c.seed = false } }

// WithOAuthClient registers the OAuth application the server knows.
func WithOAuthClient(clientID, clientSecret, redirectURI string) Option {
	return func(c *config) { c.clientID, c.clientSecret, c.redirectURI = clientID, clientSecret, redirectURI }
}

// WithWebhookSecret sets the key used to sign webhooks (default: the OAuth
// client secret, as the real API does).
func WithWebhookSecret(secret string) Option {
	return func(c *config) { c.webhookSecret = &secret }
}

// WithPageSizeCap sets the largest per_page the server honours (default 100).
func WithPageSizeCap(n int) Option { return func(c *config) { c.pageCap = n } }

// WithConversationDelay sets how long after the server starts the seeded
// delayed Booking.com conversation appears (default 2s).
func WithConversationDelay(d time.Duration) Option { return func(c *config) { c.convDelay = d } }

// WithListener makes the server accept connections on l instead of a new
// loopback port (the bookingsync command's `fake --addr`). The server owns
// l from then on and closes it in Close.
func WithListener(l net.Listener) Option { return func(c *config) { c.listener = l } }

// Request is one request the server received, as logged by Requests.
type Request struct {
	Method string
	Path   string
	Query  url.Values
	// Body is the raw request body. For /oauth/token the secret form
	// fields (client_secret, code, refresh_token) are replaced by REDACTED.
	Body []byte
	// Header holds the request headers; Authorization is REDACTED.
	Header http.Header
}

// Server is a running fake BookingSync site. It is safe for concurrent use.
type Server struct {
	// URL is the site root, e.g. http://127.0.0.1:PORT; the API lives under
	// URL+"/api/v3/", OAuth under URL+"/oauth/".
	URL string

	ts    *httptest.Server
	cfg   config
	clock func() time.Time
	start time.Time

	mu      sync.Mutex
	latency time.Duration
	reqs    []Request
	faults  []*Fault

	rateLimit     int
	rateRemaining int
	rateReset     int64 // unix seconds

	tokens       map[string]*accessToken
	refreshes    map[string]*refreshGrant
	codes        map[string]*codeGrant
	refreshCount int

	db
}

// NewServer starts a fake server on a loopback address. Close it when done.
func NewServer(opts ...Option) *Server {
	cfg := config{
		token:        DefaultToken,
		scopes:       DefaultScopes,
		rateLimit:    1000,
		clock:        time.Now,
		seed:         true,
		clientID:     DefaultClientID,
		clientSecret: DefaultClientSecret,
		redirectURI:  DefaultRedirectURI,
		pageCap:      100,
		convDelay:    2 * time.Second,
	}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.pageCap < 1 {
		cfg.pageCap = 1
	}
	s := &Server{
		cfg:       cfg,
		clock:     cfg.clock,
		latency:   cfg.latency,
		tokens:    map[string]*accessToken{},
		refreshes: map[string]*refreshGrant{},
		codes:     map[string]*codeGrant{},
	}
	s.start = s.clock()
	s.rateLimit = cfg.rateLimit
	s.rateRemaining = cfg.rateLimit
	s.rateReset = s.start.Add(time.Hour).Unix()
	s.tokens[cfg.token] = &accessToken{scopes: scopeSet(cfg.scopes)}
	s.db.init()
	if cfg.seed {
		s.seed()
	}
	s.ts = httptest.NewUnstartedServer(http.HandlerFunc(s.serveHTTP))
	if cfg.listener != nil {
		_ = s.ts.Listener.Close()
		s.ts.Listener = cfg.listener
	}
	s.ts.Start()
	s.URL = s.ts.URL
	return s
}

// Close shuts the server down.
func (s *Server) Close() { s.ts.Close() }

// APIURL returns the API root, URL+"/api/v3/".
func (s *Server) APIURL() string { return s.URL + "/api/v3/" }

// Token returns the static access token the server accepts.
func (s *Server) Token() string { return s.cfg.token }

// Client returns an *http.Client suited to talk to the server.
func (s *Server) Client() *http.Client { return s.ts.Client() }

// SetLatency changes the delay added to every API response.
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	s.latency = d
	s.mu.Unlock()
}

// SetRateLimit sets the window's limit and the requests remaining in it.
func (s *Server) SetRateLimit(limit, remaining int) {
	s.mu.Lock()
	s.rateLimit, s.rateRemaining = limit, remaining
	s.mu.Unlock()
}

// SetRateLimitReset sets when the current rate-limit window ends; once the
// clock reaches it the budget refills and a new one-hour window starts.
func (s *Server) SetRateLimitReset(t time.Time) {
	s.mu.Lock()
	s.rateReset = t.Unix()
	s.mu.Unlock()
}

// Requests returns a copy of the log of received requests, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.reqs...)
}

// ResetRequests empties the request log.
func (s *Server) ResetRequests() {
	s.mu.Lock()
	s.reqs = nil
	s.mu.Unlock()
}

// RequestCount counts logged requests with the given method ("" for any)
// whose path starts with pathPrefix. A prefix without a leading "/" is taken
// relative to the API root, so "inbox/messages" means "/api/v3/inbox/messages".
func (s *Server) RequestCount(method, pathPrefix string) int {
	if pathPrefix != "" && !strings.HasPrefix(pathPrefix, "/") {
		pathPrefix = "/api/v3/" + pathPrefix
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, r := range s.reqs {
		if (method == "" || r.Method == method) && strings.HasPrefix(r.Path, pathPrefix) {
			n++
		}
	}
	return n
}

func (s *Server) now() time.Time { return s.clock() }

// maxBody bounds request bodies: a 10 MB file as base64 plus JSON fits.
const maxBody = 16 << 20

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Request-Id", newRequestID())
	f := s.takeFault(r)
	if f != nil && f.Kind == FaultResetBeforeRead {
		s.logRequest(r, nil)
		hijackClose(w)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	s.logRequest(r, body)
	if err != nil {
		return
	}
	if len(body) > maxBody {
		writeJSON(w, http.StatusRequestEntityTooLarge, ctJSON, map[string]any{"error": "Request Entity Too Large"})
		return
	}
	var h func(http.ResponseWriter, *http.Request, []byte)
	switch {
	case strings.HasPrefix(r.URL.Path, "/api/v3/"):
		if !s.sleep(r) {
			return
		}
		h = s.serveAPI
	case r.URL.Path == "/oauth/authorize":
		h = s.serveAuthorize
	case r.URL.Path == "/oauth/token":
		h = s.serveToken
	default:
		h = func(w http.ResponseWriter, _ *http.Request, _ []byte) {
			writeJSON(w, http.StatusNotFound, ctJSON, map[string]any{"error": "Not found"})
		}
	}
	if f != nil {
		s.applyFault(f, w, r, body, h)
		return
	}
	h(w, r, body)
}

// sleep applies the configured latency; it reports false when the request
// was canceled meanwhile (the request is then not processed).
func (s *Server) sleep(r *http.Request) bool {
	s.mu.Lock()
	d := s.latency
	s.mu.Unlock()
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	}
}

func (s *Server) logRequest(r *http.Request, body []byte) {
	h := r.Header.Clone()
	if h.Get("Authorization") != "" {
		h.Set("Authorization", "REDACTED")
	}
	if r.URL.Path == "/oauth/token" && len(body) > 0 {
		if v, err := url.ParseQuery(string(body)); err == nil {
			for _, k := range []string{"client_secret", "code", "refresh_token"} {
				if v.Has(k) {
					v.Set(k, "REDACTED")
				}
			}
			body = []byte(v.Encode())
		} else {
			body = []byte("REDACTED")
		}
	}
	q := r.URL.Query()
	if r.URL.Path == "/oauth/authorize" && q.Has("state") {
		q.Set("state", "REDACTED")
	}
	s.mu.Lock()
	s.reqs = append(s.reqs, Request{Method: r.Method, Path: r.URL.Path, Query: q, Body: body, Header: h})
	s.mu.Unlock()
}

func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func randomToken() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
