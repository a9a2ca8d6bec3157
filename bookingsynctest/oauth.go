package bookingsynctest

import (
	"crypto/subtle"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// TokenLifetime is how long an access token issued by the fake lives, by
// the server's clock (7200 s, as the real API).
const TokenLifetime = 7200 * time.Second

// KnownScopes lists every scope the real API defines.
var KnownScopes = []string{"public", "applications_read", "bookings_read", "bookings_write",
	"bookings_write_owned", "clients_read", "clients_write", "inbox_read", "inbox_write",
	"inquiries_read", "inquiries_write", "inquiries_write_owned", "payments_read", "payments_write",
	"payments_write_owned", "rates_read", "rates_write", "rentals_read", "rentals_write", "reviews_read",
	"reviews_write", "webhooks_read", "webhooks_write", "webhooks_write_owned",
	"preferences_general_settings_read", "preferences_general_settings_write",
	"preferences_payments_read", "preferences_payments_write"}

type accessToken struct {
	scopes  map[string]bool
	expires int64 // unix seconds; 0: never (the static token)
	revoked bool
}

// allows applies the scope rules: reads need <x>_read or the write scope,
// writes need <x>_write; hosts count as inbox.
func (t *accessToken) allows(scope string, write bool) bool {
	switch scope {
	case "inbox", "bookings":
		if write {
			return t.scopes[scope+"_write"]
		}
		return t.scopes[scope+"_read"] || t.scopes[scope+"_write"]
	case "applications":
		return !write && t.scopes["applications_read"]
	}
	return false
}

type refreshGrant struct {
	access string
	scopes []string
}

type codeGrant struct {
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

func (s *Server) authenticate(r *http.Request, now time.Time) (*accessToken, bool) {
	a := r.Header.Get("Authorization")
	if len(a) < 7 || !strings.EqualFold(a[:7], "bearer ") {
		return nil, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tokens[strings.TrimSpace(a[7:])]
	if t == nil || t.revoked || (t.expires != 0 && now.Unix() >= t.expires) {
		return nil, false
	}
	return t, true
}

// issue creates an access token (and a refresh token when asked); s.mu held.
func (s *Server) issue(scopes []string, refresh bool) (access, rt string, expiresIn int64) {
	access = randomToken()
	s.tokens[access] = &accessToken{scopes: scopeSet(scopes), expires: s.now().Add(TokenLifetime).Unix()}
	if refresh {
		rt = randomToken()
		s.refreshes[rt] = &refreshGrant{access: access, scopes: scopes}
	}
	return access, rt, int64(TokenLifetime / time.Second)
}

// IssueToken returns a new access token with the given scopes ("public" is
// always added), living TokenLifetime by the server's clock.
func (s *Server) IssueToken(scopes ...string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, _, _ := s.issue(withPublic(scopes), false)
	return a
}

// IssueTokenPair is IssueToken with a refresh token, as the authorization
// code flow would give.
func (s *Server) IssueTokenPair(scopes ...string) (access, refresh string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, r, _ := s.issue(withPublic(scopes), true)
	return a, r
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

// RefreshCount returns how many refresh_token grants succeeded.
func (s *Server) RefreshCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refreshCount
}

func withPublic(scopes []string) []string {
	if slices.Contains(scopes, "public") {
		return scopes
	}
	return append([]string{"public"}, scopes...)
}

func oauthError(w http.ResponseWriter, code, desc string) {
	w.Header().Set("Cache-Control", "no-store")
	// API.md: OAuth failures are 401 (RFC 6749 would use 400 for some).
	writeJSON(w, http.StatusUnauthorized, ctJSON, map[string]any{"error": code, "error_description": desc})
}

// serveAuthorize auto-approves as the account's user: it redirects to the
// redirect_uri with a single-use code (valid 10 minutes) and the state.
// account_id is accepted and ignored (the fake has one account).
func (s *Server) serveAuthorize(w http.ResponseWriter, r *http.Request, _ []byte) {
	if r.Method != http.MethodGet {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
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
	switch {
	case q.Get("response_type") != "code":
		rq.Set("error", "unsupported_response_type")
	case slices.ContainsFunc(scopes, func(sc string) bool { return !slices.Contains(KnownScopes, sc) }):
		rq.Set("error", "invalid_scope")
	default:
		code := randomToken()
		s.mu.Lock()
		s.codes[code] = &codeGrant{redirect: s.cfg.redirectURI, scopes: withPublic(scopes), expires: s.now().Add(10 * time.Minute).Unix()}
		s.mu.Unlock()
		rq.Set("code", code)
	}
	target.RawQuery = rq.Encode()
	http.Redirect(w, r, target.String(), http.StatusFound)
}

// serveToken is the token endpoint: authorization_code, refresh_token
// (rotating: every refresh revokes the old refresh token and its access
// token) and client_credentials (public scope only, no refresh token).
// Client credentials may come in the form body or as HTTP Basic.
func (s *Server) serveToken(w http.ResponseWriter, r *http.Request, body []byte) {
	if r.Method != http.MethodPost {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	form, err := url.ParseQuery(string(body))
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
	refresh := true
	switch form.Get("grant_type") {
	case "authorization_code":
		c := s.codes[form.Get("code")]
		if c == nil || now.Unix() >= c.expires || form.Get("redirect_uri") != c.redirect {
			s.mu.Unlock()
			oauthError(w, "invalid_grant", "The provided authorization grant is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client.")
			return
		}
		delete(s.codes, form.Get("code"))
		scopes = c.scopes
	case "refresh_token":
		g := s.refreshes[form.Get("refresh_token")]
		if g == nil {
			s.mu.Unlock()
			oauthError(w, "invalid_grant", "The provided authorization grant is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client.")
			return
		}
		delete(s.refreshes, form.Get("refresh_token"))
		if t := s.tokens[g.access]; t != nil {
			t.revoked = true
		}
		s.refreshCount++
		scopes = g.scopes
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
	access, rt, exp := s.issue(scopes, refresh)
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
