package bookingsynctest

import (
	"bytes"
	"crypto/subtle"
	"html/template"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// TokenLifetime is how long an access token issued by the fake lives by
// default, by the server's clock (7200 s, as the real API); see
// WithTokenLifetime.
const TokenLifetime = 7200 * time.Second

// KnownScopes lists every scope the real API defines.
var KnownScopes = []string{"public", "applications_read", "bookings_read", "bookings_write",
	"bookings_write_owned", "clients_read", "clients_write", "inbox_read", "inbox_write",
	"inquiries_read", "inquiries_write", "inquiries_write_owned", "payments_read", "payments_write",
	"payments_write_owned", "rates_read", "rates_write", "rentals_read", "rentals_write", "reviews_read",
	"reviews_write", "webhooks_read", "webhooks_write", "webhooks_write_owned",
	"preferences_general_settings_read", "preferences_general_settings_write",
	"preferences_payments_read", "preferences_payments_write"}

// The scope sets the resources' kinds use.
var (
	inboxRead  = []string{"inbox_read", "inbox_write"}
	inboxWrite = []string{"inbox_write"}
)

type accessToken struct {
	acct    *Account // nil for a client-credentials token
	scopes  map[string]bool
	expires int64 // unix seconds; 0: never (the static token)
	revoked bool
}

// expiresAt returns the token's expiry (zero: never).
func (t *accessToken) expiresAt() time.Time {
	if t.expires == 0 {
		return time.Time{}
	}
	return time.Unix(t.expires, 0)
}

// any reports whether the token has one of scopes.
func (t *accessToken) any(scopes []string) bool {
	for _, sc := range scopes {
		if t.scopes[sc] {
			return true
		}
	}
	return false
}

type refreshGrant struct {
	acct   *Account
	access string
	scopes []string
}

type codeGrant struct {
	acct     *Account
	redirect string
	scopes   []string
	expires  int64
}

func scopeSet(l []string) map[string]bool {
	m := map[string]bool{}
	for _, s := range l {
		m[s] = true
	}
	return m
}

// authenticate returns the request's valid token and its account (nil for
// client credentials), or nil.
func (s *Server) authenticate(r *http.Request, now time.Time) (*accessToken, *Account) {
	a := r.Header.Get("Authorization")
	if len(a) < 7 || !strings.EqualFold(a[:7], "bearer ") {
		return nil, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tokens[strings.TrimSpace(a[7:])]
	if t == nil || t.revoked || (t.expires != 0 && now.Unix() >= t.expires) {
		return nil, nil
	}
	return t, t.acct
}

// issue creates an access token for a (nil: client credentials) and a
// refresh token when asked; s.mu held.
func (s *Server) issue(a *Account, scopes []string, refresh bool) (access, rt string, expiresIn int64) {
	access = randomToken()
	s.tokens[access] = &accessToken{acct: a, scopes: scopeSet(scopes), expires: s.now().Add(s.cfg.tokenTTL).Unix()}
	if refresh {
		rt = randomToken()
		s.refreshes[rt] = &refreshGrant{acct: a, access: access, scopes: scopes}
	}
	return access, rt, int64(s.cfg.tokenTTL / time.Second)
}

// IssueToken returns a new access token for the account with the given
// scopes ("public" is always added), living WithTokenLifetime by the
// server's clock.
func (a *Account) IssueToken(scopes ...string) string {
	a.s.mu.Lock()
	defer a.s.mu.Unlock()
	t, _, _ := a.s.issue(a, withPublic(scopes), false)
	return t
}

// IssueTokenPair is IssueToken with a refresh token, as the authorization
// code flow would give.
func (a *Account) IssueTokenPair(scopes ...string) (access, refresh string) {
	a.s.mu.Lock()
	defer a.s.mu.Unlock()
	t, r, _ := a.s.issue(a, withPublic(scopes), true)
	return t, r
}

// IssueClientCredentialsToken returns a token as the client_credentials
// grant gives: public scope, every installed account, no refresh token.
func (s *Server) IssueClientCredentialsToken() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, _, _ := s.issue(nil, []string{"public"}, false)
	return t
}

// ExpireTokens makes every token issued so far (not the static one) expired.
func (s *Server) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.tokens {
		if t.expires != 0 {
			t.expires = 1
		}
	}
}

// RevokeToken makes an access token invalid (the static one included).
func (s *Server) RevokeToken(access string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t := s.tokens[access]; t != nil {
		t.revoked = true
	}
}

func withPublic(scopes []string) []string {
	if slices.Contains(scopes, "public") {
		return scopes
	}
	return append([]string{"public"}, scopes...)
}

func oauthError(w http.ResponseWriter, code, desc string) {
	w.Header().Set("Cache-Control", "no-store")
	// The API answers OAuth failures with 401 (RFC 6749 would use 400 for some).
	writeJSON(w, http.StatusUnauthorized, ctJSON, map[string]any{"error": code, "error_description": desc})
}

const invalidGrant = "The provided authorization grant is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client."

// serveAuthorize approves as the account's user: it redirects to the
// redirect_uri with a single-use code (valid 10 minutes) and the state.
// account_id picks the account and approves at once; without it, a server
// of one account approves as it, and a server of several answers the
// sign-in page (signInPage), where a person picks the account. An
// unknown account_id means the default account; an uninstalled one is
// installed again when the code is exchanged.
func (s *Server) serveAuthorize(c *apiReq) {
	w, r := c.w, c.r
	q := r.URL.Query()
	if q.Get("client_id") != s.cfg.clientID {
		oauthError(w, "invalid_client", "Client authentication failed due to unknown client.")
		return
	}
	if q.Get("redirect_uri") != s.cfg.redirectURI {
		oauthError(w, "invalid_redirect_uri", "The requested redirect uri is malformed or doesn't match client redirect URI.")
		return
	}
	target, _ := url.Parse(s.cfg.redirectURI)
	rq := target.Query()
	if st := q.Get("state"); st != "" {
		rq.Set("state", st)
	}
	scopes := strings.Fields(q.Get("scope"))
	acct := s.Account
	accounts := s.Accounts()
	if v := q.Get("account_id"); v != "" {
		id, _ := strconv.ParseInt(v, 10, 64)
		s.mu.Lock()
		if a := s.account(id); a != nil {
			acct = a
		}
		s.mu.Unlock()
	}
	switch {
	case q.Get("response_type") != "code":
		rq.Set("error", "unsupported_response_type")
	case slices.ContainsFunc(scopes, func(sc string) bool { return !slices.Contains(KnownScopes, sc) }):
		rq.Set("error", "invalid_scope")
	case !q.Has("account_id") && len(accounts) > 1:
		s.signInPage(w, q, accounts)
		return
	default:
		code := randomToken()
		s.mu.Lock()
		s.codes[code] = &codeGrant{acct: acct, redirect: s.cfg.redirectURI, scopes: withPublic(scopes), expires: s.now().Add(10 * time.Minute).Unix()}
		s.mu.Unlock()
		rq.Set("code", code)
	}
	target.RawQuery = rq.Encode()
	http.Redirect(w, r, target.String(), http.StatusFound)
}

// signInTmpl is the sign-in page: the request's parameters as hidden
// fields and one approving button per account, so that submitting the
// form asks /oauth/authorize again with account_id set.
var signInTmpl = template.Must(template.New("signin").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in to BookingSync (fake)</title></head>
<body><main>
<h1>Authorize {{.Client}}</h1>
<p>Pick the account to sign in with; the application gets access to it.</p>
<form method="get" action="/oauth/authorize">
{{range .Params}}<input type="hidden" name="{{.Name}}" value="{{.Value}}">
{{end}}<ul>
{{range .Accounts}}<li><button type="submit" name="account_id" value="{{.ID}}">{{.Name}} · id {{.ID}}</button></li>
{{end}}</ul>
</form>
</main></body></html>
`))

// signInPage answers the page where a person picks one of several
// accounts and approves (the real site asks its user to sign in and
// approve; the fake lets the tester be any of its accounts).
func (s *Server) signInPage(w http.ResponseWriter, q url.Values, accounts []*Account) {
	type param struct{ Name, Value string }
	type choice struct {
		ID   int64
		Name string
	}
	data := struct {
		Client   string
		Params   []param
		Accounts []choice
	}{Client: s.cfg.clientID}
	for _, k := range slices.Sorted(maps.Keys(q)) {
		for _, v := range q[k] {
			data.Params = append(data.Params, param{k, v})
		}
	}
	s.mu.Lock()
	for _, a := range accounts {
		data.Accounts = append(data.Accounts, choice{a.id, a.rec.name})
	}
	s.mu.Unlock()
	var b bytes.Buffer
	if err := signInTmpl.Execute(&b, data); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b.Bytes())
}

// serveToken is the token endpoint: authorization_code, refresh_token
// (rotating: every refresh revokes the old refresh token and its access
// token; a spent refresh token is invalid_grant) and client_credentials
// (public scope only, no refresh token). Client credentials may come in
// the form body or as HTTP Basic.
func (s *Server) serveToken(c *apiReq) {
	w, r := c.w, c.r
	form, err := url.ParseQuery(string(c.body))
	if err != nil {
		oauthError(w, "invalid_request", "The request is malformed.")
		return
	}
	id, secret, basic := r.BasicAuth()
	if !basic {
		id, secret = form.Get("client_id"), form.Get("client_secret")
	}
	if id != s.cfg.clientID || subtle.ConstantTimeCompare([]byte(secret), []byte(s.cfg.clientSecret)) != 1 {
		oauthError(w, "invalid_client", "Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method.")
		return
	}
	now := s.now()
	s.mu.Lock()
	var scopes []string
	var acct *Account
	refresh := true
	switch form.Get("grant_type") {
	case "authorization_code":
		g := s.codes[form.Get("code")]
		if g == nil || now.Unix() >= g.expires || form.Get("redirect_uri") != g.redirect {
			s.mu.Unlock()
			oauthError(w, "invalid_grant", invalidGrant)
			return
		}
		delete(s.codes, form.Get("code"))
		scopes, acct = g.scopes, g.acct
		if _, ok := s.shared.accts.get(acct.id); !ok {
			acct.rec.updated = now.Unix()
			s.shared.accts.add(acct.rec) // installed again
		}
	case "refresh_token":
		rt := form.Get("refresh_token")
		g := s.refreshes[rt]
		if g == nil {
			if a := s.spent[rt]; a != nil {
				a.spentRefreshes.Add(1)
			}
			s.mu.Unlock()
			oauthError(w, "invalid_grant", invalidGrant)
			return
		}
		delete(s.refreshes, rt)
		s.spent[rt] = g.acct
		if t := s.tokens[g.access]; t != nil {
			t.revoked = true
		}
		g.acct.refreshes.Add(1)
		scopes, acct = g.scopes, g.acct
	case "client_credentials":
		for _, sc := range strings.Fields(form.Get("scope")) {
			if sc != "public" {
				s.mu.Unlock()
				oauthError(w, "invalid_scope", "The requested scope is invalid, unknown, or malformed.")
				return
			}
		}
		scopes, refresh = []string{"public"}, false
	default:
		s.mu.Unlock()
		oauthError(w, "unsupported_grant_type", "The authorization grant type is not supported by the authorization server.")
		return
	}
	access, rt, exp := s.issue(acct, scopes, refresh)
	s.mu.Unlock()
	resp := map[string]any{
		"access_token": access, "token_type": "Bearer", "expires_in": exp,
		"scope": strings.Join(scopes, " "), "created_at": now.Unix(),
	}
	if rt != "" {
		resp["refresh_token"] = rt
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, ctJSON, resp)
}
