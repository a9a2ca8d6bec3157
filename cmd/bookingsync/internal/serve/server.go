package serve

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/go-bookingsync/bookingsync"
	"github.com/go-bookingsync/bookingsync/inboxsync"
	"golang.org/x/oauth2"
)

// Scopes are what serve asks for at sign-in: the Inbox, and the guests,
// rentals, bookings and channels an inbox row names.
var Scopes = []string{
	bookingsync.ScopePublic, bookingsync.ScopeInboxRead, bookingsync.ScopeInboxWrite,
	bookingsync.ScopeBookingsRead, bookingsync.ScopeApplicationsRead,
	bookingsync.ScopeClientsRead, bookingsync.ScopeRentalsRead,
}

// Server is the web side of serve: its routes over a store and a fleet.
// Run builds one and runs it.
type Server struct {
	cfg    Config
	pub    *url.URL
	secure bool // cookies are Secure: the public URL is https
	st     *inboxsync.Store
	fleet  *inboxsync.Fleet
	oauth  *oauth2.Config
	log    *slog.Logger
	now    func() time.Time

	sessions, csrf, signin signer
	used                   usedStates
	pages                  map[string]*template.Template
	metrics                *metrics
	handler                http.Handler
	// closing is closed when the server starts stopping: /readyz answers
	// 503 and event streams end, so that Shutdown is not held by them.
	closing chan struct{}
}

// newServer returns the server of cfg over st and fleet, whose series
// m holds (cfg must pass Check).
func newServer(cfg Config, st *inboxsync.Store, fleet *inboxsync.Fleet, m *metrics) (*Server, error) {
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	cfg.defaults()
	pub, err := cfg.public()
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg: cfg, pub: pub, secure: pub.Scheme == "https", st: st, fleet: fleet,
		oauth:    oauthConfig(cfg, pub),
		log:      cmp.Or(cfg.Logger, slog.New(slog.NewJSONHandler(os.Stderr, nil))),
		now:      time.Now,
		sessions: newSigner(cfg.SessionKey, "session"),
		csrf:     newSigner(cfg.SessionKey, "csrf"),
		signin:   newSigner(cfg.SessionKey, "sign-in"),
		used:     usedStates{seen: map[string]int64{}},
		pages:    parsePages(),
		metrics:  m,
		closing:  make(chan struct{}),
	}
	s.handler = s.routes()
	return s, nil
}

func oauthConfig(cfg Config, pub *url.URL) *oauth2.Config {
	return &oauth2.Config{
		ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret,
		Endpoint:    bookingsync.Endpoint(cmp.Or(cfg.BaseURL, bookingsync.DefaultBaseURL)),
		RedirectURL: pub.String() + "/oauth/callback",
		Scopes:      Scopes,
	}
}

// ServeHTTP serves the routes of the package doc.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.inbox)
	mux.HandleFunc("GET /login", s.login)
	mux.HandleFunc("GET /oauth/callback", s.callback)
	mux.HandleFunc("POST /logout", s.logout)
	mux.HandleFunc("GET /conversations/{id}", s.thread)
	mux.HandleFunc("POST /conversations/{id}/reply", s.reply)
	mux.HandleFunc("GET /events", s.events)
	mux.Handle("POST /webhooks", s.fleet.WebhookHandler())
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.HandleFunc("GET /metrics", s.serveMetrics)
	mux.Handle("GET /static/", staticFiles())
	return s.guarded(s.logged(mux))
}

// clientOptions are the options of every API client serve makes.
func (s *Server) clientOptions() []bookingsync.Option {
	return clientOptions(s.cfg)
}

func clientOptions(cfg Config) []bookingsync.Option {
	return []bookingsync.Option{bookingsync.WithBaseURL(cmp.Or(cfg.BaseURL, bookingsync.DefaultBaseURL))}
}

// Run runs serve until ctx ends: it opens the store, runs the fleet and
// serves HTTP on cfg.Listen; ready is called with the listening address
// once requests are served. Then it stops cleanly, within about
// cfg.ShutdownTimeout plus the time the fleet takes to stop its passes
// at their next request: it stops accepting requests and lets those in
// flight finish (event streams end at once, the browser reconnects to
// another replica), then stops the fleet, which releases its leases, and
// closes the store. It returns nil after a clean stop.
func Run(ctx context.Context, cfg Config, ready func(addr string)) error {
	if err := cfg.Check(); err != nil {
		return err
	}
	cfg.defaults()
	log := cmp.Or(cfg.Logger, slog.New(slog.NewJSONHandler(os.Stderr, nil)))
	cfg.Logger = log
	st, err := inboxsync.Open(ctx, cfg.DB)
	if err != nil {
		return fmt.Errorf("opening the database: %w", err)
	}
	defer st.Close()
	if key, _ := cfg.sealKey(); key != nil {
		if err := st.SealTokens(key); err != nil {
			return err
		}
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return err
	}
	defer ln.Close()
	if cfg.PublicURL == "" {
		cfg.PublicURL = "http://" + ln.Addr().String()
	}
	pub, err := cfg.public()
	if err != nil {
		return err
	}
	m := newMetrics()
	defer m.provider.Shutdown(context.WithoutCancel(ctx))
	fleet, err := inboxsync.NewFleet(st, inboxsync.FleetConfig{
		OAuth:         oauthConfig(cfg, pub),
		ClientOptions: clientOptions(cfg),
		Every:         cfg.Every,
		WebhookSecret: cfg.WebhookSecret,
		Replica:       cfg.Replica,
		Logger:        log,
		SyncOptions:   []inboxsync.Option{inboxsync.WithLogger(log)},
		MeterProvider: m.provider,
	})
	if err != nil {
		return err
	}
	s, err := newServer(cfg, st, fleet, m)
	if err != nil {
		return err
	}
	hs := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		// No WriteTimeout: event streams stay open; pages bound their
		// own work (pageTimeout).
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	fleetCtx, stopFleet := context.WithCancel(context.WithoutCancel(ctx))
	defer stopFleet()
	fleetDone := make(chan error, 1)
	go func() { fleetDone <- fleet.Run(fleetCtx) }()
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	log.Info("serving", "addr", ln.Addr().String(), "public_url", pub.String(), "replica", fleet.Replica(), "db", st.Dialect())
	if ready != nil {
		ready(ln.Addr().String())
	}

	var failed error
	select {
	case <-ctx.Done():
	case err := <-served:
		failed = fmt.Errorf("serving: %w", err)
	case err := <-fleetDone:
		failed = fmt.Errorf("fleet: %w", err)
		fleetDone <- nil
	}
	started := time.Now()
	log.Info("stopping", "bound", cfg.ShutdownTimeout.String())
	close(s.closing)
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		log.Warn("requests still in flight at the bound were cut", "error", err.Error())
		hs.Close()
	}
	stopFleet()
	if err := <-fleetDone; err != nil && failed == nil {
		failed = fmt.Errorf("fleet: %w", err)
	}
	log.Info("stopped", "took", time.Since(started).Round(time.Millisecond).String())
	if failed != nil && !errors.Is(failed, http.ErrServerClosed) {
		return failed
	}
	return nil
}

// localPath returns p if it is a path on this site ("/…", not "//…"
// nor "/\…", which browsers take for another host), else "/": the
// return path of /login never leads elsewhere.
func localPath(p string) string {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.HasPrefix(p, `/\`) {
		return "/"
	}
	u, err := url.Parse(p)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || strings.ContainsAny(p, "\\\r\n\t") {
		return "/"
	}
	return p
}
