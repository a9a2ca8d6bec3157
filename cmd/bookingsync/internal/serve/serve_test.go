package serve

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-bookingsync/bookingsync/bookingsynctest"
)

// space is how far apart the fake puts two accounts' ids.
const space = 10_000_000

// conv is the id of account's copy of a seeded conversation.
func conv(account, seeded int64) int64 { return (account-1)*space + seeded }

// Signing in as each account shows that account's inbox and threads,
// read from the copy alone: a page view costs the API no request.
func TestSignInShowsOwnInboxWithoutAPIRequests(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for _, account := range []int64{1, 2} {
		b := h.browser()
		r := b.signIn(account, "/")
		want(t, r, http.StatusSeeOther)
		if r.Header.Get("Location") != "/" {
			t.Fatalf("signed in to %q", r.Header.Get("Location"))
		}
		h.fill(account)

		before := h.fake.RequestCount("", "")
		inbox := b.get("/")
		want(t, inbox, http.StatusOK)
		got := ids(inbox.body, "data-conversation-id")
		wantIDs := []string{itoa(conv(account, bookingsynctest.DelayedConversationID)), itoa(conv(account, bookingsynctest.BookingComConversationID)),
			itoa(conv(account, bookingsynctest.AirbnbConversationID)), itoa(conv(account, bookingsynctest.ClosedConversationID))}
		if !slices.Equal(got, wantIDs) {
			t.Errorf("account %d's inbox lists %v, want %v", account, got, wantIDs)
		}
		if !strings.Contains(inbox.body, "Emma Dubois") || !strings.Contains(inbox.body, "Ocean View Loft") || !strings.Contains(inbox.body, "Awaiting reply") {
			t.Errorf("the inbox lacks the guest, the rental or the awaiting mark:\n%s", inbox.body)
		}
		thread := b.get("/conversations/" + itoa(conv(account, bookingsynctest.AirbnbConversationID)))
		want(t, thread, http.StatusOK)
		if msgs := ids(thread.body, "data-message-id"); len(msgs) != 3 {
			t.Errorf("the thread shows messages %v, want the 3 seeded", msgs)
		}
		if !strings.Contains(thread.body, `<textarea id="content" name="content"`) {
			t.Errorf("no reply form:\n%s", thread.body)
		}
		if n := h.fake.RequestCount("", "") - before; n != 0 {
			t.Errorf("two page views cost the API %d requests", n)
		}
	}
}

// A session sees, changes and streams its own account only: every route
// named with the other account's ids answers 404, as a missing record.
func TestAnotherAccountsIDsAreNotFound(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	b := h.browser()
	b.signIn(2, "/")
	h.browser().signIn(1, "/")
	h.fill(1)
	h.fill(2)
	page := b.get("/")
	csrf := csrfOf(t, page.body)
	theirs := itoa(conv(1, bookingsynctest.AirbnbConversationID))
	if strings.Contains(page.body, `data-conversation-id="`+theirs+`"`) {
		t.Fatal("account 2's inbox shows account 1's conversation")
	}
	want(t, b.get("/conversations/"+theirs), http.StatusNotFound)
	want(t, b.get("/conversations/999999999"), http.StatusNotFound)
	want(t, b.get("/conversations/nope"), http.StatusNotFound)
	sent := h.fake.RequestCount("POST", "inbox/messages")
	want(t, b.post("/conversations/"+theirs+"/reply", url.Values{"csrf": {csrf}, "content": {"hello"}}), http.StatusNotFound)
	if h.fake.RequestCount("POST", "inbox/messages") != sent {
		t.Error("a reply to another account's conversation was sent")
	}
	// The stream's position moves with this account's copy only.
	ctx := context.Background()
	mine, err := h.srv.position(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	h.fake.AddMessage(bookingsynctest.MessageSeed{ConversationID: conv(1, bookingsynctest.AirbnbConversationID), Content: "for account 1"})
	h.fill(1)
	if again, _ := h.srv.position(ctx, 2); again != mine {
		t.Error("account 1's change moved account 2's event stream")
	}
	if theirPos, _ := h.srv.position(ctx, 1); theirPos == mine {
		t.Error("positions of two accounts' copies coincide")
	}
}

// Forms carry the session's CSRF token; a POST without it, or with
// another session's, is 403 and does nothing.
func TestFormsNeedTheSessionsCSRFToken(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	b, other := h.browser(), h.browser()
	b.signIn(1, "/")
	other.signIn(1, "/")
	h.fill(1)
	thread := "/conversations/" + itoa(bookingsynctest.AirbnbConversationID)
	mine := csrfOf(t, b.get(thread).body)
	theirs := csrfOf(t, other.get(thread).body)
	if mine == theirs {
		t.Fatal("two sessions share a CSRF token")
	}
	sent := h.fake.RequestCount("POST", "inbox/messages")
	for _, form := range []url.Values{{"content": {"hi"}}, {"content": {"hi"}, "csrf": {theirs}}, {"content": {"hi"}, "csrf": {""}}} {
		want(t, b.post(thread+"/reply", form), http.StatusForbidden)
		want(t, b.post("/logout", form), http.StatusForbidden)
	}
	// Not in the query either.
	want(t, b.post(thread+"/reply?csrf="+url.QueryEscape(mine), url.Values{"content": {"hi"}}), http.StatusForbidden)
	if h.fake.RequestCount("POST", "inbox/messages") != sent {
		t.Error("a forged reply was sent")
	}
	// Without a session no token can be right.
	want(t, h.browser().post(thread+"/reply", url.Values{"content": {"hi"}, "csrf": {mine}}), http.StatusForbidden)

	r := b.post("/logout", url.Values{"csrf": {mine}})
	want(t, r, http.StatusOK)
	want(t, b.get("/"), http.StatusSeeOther) // signed out: to /login
}

// A reply is sent as the account's host into the conversation.
func TestReplyReachesTheAPI(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	b := h.browser()
	b.signIn(2, "/")
	h.fill(2)
	thread := "/conversations/" + itoa(conv(2, bookingsynctest.BookingComConversationID))
	csrf := csrfOf(t, b.get(thread).body)
	r := b.post(thread+"/reply", url.Values{"csrf": {csrf}, "content": {"The wifi password is on the fridge."}})
	want(t, r, http.StatusSeeOther)
	if r.Header.Get("Location") != thread+"?sent=1" {
		t.Errorf("after a reply: %q", r.Header.Get("Location"))
	}
	var found bool
	for _, req := range h.fake.Accounts()[1].Requests() {
		if req.Method == "POST" && req.Path == "/api/v3/inbox/messages" && strings.Contains(string(req.Body), "on the fridge") {
			found = true
		}
	}
	if !found {
		t.Fatal("the reply did not reach account 2's API")
	}
	for _, form := range []url.Values{{"content": {"  "}}, {"content": {strings.Repeat("x", maxReply+1)}}, {"content": {"hi"}, "host_id": {"2"}}} {
		form.Set("csrf", csrf)
		want(t, b.post(thread+"/reply", form), http.StatusUnprocessableEntity)
	}
	// A body over the bound is refused before it is read whole.
	want(t, b.post(thread+"/reply", url.Values{"csrf": {csrf}, "content": {strings.Repeat("x", maxFormBody)}}), http.StatusRequestEntityTooLarge)
}

// A guest's message with HTML in it is shown as text.
func TestOutputIsEscaped(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	b := h.browser()
	b.signIn(1, "/")
	h.fake.AddMessage(bookingsynctest.MessageSeed{ConversationID: bookingsynctest.AirbnbConversationID,
		SenderID: bookingsynctest.AirbnbClientParticipantID, Content: `<script>alert("x")</script><img src=x onerror=alert(1)>`})
	h.fill(1)
	for _, path := range []string{"/", "/conversations/" + itoa(bookingsynctest.AirbnbConversationID)} {
		page := b.get(path)
		want(t, page, http.StatusOK)
		if strings.Contains(page.body, "<script>alert") || strings.Contains(page.body, "<img src=x") {
			t.Errorf("%s shows the guest's HTML as markup", path)
		}
		if !strings.Contains(page.body, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;") {
			t.Errorf("%s does not show the guest's HTML as text:\n%s", path, page.body)
		}
	}
}

// Every answer carries the security headers; the pages' script is a file.
func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	b := h.browser()
	b.signIn(1, "/")
	for _, path := range []string{"/", "/login", "/conversations/1", "/healthz", "/readyz", "/static/app.js", "/nowhere"} {
		r := b.get(path)
		csp := r.Header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("%s: CSP %q", path, csp)
		}
		if r.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: no nosniff", path)
		}
	}
	page := b.get("/")
	if strings.Contains(page.body, "<script>") || !strings.Contains(page.body, `<script src="/static/app.js" defer></script>`) {
		t.Errorf("the page's script is not the file alone:\n%s", page.body)
	}
}

// The sign-in state is bound to the browser, single-use and expiring,
// and /login's return path never leads off the site.
func TestSignInState(t *testing.T) {
	t.Parallel()
	h := newHarness(t)

	// A callback that this browser did not start.
	b := h.browser()
	r := b.get("/login")
	auth, _ := url.Parse(r.Header.Get("Location"))
	state := auth.Query().Get("state")
	want(t, h.browser().get("/oauth/callback?code=x&state="+url.QueryEscape(state)), http.StatusBadRequest)
	// The right browser with another state.
	want(t, b.get("/oauth/callback?code=x&state=other"), http.StatusBadRequest)

	// A callback replayed: refused the second time, even with the cookie.
	b = h.browser()
	r = b.get("/login")
	want(t, r, http.StatusFound)
	loc := r.Header.Get("Location")
	b.get(loc) // the fake's sign-in page
	cb := b.get(loc + "&account_id=1").Header.Get("Location")
	signInCookie := b.hc.Jar.Cookies(mustURL(h.url + "/oauth/callback"))
	want(t, b.get(cb), http.StatusSeeOther)
	replay := h.browser()
	replay.hc.Jar.SetCookies(mustURL(h.url+"/oauth/callback"), signInCookie)
	want(t, replay.get(cb), http.StatusBadRequest)

	// An expired one.
	b = h.browser()
	r = b.get("/login")
	loc = r.Header.Get("Location")
	cb = b.get(loc + "&account_id=1").Header.Get("Location")
	h.srv.now = func() time.Time { return time.Now().Add(signInTTL + time.Second) }
	want(t, b.get(cb), http.StatusBadRequest)
	h.srv.now = time.Now

	// Return paths.
	for ret, to := range map[string]string{
		"/conversations/12?x=1": "/conversations/12?x=1",
		"//evil.example/":       "/",
		`/\evil.example/`:       "/",
		"https://evil.example/": "/",
		"javascript:alert(1)":   "/",
		"/%0d%0aSet-Cookie:x=1": "/%0d%0aSet-Cookie:x=1",
	} {
		r := h.browser().signIn(1, ret)
		want(t, r, http.StatusSeeOther)
		if got := r.Header.Get("Location"); got != to {
			t.Errorf("return %q led to %q, want %q", ret, got, to)
		}
	}
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

// The session cookie is HttpOnly and SameSite=Lax; Secure (and
// __Host-) when the public URL is https.
func TestSessionCookie(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	r := h.browser().signIn(1, "/")
	var c *http.Cookie
	for _, ck := range r.Cookies() {
		if ck.Name == "bs_session" {
			c = ck
		}
	}
	if c == nil || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Secure {
		t.Fatalf("session cookie %+v", c)
	}
	if strings.Contains(r.body, c.Value) {
		t.Error("the session's value is in a page")
	}
	// A tampered cookie is no session.
	b := h.browser()
	b.hc.Jar.SetCookies(mustURL(h.url), []*http.Cookie{{Name: "bs_session", Value: strings.Replace(c.Value, "eyJhIjox", "eyJhIjoy", 1)}})
	want(t, b.get("/"), http.StatusSeeOther)

	https := &Server{secure: true, cfg: Config{SessionTTL: time.Hour}, now: time.Now, sessions: newSigner("k", "session")}
	rec := httptest.NewRecorder()
	https.startSession(rec, 1)
	sc := rec.Result().Cookies()[0]
	if sc.Name != "__Host-bs_session" || !sc.Secure || sc.Path != "/" || !sc.HttpOnly {
		t.Errorf("https session cookie %+v", sc)
	}
}

// Check refuses, in one line naming the setting, what cannot run safely.
func TestConfigCheck(t *testing.T) {
	t.Parallel()
	good := Config{DB: "sqlite:x.db", ClientID: "id", ClientSecret: "secret", SessionKey: randomKey()}
	if err := good.Check(); err != nil {
		t.Fatalf("good config: %v", err)
	}
	for name, c := range map[string]func(*Config){
		"BOOKINGSYNC_CLIENT_ID":                func(c *Config) { c.ClientID = "" },
		"BOOKINGSYNC_CLIENT_SECRET":            func(c *Config) { c.ClientSecret = "" },
		"BOOKINGSYNC_SESSION_KEY is not set":   func(c *Config) { c.SessionKey = "" },
		"BOOKINGSYNC_SESSION_KEY is too weak":  func(c *Config) { c.SessionKey = "short-but-random-9f8a" },
		"BOOKINGSYNC_SESSION_KEY is too weak ": func(c *Config) { c.SessionKey = "passwordpasswordpasswordpassword" },
		" BOOKINGSYNC_SESSION_KEY is too weak": func(c *Config) { c.SessionKey = strings.Repeat("0123456789abcdef", 4) },
		"BOOKINGSYNC_SEAL_KEY":                 func(c *Config) { c.SealKey = "abcd" },
		"--public-url":                         func(c *Config) { c.PublicURL = "ftp://x" },
		"BOOKINGSYNC_BASE_URL":                 func(c *Config) { c.BaseURL = "nope" },
	} {
		cfg := good
		c(&cfg)
		err := cfg.Check()
		if err == nil || !strings.Contains(err.Error(), strings.TrimSpace(name)) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: %v", name, err)
		}
		if err != nil && cfg.SessionKey != "" && strings.Contains(err.Error(), cfg.SessionKey) {
			t.Errorf("%s: the error shows the key", name)
		}
	}
}

// /readyz is 503 until the fleet beats, and says why.
func TestReadyz(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	r := h.browser().get("/readyz")
	want(t, r, http.StatusServiceUnavailable)
	if !strings.Contains(r.body, "heartbeat") {
		t.Errorf("readyz: %s", r.body)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.srv.fleet.Run(ctx) }()
	defer func() { cancel(); <-done }()
	deadline := time.Now().Add(10 * time.Second)
	for r = h.browser().get("/readyz"); r.StatusCode != http.StatusOK; r = h.browser().get("/readyz") {
		if time.Now().After(deadline) {
			t.Fatalf("readyz: %d %s", r.StatusCode, r.body)
		}
		time.Sleep(20 * time.Millisecond)
	}
	want(t, h.browser().get("/healthz"), http.StatusOK)
}
