package main

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-bookingsync/bookingsync"
	"github.com/go-bookingsync/bookingsync/bookingsynctest"
)

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

func TestRunDemo(t *testing.T) {
	ln := listen(t)
	const id, secret = "example-client", "example-sekret"
	srv := bookingsynctest.NewServer(bookingsynctest.WithOAuthClient(id, secret, redirectURL(ln)))
	defer srv.Close()
	path := filepath.Join(t.TempDir(), "token.json")

	var out bytes.Buffer
	err := run(context.Background(), &out, config{clientID: id, clientSecret: secret, demo: srv, ln: ln, store: path, wait: 10 * time.Second})
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	want := []string{
		"No BOOKINGSYNC_CLIENT_ID: running against the in-memory BookingSync server (bookingsynctest).",
		"Playing the browser: GET http://" + ln.Addr().String() + "/",
		"Account connected.",
		"Token saved to " + path + " (mode -rw-------)",
		"  conversation 11: Reservation 0000EG - Ocean View Loft",
		"  conversation 12: Booking 0000EH - Old Town Apartment",
		"  conversation 13: Question about parking",
		"The server expired the access token.",
		"  conversation 11: Reservation 0000EG - Ocean View Loft",
		"  conversation 12: Booking 0000EH - Old Town Apartment",
		"  conversation 13: Question about parking",
		"Refreshed: new refresh token saved: true",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("output:\n%s\nwant:\n%s", out.String(), strings.Join(want, "\n"))
	}

	// The file holds the rotated pair, owner-only, and nothing secret was
	// printed.
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("token file: %v %v", fi, err)
	}
	tok, err := bookingsync.NewFileTokenStore(path).Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{tok.AccessToken, tok.RefreshToken, secret} {
		if s == "" || strings.Contains(out.String(), s) {
			t.Errorf("a secret is missing or was printed")
		}
	}
	// The stored access token is the refreshed one: it works.
	c, err := bookingsync.NewClient(bookingsync.WithToken(tok.AccessToken), bookingsync.WithBaseURL(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Conversations.Get(context.Background(), bookingsynctest.AirbnbConversationID); err != nil {
		t.Errorf("stored access token: %v", err)
	}

	// One trip through the authorization page, with state and account;
	// one code exchange, one refresh.
	var auth *bookingsynctest.Request
	for _, r := range srv.Requests() {
		if r.Path == "/oauth/authorize" {
			auth = &r
		}
	}
	if auth == nil || srv.RequestCount("GET", "/oauth/authorize") != 1 {
		t.Fatal("the authorization page was not visited once")
	}
	if auth.Query.Get("state") == "" || auth.Query.Get("account_id") != "1" || auth.Query.Get("redirect_uri") != redirectURL(ln) ||
		auth.Query.Get("scope") != "public inbox_read" {
		t.Errorf("authorize query: %v", auth.Query)
	}
	if n := srv.RequestCount("POST", "/oauth/token"); n != 2 {
		t.Errorf("%d token requests, want 2 (code, refresh)", n)
	}
	if n := srv.RefreshCount(); n != 1 {
		t.Errorf("%d refreshes, want 1", n)
	}
}

// A callback with another state is refused and the flow keeps waiting.
func TestCallbackChecksState(t *testing.T) {
	ln := listen(t)
	srv := bookingsynctest.NewServer(bookingsynctest.WithOAuthClient("c", "s", redirectURL(ln)))
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	path := filepath.Join(t.TempDir(), "token.json")
	var out bytes.Buffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, &out, config{clientID: "c", clientSecret: "s", baseURL: srv.URL, ln: ln, store: path, wait: time.Minute})
	}()
	// The listener is open already: the request waits until run serves it.
	resp, err := http.Get(redirectURL(ln) + "?" + url.Values{"code": {"forged"}, "state": {"guessed"}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("forged callback: %s", resp.Status)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("run: %v, want it still waiting until cancelled", err)
	}
	if !strings.HasPrefix(out.String(), "Running against "+srv.URL+"\nOpen http://"+ln.Addr().String()+"/ in a browser") {
		t.Errorf("output:\n%s", out.String())
	}
	if n := srv.RequestCount("POST", "/oauth/token"); n != 0 {
		t.Errorf("%d token requests for a forged callback", n)
	}
	if _, err := os.Stat(path); err == nil {
		t.Error("a token file was written")
	}
}

// A real account's token goes to -store, else to the user's config
// directory, never to the temp directory; without either, the program
// asks for -store.
func TestTokenPath(t *testing.T) {
	if p, err := tokenPath("/kept/token.json", false); err != nil || p != "/kept/token.json" {
		t.Errorf("-store: %q %v", p, err)
	}
	if p, _ := tokenPath("", true); !strings.HasPrefix(p, os.TempDir()) || !strings.Contains(p, "bookingsynctest") {
		t.Errorf("demo: %q", p)
	}
	cfg := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", cfg)
	t.Setenv("HOME", cfg)
	p, err := tokenPath("", false)
	if err != nil || p != filepath.Join(cfg, "bookingsync", "token.json") {
		t.Errorf("real: %q %v", p, err)
	}
	if fi, err := os.Stat(filepath.Dir(p)); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("config dir: %v %v", fi, err)
	}
	t.Setenv("XDG_CONFIG_HOME", "")
	t.Setenv("HOME", "")
	if _, err := tokenPath("", false); err == nil || !strings.Contains(err.Error(), "pass -store") {
		t.Errorf("no config dir: %v", err)
	}
}
