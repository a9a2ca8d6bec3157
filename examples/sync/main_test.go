package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-bookingsync/bookingsync/bookingsynctest"
)

func TestRunDemo(t *testing.T) {
	d := newDemo()
	defer d.srv.Close()
	var out bytes.Buffer
	cfg := config{demo: d, dsn: "sqlite:" + filepath.Join(t.TempDir(), "inbox.db"), account: bookingsynctest.AccountID, passes: 2}
	if err := run(context.Background(), &out, cfg); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, want := range []string{
		"No BOOKINGSYNC_TOKEN: running against the in-memory BookingSync server (bookingsynctest).\n",
		"pass 1: 10 requests, hosts +2, conversations +4, participants +6, messages +8, bookings +6, clients +6, rentals +3, applications +2\n",
		"  local copy: 3 open conversations, 3 awaiting a reply\n",
		"meanwhile: conversation 15 created with a guest message, 12 updated, 13 deleted\n",
		// Exactly the changes: the new and the updated conversation, the
		// deleted one with its participants and messages; one request per
		// resource, the new conversation's application being known.
		"pass 2: 8 requests, conversations +2, conversations -1, participants +1, participants -2, messages +1, messages -2\n",
		"  local copy: 4 open conversations, 4 awaiting a reply\n",
		`  - 15 "Late check-in?", Mia Jensen: "Can we arrive at midnight?"`,
		`  - 11 "Reservation 0000EG - Ocean View Loft", Emma Dubois: "Thanks in advance!"`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q; got:\n%s", want, got)
		}
	}
	// Every listing asked with updated_since; pass 2 from the server's
	// cursor, not the early first-pass date.
	var since []string
	for _, r := range d.srv.Requests() {
		if r.Method == "GET" && r.Path == "/api/v3/inbox/conversations" {
			since = append(since, r.Query.Get("updated_since"))
		}
	}
	if len(since) != 2 || since[0] != "2010-01-01T00:00:00Z" || since[1] <= since[0] {
		t.Errorf("conversation listings' updated_since: %q", since)
	}
}
