package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/go-bookingsync/bookingsync/inboxsync"
)

var passLineRE = regexp.MustCompile(`^pass (\d+): account 1, (\d+) changed( \([a-z]+ \d+(, [a-z]+ \d+)*\))?, (\d+) requests, \d+\.\d\ds$`)

func TestSyncOnce(t *testing.T) {
	eachDB(t, testSyncOnce)
}

func testSyncOnce(t *testing.T, dsn string) {
	_, e := fake(t)
	r := run(t, e, "", "sync", "--db", dsn, "--account", "1")
	wantCode(t, r, exitOK)
	if !passLineRE.MatchString(strings.TrimSuffix(r.stdout, "\n")) || strings.Count(r.stdout, "\n") != 1 {
		t.Errorf("stdout %q, want one pass line", r.stdout)
	}
	if r.stderr != "" {
		t.Errorf("stderr %q: no progress bar off a terminal", r.stderr)
	}
	st, err := inboxsync.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	convs, err := st.Conversations(context.Background(), 1, inboxsync.ConversationQuery{})
	if err != nil || len(convs) != 4 {
		t.Errorf("the copy holds %d conversations (%v), want 4", len(convs), err)
	}

	// Again, as JSON, the account found by GET /me: the pass only confirms.
	r = run(t, e, "", "sync", "--db", dsn, "--json")
	wantCode(t, r, exitOK)
	var l passLine
	decodeJSON(t, r, &l)
	if l.Pass != 1 || l.AccountID != 1 || l.Requests == 0 || len(l.Resources) == 0 || l.Error != "" {
		t.Errorf("pass %+v", l)
	}
}

func TestSyncWatchUntilInterrupted(t *testing.T) {
	_, e := fake(t)
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "inbox.db")
	p := start(t, e, "sync", "--db", dsn, "--account", "1", "--watch", "50ms")
	for i := 1; i <= 3; i++ {
		l := line(t, p.stdout)
		m := passLineRE.FindStringSubmatch(l)
		if m == nil || m[1] != string(rune('0'+i)) {
			t.Fatalf("line %d: %q", i, l)
		}
	}
	_ = p.cmd.Process.Signal(os.Interrupt)
	if r := p.wait(t); r.code != exitOK {
		t.Errorf("exit %d after an interrupt; stderr %q", r.code, r.stderr)
	}
}

func TestSyncFailures(t *testing.T) {
	srv, e := fake(t)
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "inbox.db")
	r := run(t, env{"BOOKINGSYNC_BASE_URL": srv.URL, "BOOKINGSYNC_TOKEN": "wrong"}, "", "sync", "--db", dsn, "--account", "1", "--json")
	wantCode(t, r, exitAuth)
	var l passLine
	if err := json.Unmarshal([]byte(r.stdout), &l); err != nil || l.Error == "" {
		t.Errorf("a failed pass is still reported: %q (%v)", r.stdout, err)
	}
	wantCode(t, run(t, e, "", "sync", "--account", "1"), exitUsage)
	wantCode(t, run(t, e, "", "sync", "--db", "mysql://x", "--account", "1"), exitError)
}

func TestProgressLine(t *testing.T) {
	for _, tc := range []struct {
		p    pageInfo
		want string
	}{
		{pageInfo{"conversations", 4, 10, 100, 1000}, "conversations [########------------]  page 4/10  400/1000 records"},
		{pageInfo{"messages", 3, 3, 100, 250}, "messages      [####################]  page 3/3  250/250 records"},
		{pageInfo{"hosts", 1, 0, 0, 0}, "hosts         [####################]  page 1/1  0/0 records"},
	} {
		if got := progressLine(tc.p); got != tc.want {
			t.Errorf("progressLine(%+v)\n got %q\nwant %q", tc.p, got, tc.want)
		}
	}
}

// TestSyncProgressBarOnATerminal runs sync under script(1), which gives it
// a terminal: the first pass draws its bar, and clears it before the
// summary.
func TestSyncProgressBarOnATerminal(t *testing.T) {
	script, err := exec.LookPath("script")
	if err != nil || runtime.GOOS != "linux" {
		t.Skip("needs util-linux script(1) for a terminal")
	}
	_, e := fake(t)
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "inbox.db")
	cmd := exec.Command(script, "-qec", binary+" sync --account 1 --db "+dsn, "/dev/null")
	cmd.Env = baseEnv(t, e)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	s := string(out)
	if !strings.Contains(s, "\r\033[Kconversations [####################]  page 1/1  4/4 records") {
		t.Errorf("no progress bar in %q", s)
	}
	if !strings.Contains(s, "\r\033[Kpass 1: account 1, ") {
		t.Errorf("the bar is not cleared before the summary: %q", s)
	}
}

// TestSyncSaysItWaitsForTheRateLimit: with the budget down to the reserve,
// the pass waits for the window's reset, and says so rather than look hung.
func TestSyncSaysItWaitsForTheRateLimit(t *testing.T) {
	srv, e := fake(t)
	srv.SetRateLimit(100, 12)
	srv.SetRateLimitReset(time.Now().Add(2 * time.Second))
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "inbox.db")
	r := run(t, e, "", "sync", "--db", dsn, "--account", "1", "--rate-reserve", "0.1")
	wantCode(t, r, exitOK)
	if !strings.HasPrefix(r.stderr, "bookingsync: note: ") || !strings.Contains(r.stderr, "requests left this hour; waiting for the reset at ") || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("stderr %q, want one note of the wait", r.stderr)
	}
	wantCode(t, run(t, e, "", "sync", "--db", dsn, "--rate-reserve", "1"), exitUsage)
}
