package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-bookingsync/bookingsync/bookingsynctest"
	"github.com/go-bookingsync/bookingsync/inboxsync"
	"golang.org/x/oauth2"
)

// serveEnv is the environment serve needs against the fake at base.
func serveEnv(base string) env {
	return env{
		"BOOKINGSYNC_BASE_URL":      base,
		"BOOKINGSYNC_CLIENT_ID":     bookingsynctest.DefaultClientID,
		"BOOKINGSYNC_CLIENT_SECRET": bookingsynctest.DefaultClientSecret,
		"BOOKINGSYNC_SESSION_KEY":   randomHex(32),
	}
}

// serve refuses to start, in one line naming the setting, when a
// required secret is missing or weak.
func TestServeRefusesMissingOrWeakSecrets(t *testing.T) {
	t.Parallel()
	for setting, e := range map[string]env{
		"BOOKINGSYNC_CLIENT_ID":               {"BOOKINGSYNC_CLIENT_ID": ""},
		"BOOKINGSYNC_CLIENT_SECRET":           {"BOOKINGSYNC_CLIENT_SECRET": ""},
		"BOOKINGSYNC_SESSION_KEY is not set":  {"BOOKINGSYNC_SESSION_KEY": ""},
		"BOOKINGSYNC_SESSION_KEY is too weak": {"BOOKINGSYNC_SESSION_KEY": "correct-horse-battery-staple-123"},
		"BOOKINGSYNC_SEAL_KEY":                {"BOOKINGSYNC_SEAL_KEY": "not-a-key"},
	} {
		full := serveEnv("http://127.0.0.1:1")
		for k, v := range e {
			full[k] = v
		}
		r := run(t, full, "", "serve", "--db", "sqlite:"+filepath.Join(t.TempDir(), "x.db"), "--listen", "127.0.0.1:0")
		wantCode(t, r, exitError)
		lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
		if len(lines) != 1 || !strings.HasPrefix(lines[0], "bookingsync: config: "+setting) {
			t.Errorf("%s: stderr %q", setting, r.stderr)
		}
	}
}

// On SIGTERM serve stops taking requests, finishes the one in flight,
// releases the fleet's leases and exits 0 within its bound.
func TestServeStopsCleanlyOnSIGTERM(t *testing.T) {
	t.Parallel()
	srv, _ := fake(t)
	acct := srv.AddAccount(bookingsynctest.AccountSeed{})
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "inbox.db")
	ctx := context.Background()
	st, err := inboxsync.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	tok := &oauth2.Token{AccessToken: acct.Token(), RefreshToken: acct.RefreshToken(), TokenType: "Bearer", Expiry: acct.TokenExpiry()}
	if err := st.TokenStore(acct.ID()).Save(ctx, tok); err != nil {
		t.Fatal(err)
	}

	const bound = 5 * time.Second
	p := start(t, serveEnv(srv.URL), "serve", "--db", dsn, "--listen", "127.0.0.1:0", "--shutdown-timeout", bound.String())
	base, ok := strings.CutPrefix(line(t, p.stdout), "listening on ")
	if !ok {
		t.Fatal("serve did not say where it listens")
	}
	// Ready once the fleet beats; the account leased once it syncs.
	waitFor(t, "readiness", func() bool {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil && resp.StatusCode == http.StatusOK
	})
	waitFor(t, "the account's lease", func() bool { return leaseHolder(t, st, acct.ID()) != "" })

	// A webhook delivery in flight: its body not sent yet when the signal
	// comes. (The fake gives account n's records the ids of the first
	// plus (n-1)·10,000,000.)
	conv := 10_000_000*(acct.ID()-1) + bookingsynctest.AirbnbConversationID
	body, _ := json.Marshal(map[string]any{"account_id": acct.ID(), "event": "inbox_conversation_updated",
		"resource": acct.ConversationResource(conv)})
	// Sent by hand with Expect: 100-continue: serve's "100 Continue"
	// shows that the handler runs and reads the body, so the request is
	// in flight when the signal comes.
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /webhooks HTTP/1.1\r\nHost: serve\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"+
		"X-Content-Signature: %s\r\nExpect: 100-continue\r\n\r\n", len(body), bookingsynctest.SignWebhook(body, bookingsynctest.DefaultClientSecret))
	answers := bufio.NewReader(conn)
	if l, err := answers.ReadString('\n'); err != nil || !strings.HasPrefix(l, "HTTP/1.1 100") {
		t.Fatalf("serve answered %q, %v, not 100 Continue", l, err)
	}
	if _, err := answers.ReadString('\n'); err != nil { // the blank line after it
		t.Fatal(err)
	}
	stopped := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "serve to stop listening", func() bool {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
		}
		return err != nil
	})
	if _, err := conn.Write(body); err != nil {
		t.Fatalf("sending the delivery's body: %v", err)
	}
	resp, err := http.ReadResponse(answers, nil)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("the delivery in flight was answered %v, %v; want 200", resp, err)
	}
	r := p.wait(t)
	took := time.Since(stopped)
	wantCode(t, r, 0)
	if took > bound+5*time.Second {
		t.Errorf("stopping took %v, over the bound %v (+5s for the fleet)", took, bound)
	}
	if h := leaseHolder(t, st, acct.ID()); h != "" {
		t.Errorf("the lease is still held by %q after the stop", h)
	}
	t.Logf("stopped in %v", took.Round(time.Millisecond))
	if !strings.Contains(r.stderr, `"msg":"stopped"`) {
		t.Errorf("no stop in the log:\n%s", r.stderr)
	}
	for _, secret := range []string{acct.Token(), acct.RefreshToken(), bookingsynctest.DefaultClientSecret} {
		if strings.Contains(r.stderr, secret) {
			t.Errorf("a secret is in the log")
		}
	}
}

// leaseHolder is the replica holding the account's lease ("" for none).
func leaseHolder(t *testing.T, st *inboxsync.Store, id int64) string {
	t.Helper()
	accts, err := st.Accounts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range accts {
		if a.ID == id && a.LeaseExpiresAt.After(time.Now()) {
			return a.LeaseHolder
		}
	}
	return ""
}

// waitFor polls cond for up to 20 seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(25 * time.Millisecond) // a poll: the serve process announces nothing to the test but through HTTP
	}
}
