package serve

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-bookingsync/bookingsync/bookingsynctest"
	"github.com/go-bookingsync/bookingsync/inboxsync"
)

// The tests drive serve over HTTP as a browser would (a cookie jar, the
// forms' fields), against the fake API with two accounts and a real
// SQLite file. The fleet is built but not run: the tests fill the copy
// with one pass each (fill), so that nothing calls the API behind
// their back.

// harness is one serve in front of one fake.
type harness struct {
	t    *testing.T
	fake *bookingsynctest.Server
	st   *inboxsync.Store
	srv  *Server
	url  string // serve's public URL
	logs *syncBuffer
	key  string // the session key
}

// syncBuffer collects the logs of a server whose handlers run
// concurrently.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func randomKey() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	pub := "http://" + ts.Listener.Addr().String()
	fake := bookingsynctest.NewServer(bookingsynctest.WithAccounts(2), bookingsynctest.WithConversationDelay(0),
		bookingsynctest.WithOAuthClient(bookingsynctest.DefaultClientID, bookingsynctest.DefaultClientSecret, pub+"/oauth/callback"))
	t.Cleanup(fake.Close)
	st, err := inboxsync.Open(context.Background(), "sqlite:"+t.TempDir()+"/inbox.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	h := &harness{t: t, fake: fake, st: st, url: pub, logs: &syncBuffer{}, key: randomKey()}
	cfg := Config{
		DB: "sqlite:unused", PublicURL: pub, BaseURL: fake.URL,
		ClientID: bookingsynctest.DefaultClientID, ClientSecret: bookingsynctest.DefaultClientSecret,
		SessionKey: h.key, Logger: slog.New(slog.NewJSONHandler(h.logs, nil)),
	}
	cfg.defaults()
	m := newMetrics()
	fleet, err := inboxsync.NewFleet(st, inboxsync.FleetConfig{
		OAuth: oauthConfig(cfg, &url.URL{Scheme: "http", Host: ts.Listener.Addr().String()}), ClientOptions: clientOptions(cfg),
		WebhookSecret: cfg.WebhookSecret, Replica: "test-" + t.Name(), MeterProvider: m.provider,
	})
	if err != nil {
		t.Fatal(err)
	}
	if h.srv, err = newServer(cfg, st, fleet, m); err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = h.srv
	ts.Start()
	t.Cleanup(ts.Close)
	t.Cleanup(func() {
		// Whatever a test did, no secret reached the log.
		logs := h.logs.String()
		for _, secret := range h.secrets() {
			if secret != "" && strings.Contains(logs, secret) {
				t.Errorf("a secret is in the log:\n%s", logs)
			}
		}
	})
	return h
}

// secrets are what must never be logged or shown.
func (h *harness) secrets() []string {
	out := []string{h.key, bookingsynctest.DefaultClientSecret}
	for _, a := range h.fake.Accounts() {
		out = append(out, a.Token(), a.RefreshToken())
	}
	return out
}

// browser is a cookie jar that does not follow redirects, so that tests
// see each step.
type browser struct {
	h  *harness
	hc *http.Client
}

func (h *harness) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{h: h, hc: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// response is an answer with its body read.
type response struct {
	*http.Response
	body string
}

func (b *browser) do(req *http.Request) response {
	b.h.t.Helper()
	resp, err := b.hc.Do(req)
	if err != nil {
		b.h.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.h.t.Fatal(err)
	}
	return response{resp, string(body)}
}

// get fetches a path of serve, or an absolute URL.
func (b *browser) get(path string) response {
	b.h.t.Helper()
	if !strings.HasPrefix(path, "http") {
		path = b.h.url + path
	}
	req, _ := http.NewRequest(http.MethodGet, path, nil)
	return b.do(req)
}

// post submits a form to a path of serve.
func (b *browser) post(path string, form url.Values) response {
	b.h.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, b.h.url+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

func want(t *testing.T, r response, status int) {
	t.Helper()
	if r.StatusCode != status {
		t.Fatalf("%s %s: %d, want %d\n%s", r.Request.Method, r.Request.URL.Path, r.StatusCode, status, r.body)
	}
}

// signIn goes through /login, the fake's sign-in page (pressing the
// account's button) and the callback; it returns the callback's answer.
func (b *browser) signIn(account int64, returnTo string) response {
	b.h.t.Helper()
	r := b.get("/login?return=" + url.QueryEscape(returnTo))
	want(b.h.t, r, http.StatusFound)
	auth := r.Header.Get("Location")
	page := b.get(auth)
	want(b.h.t, page, http.StatusOK) // two accounts: the sign-in page
	r = b.get(auth + "&account_id=" + itoa(account))
	want(b.h.t, r, http.StatusFound)
	return b.get(r.Header.Get("Location"))
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// csrfField finds the CSRF token of a page's forms.
var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func csrfOf(t *testing.T, page string) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF field in\n%s", page)
	}
	return m[1]
}

// syncer is the account's syncer, as the fleet would run it: the fleet's
// client, serve's meter provider.
func (h *harness) syncer(account int64) *inboxsync.Syncer {
	h.t.Helper()
	c, err := h.srv.fleet.Client(context.Background(), account)
	if err != nil {
		h.t.Fatal(err)
	}
	return inboxsync.New(h.st, account, c, inboxsync.WithMeterProvider(h.srv.metrics.provider))
}

// fill makes one pass for the account, as the fleet would.
func (h *harness) fill(account int64) {
	h.t.Helper()
	if _, err := h.syncer(account).Sync(context.Background()); err != nil {
		h.t.Fatal(err)
	}
}

// ids lists the values of a data attribute in a page, in order.
func ids(page, attr string) []string {
	var out []string
	for _, m := range regexp.MustCompile(attr+`="(\d+)"`).FindAllStringSubmatch(page, -1) {
		out = append(out, m[1])
	}
	return out
}

// keyField finds the reply form's idempotency key.
var keyField = regexp.MustCompile(`name="key" value="([^"]+)"`)

func formKey(t *testing.T, page string) string {
	t.Helper()
	m := keyField.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no key field in\n%s", page)
	}
	return m[1]
}

// event is one change of an event stream.
type event struct {
	Seq      int64
	Resource string
	ID       int64
}

// stream is an open /events.
type stream struct {
	events chan event
	seen   []event
}

// events opens /events, resuming after lastID ("" for none).
func (b *browser) events(t *testing.T, lastID string) *stream {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.h.url+"/events", nil)
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	hc := *b.hc
	hc.Timeout = 0
	resp, err := hc.Do(req.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("/events: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	s := &stream{events: make(chan event, 1000)}
	go func() {
		defer resp.Body.Close()
		defer close(s.events)
		sc := bufio.NewScanner(resp.Body)
		var e event
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "id: "):
				e.Seq, _ = strconv.ParseInt(strings.TrimPrefix(line, "id: "), 10, 64)
			case strings.HasPrefix(line, "data: "):
				_ = json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &e)
			case line == "" && e.Seq != 0:
				s.events <- e
				e = event{}
			}
		}
	}()
	return s
}

// next returns the stream's next change.
func (s *stream) next(t *testing.T) event {
	t.Helper()
	select {
	case e, ok := <-s.events:
		if !ok {
			t.Fatal("the event stream ended")
		}
		s.seen = append(s.seen, e)
		return e
	case <-time.After(20 * time.Second):
		t.Fatal("no event within 20s")
	}
	return event{}
}

// until reads changes up to the one of the record, and returns its Seq.
func (s *stream) until(t *testing.T, resource string, id int64) int64 {
	t.Helper()
	for {
		if e := s.next(t); e.Resource == resource && e.ID == id {
			return e.Seq
		}
	}
}
