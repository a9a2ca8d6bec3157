package bookingsynctest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
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
	// AccountID is the id of the default account, the one the static
	// token acts for and the Server's builders fill.
	AccountID = 1
)

// DefaultScopes are the scopes the default token carries.
var DefaultScopes = []string{"public", "inbox_read", "inbox_write", "bookings_read", "applications_read",
	"clients_read", "rentals_read", "inquiries_read", "payments_read"}

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
	// AccountID is the account whose token the request carried (0: none,
	// an invalid one, or a client-credentials token).
	AccountID int64
}

// Server is a running fake BookingSync site. It is safe for concurrent use.
//
// The embedded *Account is the default account (AccountID), which the
// static token acts for: its builders (AddConversation, AddHost, …) and
// settings are promoted, so srv.AddHost adds a host to it. AddAccount adds
// more accounts, each with its own data, tokens, rate budget and webhooks.
type Server struct {
	// URL is the site root, e.g. http://127.0.0.1:PORT; the API lives under
	// URL+"/api/v3/", OAuth under URL+"/oauth/".
	URL string
	*Account

	ts     *httptest.Server
	cfg    config
	mux    *http.ServeMux
	start  time.Time
	offset atomic.Int64 // Advance, in nanoseconds

	mu        sync.Mutex // guards the fields below and the shared tables
	shared    db         // applications and the accounts' records
	latency   time.Duration
	reqs      []*Request
	faults    []*Fault
	tokens    map[string]*accessToken
	refreshes map[string]*refreshGrant
	spent     map[string]*Account // refresh tokens already used once
	codes     map[string]*codeGrant
	accounts  []*Account // by id: accounts[i] has id AccountID+i

	anon budget // requests without a valid token
	app  budget // client-credentials tokens (one per application)

	hooks   sync.WaitGroup // webhook deliveries in flight
	hookMu  sync.Mutex     // orders a delivery's hooks.Add before Close's Wait
	hookEnd bool           // set by Close under hookMu: no delivery starts after it
	done    chan struct{}  // closed by Close: stops the announcer
	closed  sync.Once      // Close's work, once
	pending atomic.Int64   // hidden conversations not yet announced, over all accounts
}

// NewServer starts a fake server on a loopback address. Close it when done.
func NewServer(opts ...Option) *Server {
	cfg := config{
		token:        DefaultToken,
		scopes:       DefaultScopes,
		rateLimit:    1000,
		clock:        time.Now,
		seed:         true,
		accounts:     1,
		clientID:     DefaultClientID,
		clientSecret: DefaultClientSecret,
		redirectURI:  DefaultRedirectURI,
		convDelay:    2 * time.Second,
		tokenTTL:     TokenLifetime,
	}
	for _, o := range opts {
		o(&cfg)
	}
	s := &Server{
		cfg:       cfg,
		latency:   cfg.latency,
		tokens:    map[string]*accessToken{},
		refreshes: map[string]*refreshGrant{},
		spent:     map[string]*Account{},
		codes:     map[string]*codeGrant{},
	}
	for i := range cfg.faults {
		s.faults = append(s.faults, &cfg.faults[i])
	}
	s.start = s.now()
	s.shared.init(1)
	s.anon.init(cfg.rateLimit, s.start)
	s.app.init(cfg.rateLimit, s.start)
	if cfg.seed {
		s.seedApplications()
	}
	s.Account = s.addAccount(AccountSeed{Empty: !cfg.seed}, cfg.token)
	for i := 1; i < cfg.accounts; i++ {
		s.AddAccount(AccountSeed{Empty: !cfg.seed})
	}
	s.mux = http.NewServeMux()
	s.routes(s.mux)
	s.mux.Handle("GET /oauth/authorize", s.plain(s.serveAuthorize))
	s.mux.Handle("POST /oauth/token", s.plain(s.serveToken))
	s.mux.Handle("/", s.plain(func(c *apiReq) {
		writeJSON(c.w, http.StatusNotFound, ctJSON, map[string]any{"error": "Not found"})
	}))
	s.ts = httptest.NewUnstartedServer(http.HandlerFunc(s.serveHTTP))
	if cfg.listener != nil {
		_ = s.ts.Listener.Close()
		s.ts.Listener = cfg.listener
	}
	// Set before serving: handlers read s.URL, and a request may come as
	// soon as the listener accepts (from another process, say, which got
	// the address some other way).
	s.URL = "http://" + s.ts.Listener.Addr().String()
	s.done = make(chan struct{})
	s.ts.Start()
	go s.announcer()
	return s
}

// Close waits for webhook deliveries in flight and shuts the server down.
// It may be called more than once (a deferred Close and a t.Cleanup, say),
// as httptest.Server.Close may; the later calls do nothing.
func (s *Server) Close() {
	s.closed.Do(func() {
		close(s.done)
		s.hookMu.Lock()
		s.hookEnd = true
		s.hookMu.Unlock()
		s.hooks.Wait()
		s.ts.Close()
	})
}

// APIURL returns the API root, URL+"/api/v3/".
func (s *Server) APIURL() string { return s.URL + "/api/v3/" }

// Client returns an *http.Client suited to talk to the server.
func (s *Server) Client() *http.Client { return s.ts.Client() }

// Now returns the server's time: its clock plus what Advance added.
func (s *Server) Now() time.Time { return s.now() }

// Advance moves the server's time forward by d: tokens expire, delayed
// conversations appear and rate-limit windows reset as if d had passed.
// It works with the default clock and with WithClock.
func (s *Server) Advance(d time.Duration) {
	s.offset.Add(int64(d))
	s.announce()
}

// announcer announces, every 50 ms of wall time, the hidden conversations
// that appeared by the server's clock.
func (s *Server) announcer() {
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-s.done:
			return
		case <-t.C:
			s.announce()
		}
	}
}

func (s *Server) announce() {
	if s.pending.Load() == 0 {
		return
	}
	now := s.now().UnixNano()
	for _, a := range s.Accounts() {
		a.announce(now)
	}
}

func (s *Server) now() time.Time { return s.cfg.clock().Add(time.Duration(s.offset.Load())) }

// SetLatency changes the delay added to every API response.
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	s.latency = d
	s.mu.Unlock()
}

// Requests returns a copy of the log of received requests, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, len(s.reqs))
	for i, r := range s.reqs {
		out[i] = *r
	}
	return out
}

// ResetRequests empties the request log.
func (s *Server) ResetRequests() {
	s.mu.Lock()
	s.reqs = nil
	s.mu.Unlock()
}

// RequestCount counts logged requests, of every account, with the given
// method ("" for any) whose path starts with pathPrefix. A prefix without a
// leading "/" is taken relative to the API root, so "inbox/messages" means
// "/api/v3/inbox/messages". Account.RequestCount counts one account's.
func (s *Server) RequestCount(method, pathPrefix string) int {
	return s.countRequests(0, method, pathPrefix)
}

func (s *Server) countRequests(account int64, method, pathPrefix string) int {
	if pathPrefix != "" && !strings.HasPrefix(pathPrefix, "/") {
		pathPrefix = "/api/v3/" + pathPrefix
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, r := range s.reqs {
		if (account == 0 || r.AccountID == account) && (method == "" || r.Method == method) && strings.HasPrefix(r.Path, pathPrefix) {
			n++
		}
	}
	return n
}

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
	logged := s.logRequest(r, body)
	if err != nil {
		return
	}
	if len(body) > maxBody {
		writeJSON(w, http.StatusRequestEntityTooLarge, ctJSON, map[string]any{"error": "Request Entity Too Large"})
		return
	}
	c := &apiReq{s: s, r: r, body: body, logged: logged}
	r = r.WithContext(context.WithValue(r.Context(), reqKey{}, c))
	h := func(w http.ResponseWriter, r *http.Request) {
		c.w, c.r = w, r
		s.mux.ServeHTTP(w, r)
	}
	if f != nil {
		s.applyFault(f, w, r, h)
		return
	}
	h(w, r)
}

// plain adapts a handler that needs no authentication (OAuth, 404s).
func (s *Server) plain(fn func(c *apiReq)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fn(r.Context().Value(reqKey{}).(*apiReq))
	})
}

// sleep applies the configured latency; it reports false when the request
// was canceled meanwhile (the request is then not processed).
func (s *Server) sleep(r *http.Request) bool {
	s.mu.Lock()
	d := s.latency
	s.mu.Unlock()
	if s.cfg.jitter > 0 {
		d += time.Duration(mrand.Int64N(int64(s.cfg.jitter)))
	}
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

func (s *Server) logRequest(r *http.Request, body []byte) *Request {
	if s.cfg.noLog {
		return &Request{}
	}
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
	req := &Request{Method: r.Method, Path: r.URL.Path, Query: q, Body: body, Header: h}
	s.mu.Lock()
	s.reqs = append(s.reqs, req)
	s.mu.Unlock()
	return req
}

// noteAccount counts an authenticated request against its account.
func (s *Server) noteAccount(c *apiReq) {
	c.acct.requests.Add(1)
	if s.cfg.noLog {
		return
	}
	s.mu.Lock()
	c.logged.AccountID = c.acct.id
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
