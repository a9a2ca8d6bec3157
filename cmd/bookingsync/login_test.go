package main

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/go-bookingsync/bookingsync/bookingsynctest"
	"github.com/go-bookingsync/bookingsync/inboxsync"
)

// freeRedirect returns a redirect URI on a loopback port free right now.
func freeRedirect(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return "http://127.0.0.1:" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port) + "/callback"
}

// loginEnv is the environment of a login against srv, with its own config
// directory.
func loginEnv(t *testing.T, srv *bookingsynctest.Server) env {
	return env{
		"BOOKINGSYNC_BASE_URL":      srv.URL,
		"BOOKINGSYNC_CLIENT_ID":     bookingsynctest.DefaultClientID,
		"BOOKINGSYNC_CLIENT_SECRET": bookingsynctest.DefaultClientSecret,
		"XDG_CONFIG_HOME":           t.TempDir(),
	}
}

// login runs `bookingsync login` and plays the browser: it opens the
// printed URL, which the fake approves at once and redirects to the
// command's listener. Before that it sends a forged redirect, which must be
// turned away without ending the login.
func login(t *testing.T, srv *bookingsynctest.Server, e env, redirect string, flags ...string) result {
	t.Helper()
	p := start(t, e, append([]string{"login", "--redirect-uri", redirect, "--no-browser"}, flags...)...)
	if l := line(t, p.stderr); !strings.HasPrefix(l, "Open this URL") {
		t.Fatalf("stderr %q", l)
	}
	authURL := line(t, p.stderr)
	if !strings.HasPrefix(authURL, srv.URL+"/oauth/authorize?") {
		t.Fatalf("authorization URL %q", authURL)
	}
	forged, err := http.Get(redirect + "?code=stolen&state=forged")
	if err != nil {
		t.Fatal(err)
	}
	forged.Body.Close()
	if forged.StatusCode != http.StatusBadRequest {
		t.Errorf("a forged redirect got %s, want 400", forged.Status)
	}
	resp, err := http.Get(authURL) // follows the fake's redirect to the callback
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(page), "Logged in") {
		t.Errorf("callback answered %s: %s", resp.Status, page)
	}
	return p.wait(t)
}

func TestLoginSavesTheTokenAndCommandsUseIt(t *testing.T) {
	redirect := freeRedirect(t)
	srv := bookingsynctest.NewServer(bookingsynctest.WithOAuthClient(bookingsynctest.DefaultClientID, bookingsynctest.DefaultClientSecret, redirect))
	defer srv.Close()
	e := loginEnv(t, srv)
	r := login(t, srv, e, redirect)
	wantCode(t, r, exitOK)
	host := strings.TrimPrefix(srv.URL, "http://")
	path := filepath.Join(e["XDG_CONFIG_HOME"], "bookingsync", "token-"+strings.ReplaceAll(host, ":", "_")+".json")
	if r.stdout != "logged in to account 1; token saved in "+path+"\n" {
		t.Errorf("stdout %q", r.stdout)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("token file mode %v, want 0600", fi.Mode().Perm())
	}
	var tok struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
	}
	b, _ := os.ReadFile(path)
	if err := json.Unmarshal(b, &tok); err != nil || tok.AccessToken == "" || tok.RefreshToken == "" {
		t.Fatalf("token file: %v", err)
	}
	for _, s := range []string{tok.AccessToken, tok.RefreshToken, bookingsynctest.DefaultClientSecret} {
		if strings.Contains(r.stdout+r.stderr, s) {
			t.Errorf("login printed a secret:\n%s%s", r.stdout, r.stderr)
		}
	}

	// Without BOOKINGSYNC_TOKEN the commands use the stored token.
	wantCode(t, run(t, e, "", "conversations"), exitOK)

	// Expired: refreshed with the application's credentials, and saved.
	srv.ExpireTokens()
	wantCode(t, run(t, e, "", "conversations"), exitOK)
	if srv.RefreshCount() != 1 {
		t.Errorf("%d refreshes, want 1", srv.RefreshCount())
	}
	b2, _ := os.ReadFile(path)
	if string(b2) == string(b) {
		t.Error("the refreshed token was not saved")
	}

	// Expired, and no credentials to refresh with: an auth failure.
	var stored map[string]any
	b2, _ = os.ReadFile(path)
	if err := json.Unmarshal(b2, &stored); err != nil {
		t.Fatal(err)
	}
	stored["expiry"] = "2001-01-01T00:00:00Z"
	b2, _ = json.Marshal(stored)
	if err := os.WriteFile(path, b2, 0o600); err != nil {
		t.Fatal(err)
	}
	noCreds := env{"BOOKINGSYNC_BASE_URL": srv.URL, "XDG_CONFIG_HOME": e["XDG_CONFIG_HOME"]}
	r = run(t, noCreds, "", "conversations")
	wantCode(t, r, exitAuth)
	if !strings.HasPrefix(r.stderr, "bookingsync: auth: the stored token has expired") {
		t.Errorf("stderr %q", r.stderr)
	}
}

// TestLoginIntoADatabaseThenSync installs the account in an inboxsync
// database, whose token sync then uses (and refreshes) on its own.
func TestLoginIntoADatabaseThenSync(t *testing.T) {
	eachDB(t, func(t *testing.T, dsn string) {
		redirect := freeRedirect(t)
		srv := bookingsynctest.NewServer(bookingsynctest.WithOAuthClient(bookingsynctest.DefaultClientID, bookingsynctest.DefaultClientSecret, redirect))
		defer srv.Close()
		e := loginEnv(t, srv)
		r := login(t, srv, e, redirect, "--db", dsn)
		wantCode(t, r, exitOK)
		if want := "logged in to account 1; token saved in " + inboxsync.RedactDSN(dsn) + "\n"; r.stdout != want {
			t.Errorf("stdout %q, want %q", r.stdout, want)
		}
		srv.ExpireTokens()
		r = run(t, e, "", "sync", "--db", dsn)
		wantCode(t, r, exitOK)
		if !strings.HasPrefix(r.stdout, "pass 1: account 1, ") || srv.RefreshCount() != 1 {
			t.Errorf("stdout %q after %d refreshes", r.stdout, srv.RefreshCount())
		}
		if _, err := os.Stat(filepath.Join(e["XDG_CONFIG_HOME"], "bookingsync")); !os.IsNotExist(err) {
			t.Errorf("login --db wrote a token file too (%v)", err)
		}
	})
}

func TestLoginRefusedByTheUser(t *testing.T) {
	redirect := freeRedirect(t)
	srv := bookingsynctest.NewServer(bookingsynctest.WithOAuthClient(bookingsynctest.DefaultClientID, bookingsynctest.DefaultClientSecret, redirect))
	defer srv.Close()
	p := start(t, loginEnv(t, srv), "login", "--redirect-uri", redirect)
	line(t, p.stderr)
	authURL, _ := http.NewRequest(http.MethodGet, line(t, p.stderr), nil)
	state := authURL.URL.Query().Get("state")
	resp, err := http.Get(redirect + "?error=access_denied&state=" + state)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	r := p.wait(t)
	wantCode(t, r, exitAuth)
	if !strings.Contains(r.stderr, "bookingsync: auth: login: the authorization was refused: access_denied") {
		t.Errorf("stderr %q", r.stderr)
	}
}

func TestLoginUsage(t *testing.T) {
	r := run(t, nil, "", "login")
	wantCode(t, r, exitUsage)
	r = run(t, env{"BOOKINGSYNC_CLIENT_ID": "a", "BOOKINGSYNC_CLIENT_SECRET": "b"}, "", "login", "--redirect-uri", "http://example.com:80/cb")
	wantCode(t, r, exitUsage)
}

// TestLoginCallbackAnswersOnlyItsHost: a request to the callback naming
// another host (a web page reaching the loopback port through DNS
// rebinding), even with the right state, is turned away (421), and the
// login goes on to take the browser's real answer.
func TestLoginCallbackAnswersOnlyItsHost(t *testing.T) {
	redirect := freeRedirect(t)
	srv := bookingsynctest.NewServer(bookingsynctest.WithOAuthClient(bookingsynctest.DefaultClientID, bookingsynctest.DefaultClientSecret, redirect))
	defer srv.Close()
	p := start(t, loginEnv(t, srv), "login", "--redirect-uri", redirect, "--no-browser")
	line(t, p.stderr)
	authURL := line(t, p.stderr)
	u, err := url.Parse(authURL)
	if err != nil {
		t.Fatal(err)
	}
	forged, _ := http.NewRequest(http.MethodGet, redirect+"?code=stolen&state="+u.Query().Get("state"), nil)
	forged.Host = "rebound.example:" + forged.URL.Port()
	resp, err := http.DefaultClient.Do(forged)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMisdirectedRequest {
		t.Errorf("a request for another host got %s, want 421", resp.Status)
	}
	resp, err = http.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	r := p.wait(t)
	wantCode(t, r, exitOK)
	if !strings.HasPrefix(r.stdout, "logged in to account 1; token saved in ") {
		t.Errorf("stdout %q", r.stdout)
	}
}
