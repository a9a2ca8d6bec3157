package bookingsynctest

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

func tokenRequest(t *testing.T, s *Server, form url.Values) (int, map[string]any) {
	t.Helper()
	resp, err := http.PostForm(s.URL+"/oauth/token", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, body
}

// authorizeQuery asks /oauth/authorize with q and returns the answer,
// redirects not followed, its body read.
func authorizeQuery(t *testing.T, s *Server, q url.Values) (*http.Response, string) {
	t.Helper()
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Get(s.URL + "/oauth/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(body)
}

// callback returns the query of the redirect an approving authorize
// answers.
func callback(t *testing.T, resp *http.Response) url.Values {
	t.Helper()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("authorize: %d", resp.StatusCode)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || !strings.HasPrefix(loc.String(), DefaultRedirectURI+"?") {
		t.Fatalf("authorize redirected to %q", resp.Header.Get("Location"))
	}
	return loc.Query()
}

func authorizeParams(scope, state string) url.Values {
	return url.Values{"client_id": {DefaultClientID}, "redirect_uri": {DefaultRedirectURI}, "response_type": {"code"},
		"scope": {scope}, "state": {state}}
}

func authorize(t *testing.T, s *Server, scope, state string) url.Values {
	t.Helper()
	q := authorizeParams(scope, state)
	q.Set("account_id", "1")
	resp, _ := authorizeQuery(t, s, q)
	return callback(t, resp)
}

// exchangeCode trades an authorization code for an access token.
func exchangeCode(t *testing.T, s *Server, code string) string {
	t.Helper()
	st, tok := tokenRequest(t, s, url.Values{"grant_type": {"authorization_code"}, "client_id": {DefaultClientID},
		"client_secret": {DefaultClientSecret}, "code": {code}, "redirect_uri": {DefaultRedirectURI}})
	if st != 200 {
		t.Fatalf("exchange: %d %v", st, tok)
	}
	return tok["access_token"].(string)
}

// meAccount returns the account GET /me says token acts for.
func meAccount(t *testing.T, s *Server, token string) int64 {
	t.Helper()
	r := call(t, s, "GET", "me", token, nil)
	expectStatus(t, r, 200)
	return int64(r.objects(t, "accounts_applications")[0]["links"].(map[string]any)["account"].(float64))
}

var (
	hiddenField = regexp.MustCompile(`<input type="hidden" name="([^"]*)" value="([^"]*)">`)
	accountBtn  = regexp.MustCompile(`<button type="submit" name="account_id" value="(\d+)">`)
)

// With several accounts, /oauth/authorize lets a person pick one: a form
// that asks again with the same parameters and account_id, one button per
// account, everything escaped. One account, or account_id given, approves
// at once.
func TestSignInPage(t *testing.T) {
	t.Parallel()
	s := NewServer(WithAccounts(2))
	defer s.Close()
	state := `"><script>alert(1)</script>`
	q := authorizeParams("inbox_read", state)
	resp, page := authorizeQuery(t, s, q)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("sign-in page: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if strings.Contains(page, "<script>") {
		t.Errorf("state not escaped: %s", page)
	}
	var ids []string
	for _, m := range accountBtn.FindAllStringSubmatch(page, -1) {
		ids = append(ids, m[1])
	}
	if strings.Join(ids, ",") != "1,2" {
		t.Fatalf("account buttons %v in %s", ids, page)
	}
	form := url.Values{}
	for _, m := range hiddenField.FindAllStringSubmatch(page, -1) {
		form.Add(html.UnescapeString(m[1]), html.UnescapeString(m[2]))
	}
	if form.Encode() != q.Encode() {
		t.Fatalf("hidden fields %v, want %v", form, q)
	}
	// Pressing account 2's button.
	form.Set("account_id", "2")
	resp, _ = authorizeQuery(t, s, form)
	cb := callback(t, resp)
	if cb.Get("state") != state {
		t.Errorf("state %q", cb.Get("state"))
	}
	if got := meAccount(t, s, exchangeCode(t, s, cb.Get("code"))); got != 2 {
		t.Errorf("signed in as account %d, want 2", got)
	}

	one := NewServer()
	defer one.Close()
	resp, _ = authorizeQuery(t, one, authorizeParams("inbox_read", "s"))
	if got := meAccount(t, one, exchangeCode(t, one, callback(t, resp).Get("code"))); got != AccountID {
		t.Errorf("one account: signed in as %d", got)
	}
}

func TestOAuthFlows(t *testing.T) {
	clk := newClock()
	s := NewServer(WithClock(clk.Now))
	defer s.Close()
	cb := authorize(t, s, "inbox_read inbox_write", "xyz")
	if cb.Get("state") != "xyz" || cb.Get("code") == "" {
		t.Fatalf("callback %v", cb)
	}
	exchange := url.Values{"grant_type": {"authorization_code"}, "client_id": {DefaultClientID}, "client_secret": {DefaultClientSecret},
		"code": {cb.Get("code")}, "redirect_uri": {DefaultRedirectURI}}
	st, tok := tokenRequest(t, s, exchange)
	if st != 200 || tok["expires_in"] != float64(7200) || tok["refresh_token"] == nil || !strings.EqualFold(tok["token_type"].(string), "bearer") {
		t.Fatalf("exchange: %d %v", st, tok)
	}
	access := tok["access_token"].(string)
	expectStatus(t, call(t, s, "GET", "inbox/conversations", access, nil), 200)
	expectStatus(t, call(t, s, "GET", "applications", access, nil), 403)
	// The code is single-use.
	if st, body := tokenRequest(t, s, exchange); st != 401 || body["error"] != "invalid_grant" {
		t.Errorf("code reuse: %d %v", st, body)
	}
	// Rotation: each refresh gives a new refresh token; the old one is dead.
	refresh := func(rt string) (int, map[string]any) {
		return tokenRequest(t, s, url.Values{"grant_type": {"refresh_token"}, "client_id": {DefaultClientID},
			"client_secret": {DefaultClientSecret}, "refresh_token": {rt}, "redirect_uri": {DefaultRedirectURI}})
	}
	old := tok["refresh_token"].(string)
	st, tok2 := refresh(old)
	if st != 200 || tok2["refresh_token"] == old || tok2["refresh_token"] == nil {
		t.Fatalf("refresh: %d %v", st, tok2)
	}
	if st, body := refresh(old); st != 401 || body["error"] != "invalid_grant" {
		t.Errorf("old refresh token: %d %v", st, body)
	}
	expectStatus(t, call(t, s, "GET", "inbox/conversations", access, nil), 401)
	expectStatus(t, call(t, s, "GET", "inbox/conversations", tok2["access_token"].(string), nil), 200)
	if s.RefreshCount() != 1 {
		t.Errorf("RefreshCount %d", s.RefreshCount())
	}
	// Expiry by the server clock.
	clk.Add(2 * time.Hour)
	expectStatus(t, call(t, s, "GET", "inbox/conversations", tok2["access_token"].(string), nil), 401)
	if st, _ := refresh(tok2["refresh_token"].(string)); st != 200 {
		t.Errorf("refresh after expiry: %d", st)
	}

	// Wrong secret, wrong redirect.
	if st, body := tokenRequest(t, s, url.Values{"grant_type": {"client_credentials"}, "client_id": {DefaultClientID}, "client_secret": {"nope"}}); st != 401 || body["error"] != "invalid_client" {
		t.Errorf("bad secret: %d %v", st, body)
	}
	cb = authorize(t, s, "inbox_read", "")
	ex := url.Values{"grant_type": {"authorization_code"}, "client_id": {DefaultClientID}, "client_secret": {DefaultClientSecret},
		"code": {cb.Get("code")}, "redirect_uri": {"http://127.0.0.1/elsewhere"}}
	if st, _ := tokenRequest(t, s, ex); st != 401 {
		t.Errorf("redirect mismatch: %d", st)
	}
	if cb := authorize(t, s, "inbox_read nonsense", "s"); cb.Get("error") != "invalid_scope" || cb.Get("code") != "" {
		t.Errorf("bad scope callback %v", cb)
	}

	// Client credentials: public only, no refresh token, 403 on applications.
	st, cc := tokenRequest(t, s, url.Values{"grant_type": {"client_credentials"}, "client_id": {DefaultClientID}, "client_secret": {DefaultClientSecret}})
	if st != 200 || cc["refresh_token"] != nil || cc["scope"] != "public" {
		t.Fatalf("client credentials: %d %v", st, cc)
	}
	expectStatus(t, call(t, s, "GET", "applications", cc["access_token"].(string), nil), 403)
	expectStatus(t, call(t, s, "GET", "inbox/conversations", cc["access_token"].(string), nil), 403)
	if st, _ := tokenRequest(t, s, url.Values{"grant_type": {"client_credentials"}, "client_id": {DefaultClientID},
		"client_secret": {DefaultClientSecret}, "scope": {"inbox_read"}}); st != 401 {
		t.Errorf("client credentials with inbox_read: %d", st)
	}
	// Secrets never reach the request log.
	for _, r := range s.Requests() {
		if strings.Contains(string(r.Body), DefaultClientSecret) || strings.Contains(string(r.Body), old) {
			t.Errorf("secret logged: %s", r.Body)
		}
	}
}

// rubyEncode64 is written independently of the server's encoder.
func rubyEncode64(b []byte) string {
	s := base64.StdEncoding.EncodeToString(b)
	out := ""
	for i := 0; i < len(s); i += 60 {
		out += s[i:min(i+60, len(s))] + "\n"
	}
	return out
}

func TestWebhookSignature(t *testing.T) {
	// Known answer computed outside Go (Python: base64 wrapped at 60
	// columns with a final newline, HMAC-SHA1).
	body := []byte(`{"account_id":1,"event":"inbox_message_created","resource":{"message":{"id":5,"content":"Hello there, this is long enough to wrap"}}}`)
	const want = "bcd3a4ae65e545505847c37c642ed285c72f1d85"
	if got := SignWebhook(body, DefaultClientSecret); got != want {
		t.Fatalf("SignWebhook = %s, want %s", got, want)
	}
	if !strings.Contains(rubyEncode64(body), "\n") || strings.Count(rubyEncode64(body), "\n") != 3 {
		t.Fatalf("wrapping %q", rubyEncode64(body))
	}

	for _, secret := range []string{"", "hook-secret"} {
		opts := []Option{}
		key := DefaultClientSecret
		if secret != "" {
			opts, key = append(opts, WithWebhookSecret(secret)), secret
		}
		s := NewServer(opts...)
		got := make(chan *http.Request, 1)
		var gotBody []byte
		hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			gotBody, _ = io.ReadAll(r.Body)
			got <- r
		}))
		if err := s.SendWebhook(context.Background(), hook.URL, "inbox_conversation_created", s.ConversationResource(11)); err != nil {
			t.Fatal(err)
		}
		r := <-got
		m := hmac.New(sha1.New, []byte(key))
		m.Write([]byte(rubyEncode64(gotBody)))
		if sig := r.Header.Get("X-Content-Signature"); sig != hex.EncodeToString(m.Sum(nil)) {
			t.Errorf("signature %s", sig)
		}
		if r.Header.Get("User-Agent") != "BookingSync Webhook Delivery" || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("headers %v", r.Header)
		}
		var ev struct {
			AccountID int64                      `json:"account_id"`
			Event     string                     `json:"event"`
			Resource  map[string]json.RawMessage `json:"resource"`
		}
		if err := json.Unmarshal(gotBody, &ev); err != nil || ev.AccountID != 1 || ev.Event != "inbox_conversation_created" || ev.Resource["conversation"] == nil || ev.Resource["links"] == nil {
			t.Errorf("event %s (%v)", gotBody, err)
		}
		hook.Close()
		s.Close()
	}

	s := NewServer()
	defer s.Close()
	fail := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(500) }))
	defer fail.Close()
	if err := s.SendWebhook(context.Background(), fail.URL, "booking_updated", s.BookingResource(80)); err == nil {
		t.Error("500 answer was not an error")
	}
	if s.MessageResource(9999) != nil {
		t.Error("resource for an unknown id")
	}
}
