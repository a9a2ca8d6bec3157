package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-bookingsync/bookingsync"
	"github.com/go-bookingsync/bookingsync/bookingsynctest"
)

func TestConversationsTable(t *testing.T) {
	_, e := fake(t)
	r := run(t, e, "", "conversations")
	wantCode(t, r, exitOK)
	golden(t, "conversations", r.stdout)
	if r.stderr != "" {
		t.Errorf("stderr: %q", r.stderr)
	}
}

func TestConversationsAllJSON(t *testing.T) {
	_, e := fake(t)
	r := run(t, e, "", "conversations", "--all", "--json")
	wantCode(t, r, exitOK)
	var got []conversationView
	decodeJSON(t, r, &got)
	ids := map[int64]conversationView{}
	for _, v := range got {
		ids[v.ID] = v
	}
	if len(got) != 4 || len(ids) != 4 {
		t.Fatalf("got %d conversations, want the 4 seeded ones", len(got))
	}
	airbnb := ids[bookingsynctest.AirbnbConversationID]
	if airbnb.Channel != "airbnb" || airbnb.Guest == nil || airbnb.Guest.ID != 37 || airbnb.Rental == nil || airbnb.Rental.ID != 16 ||
		!airbnb.AwaitingReply || airbnb.LastMessage == nil || airbnb.LastMessage.Content != "Thanks in advance!" {
		t.Errorf("airbnb conversation: %+v", airbnb)
	}
	closed := ids[bookingsynctest.ClosedConversationID]
	if !closed.Closed || closed.AwaitingReply || closed.LastMessage.From != "host" || closed.Rental != nil {
		t.Errorf("closed conversation: %+v", closed)
	}
}

func TestConversationsCostsFewRequests(t *testing.T) {
	srv, e := fake(t)
	wantCode(t, run(t, e, "", "conversations"), exitOK)
	// One page of conversations with their participants, then one GetMany
	// each for the last messages, bookings, applications, guests and
	// rentals: not one request per conversation.
	if n := len(srv.Requests()); n != 6 {
		t.Errorf("%d requests, want 6", n)
		for _, r := range srv.Requests() {
			t.Log(r.Method, r.Path)
		}
	}
}

func TestConversationsWithoutGuestScope(t *testing.T) {
	srv, e := fake(t)
	e["BOOKINGSYNC_TOKEN"] = srv.IssueToken("inbox_read", "bookings_read", "applications_read", "rentals_read")
	r := run(t, e, "", "conversations", "--json")
	wantCode(t, r, exitOK)
	if !strings.HasPrefix(r.stderr, "bookingsync: warning: some names are missing: ") || !strings.Contains(r.stderr, "clients_read") {
		t.Errorf("stderr %q, want a warning naming clients_read", r.stderr)
	}
	var views []conversationView
	decodeJSON(t, r, &views)
	for _, v := range views {
		if v.Guest == nil || v.Guest.ID == 0 || v.Guest.Name != "" {
			t.Errorf("conversation %d: guest %+v, want its id without a name", v.ID, v.Guest)
		}
	}
}

func TestShowThread(t *testing.T) {
	_, e := fake(t)
	r := run(t, e, "", "show", "13")
	wantCode(t, r, exitOK)
	golden(t, "show", r.stdout)
}

func TestShowJSONOldestFirst(t *testing.T) {
	_, e := fake(t)
	r := run(t, e, "", "show", "--json", "11")
	wantCode(t, r, exitOK)
	var v conversationView
	decodeJSON(t, r, &v)
	if len(v.Messages) != 3 {
		t.Fatalf("%d messages, want 3", len(v.Messages))
	}
	for i := 1; i < len(v.Messages); i++ {
		if v.Messages[i].SentAt.Before(*v.Messages[i-1].SentAt) {
			t.Errorf("message %d is older than message %d", i, i-1)
		}
	}
	if v.Messages[0].From != "guest" || v.Messages[0].Sender.ID != 37 {
		t.Errorf("first message: %+v", v.Messages[0])
	}
}

func TestReplyAsHost(t *testing.T) {
	srv, e := fake(t)
	r := run(t, e, "", "reply", "12", "--host", "2", "A cot is ready.")
	wantCode(t, r, exitOK)
	if !strings.HasPrefix(r.stdout, "sent message ") {
		t.Errorf("stdout %q", r.stdout)
	}
	// The host had no participant in 12: SendAsHost added one.
	if n := srv.RequestCount(http.MethodPost, "inbox/participants"); n != 1 {
		t.Errorf("%d participants created, want 1", n)
	}
	show := run(t, e, "", "show", "--json", "12")
	var v conversationView
	decodeJSON(t, show, &v)
	last := v.Messages[len(v.Messages)-1]
	if last.From != "host" || last.Sender.Name != "Jan Kowalski" || last.Content != "A cot is ready." || v.AwaitingReply {
		t.Errorf("after the reply: %+v, awaiting %v", last, v.AwaitingReply)
	}
}

func TestReplyFromStdinAsJSON(t *testing.T) {
	_, e := fake(t)
	r := run(t, e, "Line one\nLine two\n", "reply", "--json", "--host", "2", "--internal", "11", "-")
	wantCode(t, r, exitOK)
	// The fields the package doc names, and no other.
	var m struct {
		ConversationID int64      `json:"conversation_id"`
		ID             int64      `json:"id"`
		SentAt         *time.Time `json:"sent_at"`
		From           string     `json:"from"`
		Sender         *ref       `json:"sender"`
		Content        string     `json:"content"`
		Visibility     string     `json:"visibility"`
		Channel        string     `json:"channel"`
	}
	decodeJSON(t, r, &m)
	// The newline that ends the text's last line is not part of the
	// message; the one between its lines is.
	if m.ConversationID != 11 || m.ID == 0 || m.SentAt == nil || m.From != "host" || m.Sender == nil || m.Sender.ID != 2 ||
		m.Content != "Line one\nLine two" || m.Visibility != "internal" {
		t.Errorf("sent %+v", m)
	}
}

// TestReplySendsWholeOrRefuses: a text over 1 MiB is refused, not cut;
// a text that is not UTF-8 (Latin-1 here) is refused, not sent with
// U+FFFD; either way nothing is sent and the exit is 2. Of the newlines
// ending stdin only the last is dropped.
func TestReplySendsWholeOrRefuses(t *testing.T) {
	srv, e := fake(t)
	for _, tc := range []struct {
		name, stdin, want string
	}{
		{"over 1 MiB", strings.Repeat("a", 1<<20) + "b", "bookingsync: usage: reply: the message is over 1048576 bytes (1 MiB); nothing was sent\n"},
		{"latin-1", "Caf\xe9 cr\xe8me\n", "bookingsync: usage: reply: the message is not UTF-8 text (convert it first, e.g. iconv -f latin1 -t utf-8); nothing was sent\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := run(t, e, tc.stdin, "reply", "11", "--host", "2", "-")
			wantCode(t, r, exitUsage)
			if first, _, _ := strings.Cut(r.stderr, "\n"); first+"\n" != tc.want {
				t.Errorf("stderr %q, want %q first", r.stderr, tc.want)
			}
		})
	}
	if n := srv.RequestCount(http.MethodPost, "inbox/messages"); n != 0 {
		t.Errorf("%d messages sent", n)
	}
	// Exactly 1 MiB on stdin, ending with an empty line: sent whole but
	// for the final newline.
	text := strings.Repeat("é", 1<<19-1) + "\n"
	r := run(t, e, text+"\n", "reply", "--json", "11", "--host", "2", "-")
	wantCode(t, r, exitOK)
	var m replyView
	decodeJSON(t, r, &m)
	if m.Content != text {
		t.Errorf("sent %d bytes ending %q, want %d ending %q", len(m.Content), m.Content[max(len(m.Content)-4, 0):], len(text), text[len(text)-4:])
	}
}

func TestExitCodesAndMessages(t *testing.T) {
	srv, e := fake(t)
	for _, tc := range []struct {
		name   string
		env    env
		args   []string
		code   int
		stderr string // the start of stderr's first line
	}{
		{"no command", e, nil, exitUsage, "bookingsync: usage: no command given"},
		{"unknown command", e, []string{"frobnicate"}, exitUsage, `bookingsync: usage: unknown command "frobnicate"`},
		{"unknown flag", e, []string{"conversations", "--frob"}, exitUsage, "bookingsync: usage: conversations: flag provided but not defined: -frob"},
		{"bad id", e, []string{"show", "abc"}, exitUsage, `bookingsync: usage: show: "abc" is not a conversation id`},
		{"missing host", e, []string{"reply", "11", "hi"}, exitUsage, "bookingsync: usage: reply: --host HOST is required"},
		{"not found", e, []string{"show", "999"}, exitNotFound, "bookingsync: not found: conversation 999: GET /api/v3/inbox/conversations/999: 404"},
		{"bad token", env{"BOOKINGSYNC_BASE_URL": srv.URL, "BOOKINGSYNC_TOKEN": "wrong"}, []string{"conversations"}, exitAuth, "bookingsync: auth: GET /api/v3/inbox/conversations: 401"},
		{"no token", env{"BOOKINGSYNC_BASE_URL": srv.URL}, []string{"conversations"}, exitAuth, "bookingsync: auth: no token: set BOOKINGSYNC_TOKEN or run 'bookingsync login'"},
		{"forbidden", env{"BOOKINGSYNC_BASE_URL": srv.URL, "BOOKINGSYNC_TOKEN": srv.IssueToken("inbox_read")}, []string{"reply", "11", "--host", "2", "hi"}, exitAuth, "bookingsync: auth: conversation 11:"},
		{"plain http off loopback", env{"BOOKINGSYNC_BASE_URL": "http://example.com", "BOOKINGSYNC_TOKEN": "x"}, []string{"conversations"}, exitUsage, "bookingsync: usage: BOOKINGSYNC_BASE_URL:"},
		{"help", e, []string{"help"}, exitOK, ""},
		{"help unknown", e, []string{"help", "frob"}, exitUsage, `bookingsync: usage: unknown command "frob"`},
		{"command help", e, []string{"reply", "-h"}, exitOK, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := run(t, tc.env, "", tc.args...)
			wantCode(t, r, tc.code)
			if !strings.HasPrefix(r.stderr, tc.stderr) || (tc.stderr == "") != (r.stderr == "") {
				t.Errorf("stderr %q, want it to start with %q", r.stderr, tc.stderr)
			}
			if tc.code != exitOK && r.stdout != "" {
				t.Errorf("a failure wrote to stdout: %q", r.stdout)
			}
		})
	}
}

func TestServerErrorIsExit1(t *testing.T) {
	srv, e := fake(t)
	srv.AddFault(bookingsynctest.Fault{Kind: bookingsynctest.FaultStatus, Status: http.StatusServiceUnavailable})
	r := run(t, e, "", "conversations")
	wantCode(t, r, exitError)
	if !strings.HasPrefix(r.stderr, "bookingsync: error: ") || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("stderr %q, want one 'bookingsync: error: ' line", r.stderr)
	}
}

// TestSecretsNeverPrinted runs every command that takes credentials, on
// success and on failure, and looks for them in everything printed.
func TestSecretsNeverPrinted(t *testing.T) {
	const secret = "s3cr3t-client-secret-value"
	srv, _ := fake(t, bookingsynctest.WithOAuthClient("cli-test", secret, bookingsynctest.DefaultRedirectURI))
	good := srv.Token()
	bad := "wrong-token-that-must-not-leak"
	for _, tc := range []struct {
		token string
		args  []string
	}{
		{good, []string{"conversations"}},
		{good, []string{"conversations", "--json"}},
		{good, []string{"show", "--json", "11"}},
		{good, []string{"reply", "11", "--host", "2", "hello"}},
		{good, []string{"show", "999"}},
		{bad, []string{"conversations"}},
		{bad, []string{"show", "11"}},
		{bad, []string{"reply", "11", "--host", "2", "hello"}},
		{good, []string{"webhooks", "trigger", "inbox_message_created", "--to", srv.URL + "/nowhere"}},
		{good, []string{"sync", "--db", "postgres://cli:" + secret + "@127.0.0.1:1/nothing"}},
		{good, []string{"login", "--db", "postgres://cli:" + secret + "@127.0.0.1:1/nothing"}},
	} {
		e := env{"BOOKINGSYNC_BASE_URL": srv.URL, "BOOKINGSYNC_TOKEN": tc.token, "BOOKINGSYNC_CLIENT_ID": "cli-test", "BOOKINGSYNC_CLIENT_SECRET": secret}
		r := run(t, e, "", tc.args...)
		for _, s := range []string{tc.token, secret} {
			if strings.Contains(r.stdout, s) || strings.Contains(r.stderr, s) {
				t.Errorf("bookingsync %s printed a secret\nstdout: %s\nstderr: %s", strings.Join(tc.args, " "), r.stdout, r.stderr)
			}
		}
	}
}

// TestFakeAsAProcess is the recipe for other languages' test suites.
func TestFakeAsAProcess(t *testing.T) {
	url, token := startFake(t, "--addr", "127.0.0.1:0", "--conversation-delay", "0")
	r := run(t, env{"BOOKINGSYNC_BASE_URL": url, "BOOKINGSYNC_TOKEN": token}, "", "conversations")
	wantCode(t, r, exitOK)
	golden(t, "conversations", r.stdout)
	// The token carries every scope: the fake's whole API answers it.
	for _, path := range []string{"/api/v3/inbox/conversations", "/api/v3/bookings", "/api/v3/applications", "/api/v3/hosts"} {
		req, _ := http.NewRequest(http.MethodGet, url+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %s", path, resp.Status)
		}
	}
}

func TestFakeFaultsAndEmptyAccount(t *testing.T) {
	url, token := startFake(t, "--seed=false", "--fault", "status,status=503,path=/api/v3/inbox,count=1")
	e := env{"BOOKINGSYNC_BASE_URL": url, "BOOKINGSYNC_TOKEN": token}
	// The SDK retries the 503 of a GET; the account is empty.
	r := run(t, e, "", "conversations", "--json")
	wantCode(t, r, exitOK)
	if strings.TrimSpace(r.stdout) != "[]" {
		t.Errorf("stdout %q, want []", r.stdout)
	}
}

// TestFakeBadFault: the kinds the error names are those `fake --help`
// names, word for word.
func TestFakeBadFault(t *testing.T) {
	r := run(t, nil, "", "fake", "--fault", "melt")
	wantCode(t, r, exitUsage)
	if !strings.Contains(r.stderr, `unknown fault kind "melt"`) {
		t.Errorf("stderr %q", r.stderr)
	}
	help := run(t, nil, "", "fake", "--help")
	wantCode(t, help, exitOK)
	_, kinds, ok := strings.Cut(help.stdout, "KIND is ")
	kinds, _, _ = strings.Cut(kinds, "\n")
	if !ok || !strings.Contains(r.stderr, "(want "+kinds+")") {
		t.Errorf("fake --help names the kinds %q; the error says %q", kinds, r.stderr)
	}
}

// TestFakePageCaps: rentals come 50 a page by default, as the live API
// pages them, id lists included; --page-cap sets one resource's cap or
// every resource's.
func TestFakePageCaps(t *testing.T) {
	perPage := func(url, token, path string) string {
		req, _ := http.NewRequest(http.MethodGet, url+"/api/v3/"+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.Header.Get("X-Per-Page")
	}
	url, token := startFake(t)
	if got := perPage(url, token, "rentals/16,17"); got != "50" {
		t.Errorf("rentals by id: X-Per-Page %s, want 50", got)
	}
	if got := perPage(url, token, "hosts"); got != "100" {
		t.Errorf("hosts: X-Per-Page %s, want 100", got)
	}
	url, token = startFake(t, "--page-cap", "rentals=7", "--page-cap", "3")
	if got := perPage(url, token, "rentals"); got != "7" {
		t.Errorf("--page-cap rentals=7: X-Per-Page %s", got)
	}
	if got := perPage(url, token, "hosts"); got != "3" {
		t.Errorf("--page-cap 3: hosts' X-Per-Page %s", got)
	}
	r := run(t, nil, "", "fake", "--page-cap", "rentals=")
	wantCode(t, r, exitUsage)
	if !strings.Contains(r.stderr, "want N or RESOURCE=N") {
		t.Errorf("stderr %q", r.stderr)
	}
}

func TestFakeAccountsAndWebhooksOnWrites(t *testing.T) {
	const secret = "hook-secret"
	got := make(chan *bookingsync.WebhookEvent, 16)
	recv := httptest.NewServer(bookingsync.NewWebhookHandler(secret, func(_ context.Context, e *bookingsync.WebhookEvent) error {
		got <- e
		return nil
	}))
	defer recv.Close()
	p := start(t, nil, "fake", "--accounts", "2", "--webhook-url", recv.URL, "--webhook-secret", secret, "--conversation-delay", "1h")
	url := strings.TrimPrefix(line(t, p.stdout), "listening on ")
	line(t, p.stdout)
	var id int64
	var token string
	if _, err := fmt.Sscanf(line(t, p.stdout), "account %d token %s", &id, &token); err != nil || id == bookingsynctest.AccountID {
		t.Fatalf("third line: account %d, %v", id, err)
	}
	e := env{"BOOKINGSYNC_BASE_URL": url, "BOOKINGSYNC_TOKEN": token}
	r := run(t, e, "", "conversations", "--json")
	wantCode(t, r, exitOK)
	var views []conversationView
	decodeJSON(t, r, &views)
	if len(views) == 0 {
		t.Fatal("the second account has no conversations")
	}
	wantCode(t, run(t, e, "", "reply", strconv.FormatInt(views[0].ID, 10), "--host", strconv.FormatInt(hostOf(t, e), 10), "On its way."), exitOK)
	select {
	case ev := <-got:
		if ev.Event != bookingsync.EventInboxMessageCreated || ev.AccountID != id {
			t.Errorf("delivery %s for account %d, want inbox_message_created for %d", ev.Event, ev.AccountID, id)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no webhook delivered on the reply")
	}
}

// hostOf returns the id of a host of the account the environment's token
// acts for.
func hostOf(t *testing.T, e env) int64 {
	t.Helper()
	cl, err := bookingsync.NewClient(bookingsync.WithBaseURL(e["BOOKINGSYNC_BASE_URL"]), bookingsync.WithToken(e["BOOKINGSYNC_TOKEN"]))
	if err != nil {
		t.Fatal(err)
	}
	hosts, _, err := cl.Hosts.List(context.Background(), nil)
	if err != nil || len(hosts) == 0 {
		t.Fatalf("hosts: %v", err)
	}
	return hosts[0].ID
}

func TestMissingScopes(t *testing.T) {
	scope := func(s string) error { return &bookingsync.ScopeError{Scope: s} }
	if got := missingScopes(errors.Join(errors.Join(scope("clients_read"), nil), errors.Join(scope("rentals_read")))); strings.Join(got, ",") != "clients_read,rentals_read" {
		t.Errorf("got %q", got)
	}
	if got := missingScopes(errors.Join(scope("clients_read"), errors.Join(errors.New("boom")))); got != nil {
		t.Errorf("another error hidden among scope errors: got %q", got)
	}
}
