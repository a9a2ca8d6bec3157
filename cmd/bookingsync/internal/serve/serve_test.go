package serve

import (
	"context"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-bookingsync/bookingsync/bookingsynctest"
	"github.com/go-bookingsync/bookingsync/inboxsync"
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
	want(t, b.post("/conversations/"+theirs+"/reply", url.Values{"csrf": {csrf}, "key": {randomKey()}, "content": {"hello"}}), http.StatusNotFound)
	if items, _ := h.st.OutboxItems(context.Background(), 2, 0); len(items) != 0 {
		t.Error("a reply to another account's conversation was queued")
	}
	// The event stream tells account 2 of its own changes only: account
	// 1's change, committed first, never comes before account 2's.
	stream := b.events(t, "")
	h.fake.AddMessage(bookingsynctest.MessageSeed{ConversationID: conv(1, bookingsynctest.AirbnbConversationID),
		SenderID: bookingsynctest.AirbnbClientParticipantID, Content: "for account 1"})
	h.fill(1)
	mine := h.fake.Accounts()[1].AddMessage(bookingsynctest.MessageSeed{ConversationID: conv(2, bookingsynctest.AirbnbConversationID),
		SenderID: conv(2, bookingsynctest.AirbnbClientParticipantID), Content: "for account 2"})
	h.fill(2)
	seq := stream.until(t, "messages", mine)
	for _, e := range stream.seen {
		if e.Resource != "applications" && e.ID < space {
			t.Errorf("account 2's stream told of account 1's %s %d", e.Resource, e.ID)
		}
	}
	// Resuming from before that change tells it again, at once.
	again := b.events(t, strconv.FormatInt(seq-1, 10))
	if got := again.next(t); got.Seq != seq {
		t.Errorf("resumed after %d, the stream began at %d", seq-1, got.Seq)
	}
	// Signed out, no stream.
	want(t, h.browser().get("/events"), http.StatusUnauthorized)
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
	key := formKey(t, b.get(thread).body)
	for _, form := range []url.Values{{"content": {"hi"}, "key": {key}}, {"content": {"hi"}, "key": {key}, "csrf": {theirs}}, {"content": {"hi"}, "key": {key}, "csrf": {""}}} {
		want(t, b.post(thread+"/reply", form), http.StatusForbidden)
		want(t, b.post("/logout", form), http.StatusForbidden)
	}
	// Not in the query either.
	want(t, b.post(thread+"/reply?csrf="+url.QueryEscape(mine), url.Values{"content": {"hi"}, "key": {key}}), http.StatusForbidden)
	if items, _ := h.st.OutboxItems(context.Background(), 1, 0); len(items) != 0 {
		t.Error("a forged reply was queued")
	}
	// Without a session no token can be right.
	want(t, h.browser().post(thread+"/reply", url.Values{"content": {"hi"}, "csrf": {mine}}), http.StatusForbidden)

	r := b.post("/logout", url.Values{"csrf": {mine}})
	want(t, r, http.StatusOK)
	want(t, b.get("/"), http.StatusSeeOther) // signed out: to /login
}

// A reply is queued in the outbox (once, however often the form is
// submitted), shown with its state until it is sent or failed (with the
// reason), and sent by the account's syncer.
func TestReplyGoesThroughTheOutbox(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	b := h.browser()
	b.signIn(2, "/")
	h.fill(2)
	ctx := context.Background()
	thread := "/conversations/" + itoa(conv(2, bookingsynctest.BookingComConversationID))
	page := b.get(thread).body
	csrf, key := csrfOf(t, page), formKey(t, page)
	form := url.Values{"csrf": {csrf}, "key": {key}, "content": {"The wifi password is on the fridge."}}
	r := b.post(thread+"/reply", form)
	want(t, r, http.StatusSeeOther)
	if r.Header.Get("Location") != thread+"?reply="+key {
		t.Errorf("after a reply: %q", r.Header.Get("Location"))
	}
	want(t, b.post(thread+"/reply", form), http.StatusSeeOther) // a double submit
	items, err := h.st.OutboxItems(ctx, 2, conv(2, bookingsynctest.BookingComConversationID))
	if err != nil || len(items) != 1 || items[0].State != inboxsync.OutboxQueued || items[0].HostID != conv(2, bookingsynctest.HostJanID) {
		t.Fatalf("outbox after two submits: %+v, %v", items, err)
	}
	if sent := h.fake.RequestCount("POST", "inbox/messages"); sent != 0 {
		t.Fatalf("the reply was sent before the syncer ran (%d)", sent)
	}
	shown := b.get(thread + "?reply=" + key).body
	if !strings.Contains(shown, `data-outbox-key="`+key+`" data-state="queued"`) {
		t.Errorf("the thread does not show the queued reply:\n%s", shown)
	}

	if n, err := h.syncer(2).Deliver(ctx); n != 1 || err != nil {
		t.Fatalf("Deliver: %d, %v", n, err)
	}
	if h.fake.Accounts()[1].RequestCount("POST", "inbox/messages") != 1 {
		t.Fatal("the reply did not reach account 2's API once")
	}
	if shown := b.get(thread + "?reply=" + key).body; !strings.Contains(shown, `data-state="sent"`) {
		t.Errorf("the thread does not show the reply sent:\n%s", shown)
	}
	h.fill(2) // the message comes back into the copy: the thread shows it, not the outbox item
	shown = b.get(thread).body
	if strings.Contains(shown, "data-outbox-key") || !strings.Contains(shown, "on the fridge") {
		t.Errorf("after the sync the thread shows:\n%s", shown)
	}

	// A reply the API refuses ends failed, with the reason shown.
	gone := conv(2, bookingsynctest.AirbnbConversationID)
	page = b.get("/conversations/" + itoa(gone)).body
	key = formKey(t, page)
	want(t, b.post("/conversations/"+itoa(gone)+"/reply", url.Values{"csrf": {csrf}, "key": {key}, "content": {"hello"}}), http.StatusSeeOther)
	h.fake.Accounts()[1].Delete("conversations", gone)
	_, _ = h.syncer(2).Deliver(ctx)
	failed := b.get("/conversations/" + itoa(gone) + "?reply=" + key).body
	if !strings.Contains(failed, `data-state="failed"`) || !strings.Contains(failed, "Not sent: ") {
		t.Errorf("the failed reply is not shown with its reason:\n%s", failed)
	}

	for _, bad := range []url.Values{{"content": {"  "}}, {"content": {strings.Repeat("x", maxReply+1)}}, {"content": {"hi"}, "host_id": {"2"}}, {"content": {"hi"}, "key": {"short"}}} {
		bad.Set("csrf", csrf)
		if !bad.Has("key") {
			bad.Set("key", formKey(t, page))
		}
		want(t, b.post(thread+"/reply", bad), http.StatusUnprocessableEntity)
	}
	// A body over the bound is refused before it is read whole.
	want(t, b.post(thread+"/reply", url.Values{"csrf": {csrf}, "content": {strings.Repeat("x", maxFormBody)}}), http.StatusRequestEntityTooLarge)
}

// The inbox filters, searches and pages (keyset) from the copy.
func TestInboxFiltersSearchAndPages(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	b := h.browser()
	b.signIn(1, "/")
	h.fill(1)
	for query, wantIDs := range map[string][]int64{
		"q=wifi":          {bookingsynctest.BookingComConversationID},
		"status=closed":   {bookingsynctest.ClosedConversationID},
		"awaiting=1":      {bookingsynctest.DelayedConversationID, bookingsynctest.BookingComConversationID, bookingsynctest.AirbnbConversationID},
		"channel=airbnb":  {bookingsynctest.AirbnbConversationID},
		"q=nothing+alike": nil,
	} {
		page := b.get("/?" + query)
		want(t, page, http.StatusOK)
		var wantS []string
		for _, id := range wantIDs {
			wantS = append(wantS, itoa(id))
		}
		if got := ids(page.body, "data-conversation-id"); !slices.Equal(got, wantS) {
			t.Errorf("/?%s lists %v, want %v", query, got, wantS)
		}
	}
	want(t, b.get("/?before=garbage"), http.StatusBadRequest)

	h.fake.GenerateInbox(60, 60)
	h.fill(1)
	seen := map[string]bool{}
	pages := 0
	for next := "/"; next != ""; pages++ {
		page := b.get(next)
		want(t, page, http.StatusOK)
		for _, id := range ids(page.body, "data-conversation-id") {
			if seen[id] {
				t.Fatalf("conversation %s on two pages", id)
			}
			seen[id] = true
		}
		next = ""
		if m := regexp.MustCompile(`<a rel="next" href="([^"]+)"`).FindStringSubmatch(page.body); m != nil {
			next = html.UnescapeString(m[1])
		}
	}
	if pages != 2 || len(seen) != 64 {
		t.Errorf("%d pages, %d conversations; want 2 pages of all 64", pages, len(seen))
	}
}

// /metrics has the design's series, with bounded labels.
func TestMetrics(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.browser().signIn(1, "/")
	h.fill(1)
	r := h.browser().get("/metrics")
	want(t, r, http.StatusOK)
	for _, line := range []string{
		`bookingsync_api_requests_total{code="200",method="GET",route="/inbox/conversations"} `,
		`bookingsync_api_request_duration_seconds_bucket{method="GET",route="/inbox/messages",le="+Inf"} `,
		`inboxsync_sync_passes_total{result="ok"} 1`,
		`inboxsync_records_applied_total{resource="messages"} `,
		"# TYPE bookingsync_api_request_duration_seconds histogram",
	} {
		if !strings.Contains(r.body, line) {
			t.Errorf("/metrics lacks %q:\n%s", line, r.body)
		}
	}
	noBuckets := regexp.MustCompile(`,?le="[^"]*"`).ReplaceAllString(r.body, "")
	if m := regexp.MustCompile(`\{[^}]*\d{5,}[^}]*\}`).FindString(noBuckets); m != "" {
		t.Errorf("a label holds an id: %s", m)
	}
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
		time.Sleep(20 * time.Millisecond) // a poll: readiness (the store, the first pass) announces itself only at /readyz
	}
	want(t, h.browser().get("/healthz"), http.StatusOK)
}
