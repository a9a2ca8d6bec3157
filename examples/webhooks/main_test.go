package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/go-bookingsync/bookingsync"
	"github.com/go-bookingsync/bookingsync/bookingsynctest"
)

// hostParticipants reads a conversation's participants through the API and
// counts the Host participants for host.
func hostParticipants(t *testing.T, srv *bookingsynctest.Server, convID, host int64) int {
	t.Helper()
	c, err := bookingsync.NewClient(bookingsync.WithToken(srv.Token()), bookingsync.WithBaseURL(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for p, err := range c.Participants.All(context.Background(), nil) {
		if err != nil {
			t.Fatal(err)
		}
		if p.Links.Conversation == convID && p.IsHost() && p.Links.Member.ID == host {
			n++
		}
	}
	return n
}

func TestRunDemo(t *testing.T) {
	srv := bookingsynctest.NewServer()
	defer srv.Close()
	if n := hostParticipants(t, srv, bookingsynctest.BookingComConversationID, bookingsynctest.HostJanID); n != 0 {
		t.Fatalf("seed: conversation 12 already has host 2 (%d)", n)
	}
	srv.ResetRequests()

	var out bytes.Buffer
	if err := run(context.Background(), &out, config{demo: srv}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 4 {
		t.Fatalf("want 4 lines, got:\n%s", out.String())
	}
	if lines[0] != "No BOOKINGSYNC_TOKEN: running against the in-memory BookingSync server (bookingsynctest)." {
		t.Errorf("first line: %q", lines[0])
	}
	want := `inbox_conversation_created: conversation 12 "Booking 0000EH - Old Town Apartment", channel "booking-com": host 2 is participant `
	if !strings.HasPrefix(lines[1], want) || lines[2] != lines[1] {
		t.Errorf("deliveries:\n%s\n%s", lines[1], lines[2])
	}
	if lines[3] != "forged delivery (bad signature): 401 Unauthorized" {
		t.Errorf("forged: %q", lines[3])
	}

	// Two deliveries, one participant: EnsureHost found it the second time.
	if n := hostParticipants(t, srv, bookingsynctest.BookingComConversationID, bookingsynctest.HostJanID); n != 1 {
		t.Errorf("host 2 is in conversation 12 %d times, want 1", n)
	}
	if n := srv.RequestCount("POST", "inbox/participants"); n != 1 {
		t.Errorf("%d participant creations, want 1", n)
	}
	// Each delivery re-read the conversation; the forged one read nothing.
	if n := srv.RequestCount("GET", "inbox/conversations/12"); n < 2 {
		t.Errorf("conversation 12 read %d times, want one per delivery", n)
	}
	// The channel application was read once, then cached.
	if n := srv.RequestCount("GET", "applications"); n != 1 {
		t.Errorf("%d application reads, want 1", n)
	}
}

// With an account the program listens until its context ends and handles
// whatever comes; here a new Airbnb conversation.
func TestRunAccount(t *testing.T) {
	srv := bookingsynctest.NewServer(bookingsynctest.WithToken("sekret-token-123"), bookingsynctest.WithWebhookSecret("hook-sekret"))
	defer srv.Close()
	convID := srv.AddConversation(bookingsynctest.ConversationSeed{Subject: "Parking?", ApplicationID: bookingsynctest.AirbnbAppID, ClientID: 1})

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	lines := make(chan string, 10)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, pw, config{token: "sekret-token-123", baseURL: srv.URL, secret: "hook-sekret",
			addr: "127.0.0.1:0", host: bookingsynctest.HostMariaID})
		pw.Close()
	}()

	if l := <-lines; l != "Running against "+srv.URL {
		t.Fatalf("first line %q", l)
	}
	l := <-lines
	url, ok := strings.CutPrefix(l, "Listening on ")
	if !ok {
		t.Fatalf("second line %q", l)
	}
	url = strings.Fields(url)[0]
	if err := srv.SendWebhook(ctx, url, bookingsync.EventInboxConversationCreated, srv.ConversationResource(convID)); err != nil {
		t.Fatal(err)
	}
	if err := srv.SendWebhook(ctx, url, bookingsync.EventInboxMessageCreated, srv.MessageResource(1)); err != nil {
		t.Fatal(err)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run did not return after its context ended")
	}
	var rest []string
	for l := range lines {
		rest = append(rest, l)
	}
	if len(rest) != 2 || !strings.Contains(rest[0], `"Parking?", channel "airbnb": host 3 is participant `) ||
		rest[1] != "inbox_message_created: ignored" {
		t.Errorf("deliveries: %q", rest)
	}
	if strings.Contains(strings.Join(rest, "\n"), "sekret") {
		t.Error("a secret was printed")
	}
	if n := hostParticipants(t, srv, convID, bookingsynctest.HostMariaID); n != 1 {
		t.Errorf("host 3 is in conversation %d %d times, want 1", convID, n)
	}
}

func TestRunAccountNeedsSecretAndHost(t *testing.T) {
	srv := bookingsynctest.NewServer()
	defer srv.Close()
	for _, cfg := range []config{
		{token: srv.Token(), baseURL: srv.URL, host: 2, addr: "127.0.0.1:0"},
		{token: srv.Token(), baseURL: srv.URL, secret: "s", addr: "127.0.0.1:0"},
	} {
		var out bytes.Buffer
		if err := run(context.Background(), &out, cfg); err == nil {
			t.Errorf("secret set %v, host %d: no error", cfg.secret != "", cfg.host)
		}
	}
	if n := srv.RequestCount("", "/"); n != 0 {
		t.Errorf("%d requests before the configuration was checked", n)
	}
}
