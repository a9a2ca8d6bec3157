package main

import (
	"bytes"
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-bookingsync/bookingsync/bookingsynctest"
)

// syncRequests returns the updated_since of every conversation listing the
// server received, in order.
func syncRequests(srv *bookingsynctest.Server) []string {
	var since []string
	for _, r := range srv.Requests() {
		if r.Method == "GET" && r.Path == "/api/v3/inbox/conversations" {
			since = append(since, r.Query.Get("updated_since"))
		}
	}
	return since
}

func TestRunDemo(t *testing.T) {
	d := newDemo()
	defer d.srv.Close()
	path := filepath.Join(t.TempDir(), "state.json")
	var out bytes.Buffer
	if err := run(context.Background(), &out, config{demo: d, state: path, rounds: 2}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 4 {
		t.Fatalf("want 4 lines, got:\n%s", out.String())
	}
	if lines[0] != "No BOOKINGSYNC_TOKEN: running against the in-memory BookingSync server (bookingsynctest)." {
		t.Errorf("first line: %q", lines[0])
	}
	if !strings.HasPrefix(lines[1], "round 1: 4 changed [11 12 13 14], deleted [], cursor ") {
		t.Errorf("round 1: %q", lines[1])
	}
	if lines[2] != "meanwhile: conversation 15 created, 12 updated, 13 deleted" {
		t.Errorf("changes: %q", lines[2])
	}
	// Exactly the changes: the new and the updated conversation, and the
	// deleted one's id, nothing seeded before the cursor.
	if !strings.HasPrefix(lines[3], "round 2: 2 changed [12 15], deleted [13], cursor ") ||
		!strings.HasSuffix(lines[3], ", 4 held locally") {
		t.Errorf("round 2: %q", lines[3])
	}

	// One page per round; round 2 asked from the cursor round 1 got, which
	// is the server's clock, not an early date.
	since := syncRequests(d.srv)
	if len(since) != 2 {
		t.Fatalf("conversation listings: %q", since)
	}
	cursor1 := strings.Fields(strings.SplitN(lines[1], "cursor ", 2)[1])[0]
	if !strings.HasPrefix(since[0], "2010-01-01") || since[1] != strings.TrimSuffix(cursor1, ",") {
		t.Errorf("updated_since %q, round 1 cursor %q", since, cursor1)
	}

	st, err := load(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := slicesSorted(st.Conversations); !slices.Equal(got, []int64{11, 12, 14, 15}) {
		t.Errorf("saved conversations %v", got)
	}
	if !st.Cursor.Equal(d.clock().Truncate(time.Second)) {
		t.Errorf("saved cursor %s, server clock %s", st.Cursor, d.clock())
	}
}

// With a token the program resumes from the saved cursor: a second run
// sends the cursor the first one saved.
func TestRunAccountResumes(t *testing.T) {
	srv := bookingsynctest.NewServer(bookingsynctest.WithToken("sekret-token-123"), bookingsynctest.WithConversationDelay(time.Hour))
	defer srv.Close()
	cfg := config{token: "sekret-token-123", baseURL: srv.URL, state: filepath.Join(t.TempDir(), "state.json"), rounds: 1}

	var out bytes.Buffer
	for i := range 2 {
		if err := run(context.Background(), &out, cfg); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			srv.Touch("conversations", bookingsynctest.AirbnbConversationID)
		}
	}
	if strings.Contains(out.String(), "sekret") {
		t.Fatalf("the token was printed:\n%s", out.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 4 || lines[0] != "Running against "+srv.URL || lines[2] != lines[0] {
		t.Fatalf("output:\n%s", out.String())
	}
	if !strings.HasPrefix(lines[1], "round 1: 3 changed [11 12 13], deleted [], cursor ") ||
		!strings.HasPrefix(lines[3], "round 1: 1 changed [11], deleted [], cursor ") || !strings.HasSuffix(lines[3], ", 3 held locally") {
		t.Errorf("output:\n%s", out.String())
	}
	since := syncRequests(srv)
	if len(since) != 2 || !strings.HasPrefix(since[0], "2010-01-01") || strings.HasPrefix(since[1], "2010-01-01") {
		t.Errorf("updated_since of the two runs: %q", since)
	}
}

func slicesSorted(m map[int64]string) []int64 {
	var ids []int64
	for id := range m {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}
