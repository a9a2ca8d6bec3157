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
		// guest name — rental — channel — last message
		"#11   Emma Dubois — Ocean View Loft — airbnb — guest: \"Thanks in advance!\"",
		"#12   Lukas Weber — Old Town Apartment — booking-com — guest: \"And what is the wifi password?\"",
		"#11   host participant #2 already there",
		"host participant #",
		// Both guests spoke last: both get a reply, and both are marked read.
		"Replied in #11 to Emma Dubois as host #2",
		"Replied in #12 to Lukas Weber as host #2",
		`"See you soon!"`,
		"Marked #11 read for host #2",
		"Marked #12 read for host #2",
		"Report: 2 open conversation(s) (airbnb 1, booking-com 1); 1 host participant(s) added; 2 repl(ies) sent;",
		// list (participants and messages sideloaded), one GetMany each of
		// bookings, applications, clients and rentals, hosts, 1
		// participant, 2 replies, 2 read marks
		"11 request(s) made",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "#13") {
		t.Errorf("the closed conversation is listed:\n%s", got)
	}
	assertRequests(t, srv, map[string]int{
		"GET inbox/conversations": 1, "GET applications/": 1, "GET bookings/": 1, "GET clients/": 1, "GET rentals/": 1,
		"GET hosts": 1, "GET inbox/messages": 0, "GET inbox/participants": 0,
		"POST inbox/participants": 1, "POST inbox/messages": 2, "PUT inbox/participants": 2, "POST inbox/conversations": 0,
	})
	msgs, _, err := client.Messages.List(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs[len(msgs)-2:] {
		if m.Content != "See you soon!" {
			t.Errorf("last messages = %+v", m)
		}
	}

	// Running again adds nobody and replies to nobody: the host is in both
	// conversations, and spoke last in both.
	out.Reset()
	if err := run(context.Background(), &out, client, cfg, counter); err != nil {
		t.Fatal(err)
	}
	if n := srv.RequestCount("POST", "inbox/participants"); n != 1 {
		t.Errorf("after a second run, participant POSTs = %d, want 1", n)
	}
	if n := srv.RequestCount("POST", "inbox/messages"); n != 2 {
		t.Errorf("after a second run, message POSTs = %d, want 2", n)
	}
	if !strings.Contains(out.String(), "0 host participant(s) added; 0 repl(ies) sent") || !strings.Contains(out.String(), "No guest is waiting for a reply.") {
		t.Errorf("second run:\n%s", out.String())
	}
}

// The walkthrough's job of old, one reply, took 8 requests: the listing,
// one Get per channel application (2), a GetMany of the last messages, the
// hosts, one participant, the reply and the read mark. It now takes 6
// (messages sideloaded with the listing, the applications in one GetMany),
// plus one GetMany each of bookings, clients and rentals for the guest's
// name and the rental.
func TestOneReplyTakesSixRequestsPlusOneGetManyPerResource(t *testing.T) {
	srv := bookingsynctest.NewServer()
	defer srv.Close()
	// The host has answered the Airbnb guest already: only #12 waits.
	srv.AddMessage(bookingsynctest.MessageSeed{ConversationID: bookingsynctest.AirbnbConversationID,
		SenderID: bookingsynctest.AirbnbHostParticipantID, Content: "Late check-in is fine."})
	client, counter := newClient(t, srv)
	srv.ResetRequests()
	var out bytes.Buffer
	cfg := config{hostID: bookingsynctest.HostJanID, write: true, reply: "Cot ready!"}
	if err := run(context.Background(), &out, client, cfg, counter); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "#11   Emma Dubois — Ocean View Loft — airbnb — host: \"Late check-in is fine.\"") || strings.Contains(out.String(), "Replied in #11") ||
		!strings.Contains(out.String(), "Replied in #12 ") {
		t.Errorf("output:\n%s", out.String())
	}
	newResources := srv.RequestCount("GET", "bookings/") + srv.RequestCount("GET", "clients/") + srv.RequestCount("GET", "rentals/")
	if got := int(counter.n.Load()); got != 6+3 || newResources != 3 {
		t.Errorf("requests = %d, of which %d GetMany of bookings, clients, rentals; want 6 + 3:\n%v", got, newResources, srv.Requests())
	}
}

// assertRequests checks how many requests the server received, by "METHOD
// path-prefix".
func assertRequests(t *testing.T, srv *bookingsynctest.Server, want map[string]int) {
	t.Helper()
	for k, n := range want {
		method, prefix, _ := strings.Cut(k, " ")
		if got := srv.RequestCount(method, prefix); got != n {
			t.Errorf("%s: %d requests, want %d", k, got, n)
		}
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
	if !strings.Contains(out.String(), "Writes are off: would add host #2 to 2 conversation(s) and reply in the 2 where the guest spoke last.") {
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

// Without clients_read the walkthrough still lists the conversations, says
// which scope is missing, and shows a dash for the guests.
func TestWalkthroughNamesAMissingScope(t *testing.T) {
	srv := bookingsynctest.NewServer()
	defer srv.Close()
	counter := &countingTransport{next: http.DefaultTransport}
	tok := srv.IssueToken("inbox_read", "inbox_write", "bookings_read", "applications_read", "rentals_read")
	client, err := bookingsync.NewClient(bookingsync.WithBaseURL(srv.URL), bookingsync.WithToken(tok),
		bookingsync.WithHTTPClient(&http.Client{Transport: counter}))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := run(context.Background(), &out, client, config{hostID: bookingsynctest.HostJanID}, counter); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"lacks the clients_read scope", "#11   - — Ocean View Loft — airbnb — guest:"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}
