package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	neturl "net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-bookingsync/bookingsync/bookingsynctest"
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
	if !strings.HasPrefix(r.stderr, "bookingsync: auth: sync: asking which account the token acts for: ") {
		t.Errorf("stderr %q", r.stderr)
	}
	srv.AddFault(bookingsynctest.Fault{Kind: bookingsynctest.FaultStatus, Status: http.StatusServiceUnavailable, PathPrefix: "/api/v3/inbox/conversations"})
	r = run(t, e, "", "sync", "--db", dsn, "--json")
	wantCode(t, r, exitError)
	var l passLine
	if err := json.Unmarshal([]byte(r.stdout), &l); err != nil || l.Error == "" {
		t.Errorf("a failed pass is still reported: %q (%v)", r.stdout, err)
	}
	wantCode(t, run(t, e, "", "sync", "--account", "1"), exitUsage)
	wantCode(t, run(t, e, "", "sync", "--db", "mysql://x", "--account", "1"), exitUsage)
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
	// The fake's clock stands still: its window cannot reset before the
	// command's requests arrive, however long it takes to start.
	base := time.Now()
	srv, e := fake(t, bookingsynctest.WithClock(func() time.Time { return base }))
	srv.SetRateLimit(100, 12)
	srv.SetRateLimitReset(base.Add(2 * time.Second))
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "inbox.db")
	r := run(t, e, "", "sync", "--db", dsn, "--account", "1", "--rate-reserve", "0.1")
	wantCode(t, r, exitOK)
	if !strings.HasPrefix(r.stderr, "bookingsync: note: ") || !strings.Contains(r.stderr, "requests left this hour; waiting for the reset at ") || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("stderr %q, want one note of the wait", r.stderr)
	}
	wantCode(t, run(t, e, "", "sync", "--db", dsn, "--rate-reserve", "1"), exitUsage)
}

// TestSyncRefusesAnotherAccountsToken: with account 1's token, `sync
// --account 2` would file account 1's Inbox under account 2. It asks GET
// /me whose the token is before it writes anything, and refuses: exit 3,
// one line naming the token's account, nothing in the copy.
func TestSyncRefusesAnotherAccountsToken(t *testing.T) {
	_, e := fake(t, bookingsynctest.WithAccounts(2))
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "inbox.db")
	r := run(t, e, "", "sync", "--db", dsn, "--account", "2")
	wantCode(t, r, exitAuth)
	if want := "bookingsync: auth: sync: the token belongs to account 1, not 2; nothing was written\n"; r.stderr != want {
		t.Errorf("stderr %q, want %q", r.stderr, want)
	}
	if r.stdout != "" {
		t.Errorf("stdout %q: no pass ran", r.stdout)
	}
	st, err := inboxsync.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, acct := range []int64{1, 2} {
		if convs, err := st.Conversations(context.Background(), acct, inboxsync.ConversationQuery{}); err != nil || len(convs) != 0 {
			t.Errorf("account %d: the copy holds %d conversations (%v)", acct, len(convs), err)
		}
	}
}

// holdPage is a proxy in front of srv that holds the request for page 2
// of the conversations listing until its client gives up, after telling
// held that it came: the moment a sync is between pages.
func holdPage(t *testing.T, srv *bookingsynctest.Server) (url string, held <-chan struct{}) {
	t.Helper()
	target, err := neturl.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	came := make(chan struct{}, 1)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/v3/inbox/conversations" && r.URL.Query().Get("page") == "2" {
			select {
			case came <- struct{}{}:
			default:
			}
			<-r.Context().Done()
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	return front.URL, came
}

// TestSyncInterrupted sends a one-shot sync a real SIGINT or SIGTERM while
// it waits for page 2 of the conversations: it stops there, says it was
// interrupted and what the copy kept, and exits 130 or 143, so that
// `sync && next` does not go on with half a copy. The copy holds the
// pages written whole, and the unfinished resource's cursor did not move.
func TestSyncInterrupted(t *testing.T) {
	for _, tc := range []struct {
		sig  syscall.Signal
		name string
		code int
	}{{syscall.SIGINT, "SIGINT", 130}, {syscall.SIGTERM, "SIGTERM", 143}} {
		t.Run(tc.name, func(t *testing.T) {
			srv, e := fake(t, bookingsynctest.WithSeedSize(250, 0))
			url, held := holdPage(t, srv)
			e["BOOKINGSYNC_BASE_URL"] = url
			dsn := "sqlite:" + filepath.Join(t.TempDir(), "inbox.db")
			p := start(t, e, "sync", "--db", dsn)
			<-held
			if err := p.cmd.Process.Signal(tc.sig); err != nil {
				t.Fatal(err)
			}
			r := p.wait(t)
			wantCode(t, r, tc.code)
			if !strings.HasSuffix(r.stdout, ", interrupted\n") {
				t.Errorf("stdout %q, want the pass line marked interrupted", r.stdout)
			}
			want := "bookingsync: interrupted (" + tc.name + "): sync stopped between pages; the copy keeps what was written (102 changed: hosts 2, conversations 100), and the next sync reads the rest\n"
			if r.stderr != want {
				t.Errorf("stderr %q\nwant   %q", r.stderr, want)
			}
			st, err := inboxsync.Open(context.Background(), dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			convs, err := st.Conversations(context.Background(), 1, inboxsync.ConversationQuery{})
			if err != nil || len(convs) != 100 {
				t.Errorf("the copy holds %d conversations (%v), want page 1's 100", len(convs), err)
			}
			if c, err := st.Cursor(context.Background(), 1, "conversations"); err != nil || !c.IsZero() {
				t.Errorf("conversations cursor %v (%v), want none: the walk did not complete", c, err)
			}
			if c, err := st.Cursor(context.Background(), 1, "hosts"); err != nil || c.IsZero() {
				t.Errorf("hosts cursor %v (%v), want the completed walk's", c, err)
			}
		})
	}
}

// TestSyncWaitsForTheReset: with the budget spent, the pass says it waits
// for the reset, and it does: the 429 is resent, and once the fake's
// window has reset (its clock moved on when the note came) the pass
// completes. The fake's clock stands still otherwise, so that the window
// resets only then, however long the command takes to start.
func TestSyncWaitsForTheReset(t *testing.T) {
	base := time.Now()
	srv, e := fake(t, bookingsynctest.WithClock(func() time.Time { return base }))
	srv.SetRateLimit(100, 0)
	srv.SetRateLimitReset(base.Add(time.Second))
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "inbox.db")
	p := start(t, e, "sync", "--db", dsn)
	if note := line(t, p.stderr); !strings.Contains(note, "waiting for the reset at ") {
		t.Fatalf("stderr %q, want the note of the wait", note)
	}
	srv.Advance(time.Hour)
	r := p.wait(t)
	wantCode(t, r, exitOK)
	if r.stderr != "" {
		t.Errorf("more on stderr: %q", r.stderr)
	}
	if !passLineRE.MatchString(strings.TrimSuffix(r.stdout, "\n")) {
		t.Errorf("stdout %q, want a completed pass", r.stdout)
	}
	if srv.Throttled() == 0 {
		t.Error("no request met the spent budget: the test tested nothing")
	}
}

// TestSyncWatchWantsAGoDuration: --watch 5 is not a duration, and the
// error says what is, then prints sync's own usage.
func TestSyncWatchWantsAGoDuration(t *testing.T) {
	r := run(t, nil, "", "sync", "--db", "sqlite:x.db", "--watch", "5")
	wantCode(t, r, exitUsage)
	first, rest, _ := strings.Cut(r.stderr, "\n")
	if want := `bookingsync: usage: sync: invalid value "5" for flag -watch: want a Go duration such as 30s, 5m or 1h30m (a unit is required)`; first != want {
		t.Errorf("stderr's first line %q, want %q", first, want)
	}
	if !strings.Contains(rest, "Usage: bookingsync sync --db DSN") || !strings.Contains(rest, "-rate-reserve") {
		t.Errorf("no usage of sync after the error: %q", rest)
	}
}

// TestReadmeSession runs the README's session against a fresh fake: the
// reply, then the sync, whose line must read as the README prints it
// (but for the time taken).
func TestReadmeSession(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	sample := func(command string) string {
		_, after, ok := strings.Cut(string(readme), "\n$ "+command+"\n")
		if !ok {
			t.Fatalf("the README shows no %q", command)
		}
		out, _, _ := strings.Cut(after, "\n")
		return out
	}
	_, e := fake(t)
	r := run(t, e, "", "reply", "12", "--host", "2", "Yes, a cot will be ready.")
	wantCode(t, r, exitOK)
	if want := sample(`bookingsync reply 12 --host 2 "Yes, a cot will be ready."`); strings.TrimSuffix(r.stdout, "\n") != want {
		t.Errorf("reply printed %q; the README shows %q", r.stdout, want)
	}
	r = run(t, e, "", "sync", "--db", "sqlite:"+filepath.Join(t.TempDir(), "inbox.db"))
	wantCode(t, r, exitOK)
	seconds := regexp.MustCompile(`\d+\.\d\ds$`)
	got := seconds.ReplaceAllString(strings.TrimSuffix(r.stdout, "\n"), "S")
	if want := seconds.ReplaceAllString(sample("bookingsync sync --db sqlite:inbox.db"), "S"); got != want {
		t.Errorf("sync printed %q; the README shows %q", got, want)
	}
}
