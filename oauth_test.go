package bookingsync

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
)

const (
	testClientID     = "client-id-123"
	testClientSecret = "client-secret-SHOULD-NOT-LEAK"
	testRedirectURL  = "https://app.example.com/callback"
)

// authServer is a local BookingSync token endpoint: authorization_code,
// refresh_token with rotation (a used refresh token is dead: 401
// invalid_grant) and client_credentials. Credentials are accepted in the form
// body only.
type authServer struct {
	*httptest.Server

	mu        sync.Mutex
	n         int             // tokens issued so far
	codes     map[string]bool // unused authorization codes
	live      map[string]bool // refresh tokens that still work
	refreshes int             // successful refresh_token grants
	forms     []url.Values    // every token request's form
	basicAuth int             // requests that used HTTP basic auth

	// clock, when set, is the tests' time: expires_in is computed so that
	// x/oauth2 (which adds it to the real time) lands 2h after clock().
	clock func() time.Time

	// refreshHook, when set, runs at the start of every refresh_token
	// request (outside the lock), e.g. to block it.
	refreshHook func()
}

func newAuthServer(t *testing.T) *authServer {
	t.Helper()
	s := &authServer{codes: map[string]bool{}, live: map[string]bool{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /oauth/token", s.token)
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

func (s *authServer) config() *oauth2.Config {
	return &oauth2.Config{
		ClientID:     testClientID,
		ClientSecret: testClientSecret,
		RedirectURL:  testRedirectURL,
		Scopes:       []string{ScopePublic, ScopeInboxRead, ScopeInboxWrite},
		Endpoint:     Endpoint(s.URL + "/"),
	}
}

// addCode registers a valid authorization code.
func (s *authServer) addCode(code string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.codes[code] = true
}

// seed issues a token pair as if a code had been exchanged, bypassing HTTP.
func (s *authServer) seed() *oauth2.Token {
	s.mu.Lock()
	defer s.mu.Unlock()
	access, refresh := s.issueLocked()
	return &oauth2.Token{AccessToken: access, RefreshToken: refresh, TokenType: "Bearer"}
}

func (s *authServer) issueLocked() (access, refresh string) {
	s.n++
	access, refresh = fmt.Sprintf("at-%d", s.n), fmt.Sprintf("rt-%d", s.n)
	s.live[refresh] = true
	return access, refresh
}

func (s *authServer) refreshCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refreshes
}

func (s *authServer) isLive(refresh string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.live[refresh]
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (s *authServer) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request"})
		return
	}
	form := r.PostForm
	if form.Get("grant_type") == "refresh_token" && s.refreshHook != nil {
		s.refreshHook()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.forms = append(s.forms, form)
	if _, _, ok := r.BasicAuth(); ok {
		s.basicAuth++
	}
	if form.Get("client_id") != testClientID || form.Get("client_secret") != testClientSecret {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client"})
		return
	}
	switch form.Get("grant_type") {
	case "authorization_code":
		code := form.Get("code")
		if !s.codes[code] || form.Get("redirect_uri") != testRedirectURL {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_grant"})
			return
		}
		delete(s.codes, code)
	case "refresh_token":
		rt := form.Get("refresh_token")
		if !s.live[rt] {
			writeJSON(w, http.StatusUnauthorized, map[string]string{
				"error":             "invalid_grant",
				"error_description": "The provided authorization grant is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client.",
			})
			return
		}
		delete(s.live, rt) // rotation: the old refresh token dies now
		s.refreshes++
	case "client_credentials":
		s.n++
		writeJSON(w, http.StatusOK, map[string]any{
			"access_token": fmt.Sprintf("cc-%d", s.n),
			"token_type":   "Bearer",
			"expires_in":   7200,
			"scope":        form.Get("scope"),
		})
		return
	default:
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "unsupported_grant_type"})
		return
	}
	access, refresh := s.issueLocked()
	expiresIn := 7200
	if s.clock != nil {
		expiresIn = int(time.Until(s.clock().Add(2 * time.Hour)).Seconds())
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token":  access,
		"token_type":    "Bearer",
		"expires_in":    expiresIn,
		"refresh_token": refresh,
		"scope":         "public inbox_read inbox_write",
	})
}

func TestEndpoint(t *testing.T) {
	t.Parallel()
	for _, root := range []string{"https://www.bookingsync.com", "https://www.bookingsync.com/", "https://www.bookingsync.com//"} {
		ep := Endpoint(root)
		assert.EqualValues(t, "https://www.bookingsync.com/oauth/authorize", ep.AuthURL, "Endpoint(%q).AuthURL = %q", root, ep.AuthURL)
		assert.EqualValues(t, "https://www.bookingsync.com/oauth/token", ep.TokenURL, "Endpoint(%q).TokenURL = %q", root, ep.TokenURL)
		assert.EqualValues(t, oauth2.AuthStyleInParams, ep.AuthStyle, "Endpoint(%q).AuthStyle = %v, want AuthStyleInParams", root, ep.AuthStyle)
	}
	ep := Endpoint("https://staging.example.test")
	assert.EqualValues(t, "https://staging.example.test/oauth/token", ep.TokenURL, "staging TokenURL = %q", ep.TokenURL)
}

func TestScopes(t *testing.T) {
	t.Parallel()
	// Every scope listed in the API documentation, in its order.
	want := strings.Fields(`public applications_read bookings_read
		bookings_write bookings_write_owned clients_read clients_write
		inbox_read inbox_write inquiries_read inquiries_write
		inquiries_write_owned payments_read payments_write
		payments_write_owned rates_read rates_write rentals_read
		rentals_write reviews_read reviews_write webhooks_read
		webhooks_write webhooks_write_owned preferences_general_settings_read
		preferences_general_settings_write preferences_payments_read
		preferences_payments_write`)
	got := []string{
		ScopePublic, ScopeApplicationsRead, ScopeBookingsRead,
		ScopeBookingsWrite, ScopeBookingsWriteOwned, ScopeClientsRead, ScopeClientsWrite,
		ScopeInboxRead, ScopeInboxWrite, ScopeInquiriesRead, ScopeInquiriesWrite,
		ScopeInquiriesWriteOwned, ScopePaymentsRead, ScopePaymentsWrite,
		ScopePaymentsWriteOwned, ScopeRatesRead, ScopeRatesWrite, ScopeRentalsRead,
		ScopeRentalsWrite, ScopeReviewsRead, ScopeReviewsWrite, ScopeWebhooksRead,
		ScopeWebhooksWrite, ScopeWebhooksWriteOwned, ScopePreferencesGeneralSettingsRead,
		ScopePreferencesGeneralSettingsWrite, ScopePreferencesPaymentsRead,
		ScopePreferencesPaymentsWrite,
	}
	require.Len(t, got, len(want), "%d scope constants, API lists %d", len(got), len(want))
	for i := range want {
		assert.EqualValues(t, want[i], got[i], "scope %d = %q, want %q", i, got[i], want[i])
	}
}

func TestAuthCodeURLAndExchange(t *testing.T) {
	t.Parallel()
	srv := newAuthServer(t)
	cfg := srv.config()

	u, err := url.Parse(cfg.AuthCodeURL("state-xyz", AccountID(1059638630)))
	require.NoError(t, err)
	assert.EqualValues(t, "/oauth/authorize", u.Path, "authorize path = %q", u.Path)
	q := u.Query()
	for k, v := range map[string]string{
		"account_id":    "1059638630",
		"client_id":     testClientID,
		"redirect_uri":  testRedirectURL,
		"response_type": "code",
		"scope":         "public inbox_read inbox_write",
		"state":         "state-xyz",
	} {
		assert.EqualValues(t, v, q.Get(k), "AuthCodeURL %s = %q, want %q", k, q.Get(k), v)
	}
	assert.False(t, q.Has("client_secret"), "AuthCodeURL carries the client secret")

	srv.addCode("code-1")
	tok, err := cfg.Exchange(context.Background(), "code-1")
	require.NoError(t, err, "Exchange")
	assert.NotEmpty(t, tok.AccessToken, "Exchange: access token")
	assert.NotEmpty(t, tok.RefreshToken, "Exchange: refresh token")
	assert.False(t, tok.Expiry.IsZero(), "Exchange: no expiry")
	srv.mu.Lock()
	defer srv.mu.Unlock()
	assert.EqualValues(t, 0, srv.basicAuth, "%d token requests used basic auth; BookingSync wants the form body", srv.basicAuth)
	require.Len(t, srv.forms, 1, "%d token requests, want 1 (no auth style probing)", len(srv.forms))
	f := srv.forms[0]
	for k, v := range map[string]string{
		"grant_type":    "authorization_code",
		"code":          "code-1",
		"client_id":     testClientID,
		"client_secret": testClientSecret,
		"redirect_uri":  testRedirectURL,
	} {
		assert.EqualValues(t, v, f.Get(k), "token form %s = %q, want %q", k, f.Get(k), v)
	}
}

func TestExchangeBadCodeFails(t *testing.T) {
	t.Parallel()
	srv := newAuthServer(t)
	_, err := srv.config().Exchange(context.Background(), "never-issued")
	require.Error(t, err, "Exchange of an unknown code succeeded")
	assert.NotContains(t, err.Error(), testClientSecret, "error leaks the client secret: %v", err)
}

func TestClientCredentials(t *testing.T) {
	t.Parallel()
	cc := ClientCredentials(testClientID, testClientSecret, "https://www.bookingsync.com/")
	assert.EqualValues(t, "https://www.bookingsync.com/oauth/token", cc.TokenURL, "TokenURL = %q", cc.TokenURL)
	assert.EqualValues(t, oauth2.AuthStyleInParams, cc.AuthStyle, "AuthStyle = %v", cc.AuthStyle)
	require.Len(t, cc.Scopes, 1)
	assert.EqualValues(t, ScopePublic, cc.Scopes[0])

	srv := newAuthServer(t)
	cc = ClientCredentials(testClientID, testClientSecret, srv.URL)
	tok, err := cc.Token(context.Background())
	require.NoError(t, err, "Token")
	assert.True(t, strings.HasPrefix(tok.AccessToken, "cc-"), "client credentials access token = %q", tok.AccessToken)
	assert.True(t, tok.RefreshToken == "", "client credentials token has a refresh token") // no token in the output
	srv.mu.Lock()
	defer srv.mu.Unlock()
	assert.Zero(t, srv.basicAuth, "basic auth requests")
	require.Len(t, srv.forms, 1, "token requests")
	f := srv.forms[0]
	assert.Equal(t, "client_credentials", f.Get("grant_type"))
	assert.Equal(t, "public", f.Get("scope"))
	assert.Equal(t, testClientID, f.Get("client_id"))
	assert.True(t, f.Get("client_secret") == testClientSecret, "client secret not in the token form body") // no secret in the output
}
