package main

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/go-bookingsync/bookingsync"
	"github.com/go-bookingsync/bookingsync/bookingsynctest"
)

func newClient(t *testing.T, srv *bookingsynctest.Server) (*bookingsync.Client, *countingTransport) {
	t.Helper()
	counter := &countingTransport{next: http.DefaultTransport}
	c, err := bookingsync.NewClient(bookingsync.WithBaseURL(srv.URL), bookingsync.WithToken(srv.Token()),
		bookingsync.WithHTTPClient(&http.Client{Transport: counter}))
	if err != nil {
		t.Fatal(err)
	}
	return c, counter
}

func TestWalkthroughAgainstTheFakeServer(t *testing.T) {
	srv := bookingsynctest.NewServer()
	defer srv.Close()
	client, counter := newClient(t, srv)
	var out bytes.Buffer
	cfg := config{hostID: bookingsynctest.HostJanID, write: true, reply: "See you soon!"}
	if err := run(context.Background(), &out, client, cfg, counter); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, want := range []string{
		"Open conversations: 2",
		"#11   airbnb",
		"#12   booking-com",
		"#11   host participant #2 already there",
		"host participant #",
		"Replied in #12 as host #2",
		`"See you soon!"`,
		"Marked #12 read for host #2",
		"Report: 2 open conversation(s) (airbnb 1, booking-com 1); 1 host participant(s) added;",
		// list, 2 applications, last messages, hosts, 1 participant, reply, read
		"8 request(s) made",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "#13") {
		t.Errorf("the closed conversation is listed:\n%s", got)
	}

	// The server saw exactly the writes the walkthrough reports: one Host
	// participant, one message, one read mark, and no Client participant
	// or conversation created.
	if n := srv.RequestCount("POST", "inbox/participants"); n != 1 {
		t.Errorf("participant POSTs = %d, want 1", n)
	}
	if n := srv.RequestCount("POST", "inbox/messages"); n != 1 {
		t.Errorf("message POSTs = %d, want 1", n)
	}
	if n := srv.RequestCount("PUT", "inbox/participants"); n != 1 {
		t.Errorf("participant PUTs = %d, want 1", n)
	}
	if n := srv.RequestCount("POST", "inbox/conversations"); n != 0 {
		t.Errorf("conversation POSTs = %d, want 0", n)
	}
	if n := srv.RequestCount("GET", "applications"); n != 2 {
		t.Errorf("application reads = %d, want 2 (one per channel app)", n)
	}
	msgs, _, err := client.Messages.List(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	last := msgs[len(msgs)-1]
	if last.Content != "See you soon!" || last.Links.Conversation != bookingsynctest.BookingComConversationID {
		t.Errorf("last message = %+v", last)
	}

	// Running again adds nobody: the host is already in both conversations.
	out.Reset()
	if err := run(context.Background(), &out, client, cfg, counter); err != nil {
		t.Fatal(err)
	}
	if n := srv.RequestCount("POST", "inbox/participants"); n != 1 {
		t.Errorf("after a second run, participant POSTs = %d, want 1", n)
	}
	if !strings.Contains(out.String(), "0 host participant(s) added") {
		t.Errorf("second run:\n%s", out.String())
	}
}

func TestReadOnlyWithoutWrite(t *testing.T) {
	srv := bookingsynctest.NewServer()
	defer srv.Close()
	client, counter := newClient(t, srv)
	var out bytes.Buffer
	if err := run(context.Background(), &out, client, config{}, counter); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "Writes are off: would add host #2 to 2 conversation(s)") {
		t.Errorf("output:\n%s", out.String())
	}
	for _, r := range srv.Requests() {
		if r.Method != "GET" {
			t.Errorf("a read-only run sent %s %s", r.Method, r.Path)
		}
	}
}

func TestStartSaysWhichServerItUses(t *testing.T) {
	t.Setenv("BOOKINGSYNC_TOKEN", "")
	var out bytes.Buffer
	if err := start(context.Background(), &out, config{reply: "Hi"}); err != nil {
		t.Fatal(err)
	}
	first, _, _ := strings.Cut(out.String(), "\n")
	if first != "No BOOKINGSYNC_TOKEN: running against the in-memory BookingSync server (bookingsynctest)." {
		t.Errorf("first line = %q", first)
	}
}
