package inboxsync_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-bookingsync/bookingsync"
	"github.com/go-bookingsync/bookingsync/bookingsynctest"
	"github.com/go-bookingsync/bookingsync/inboxsync"
	"github.com/go-bookingsync/bookingsync/inboxsync/internal/dbtest"
	"github.com/go-bookingsync/bookingsync/inboxsync/internal/testsignal"
)

// A webhook cue is reflected in the local copy after one GET; the same
// delivery again makes no request.
func TestWebhookOneGetOnce(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dsn string) {
		f := setup(t, dsn)
		ctx := context.Background()
		mustSync(t, f.s)
		id := f.srv.AddConversation(bookingsynctest.ConversationSeed{Subject: "from a webhook", ClientID: 9})
		e := event(bookingsync.EventInboxConversationCreated, id, 1)

		before := len(f.srv.Requests())
		if err := f.s.HandleEvent(ctx, e); err != nil {
			t.Fatal(err)
		}
		if n := len(f.srv.Requests()) - before; n != 1 {
			t.Fatalf("the cue made %d requests, want 1", n)
		}
		if c, err := f.st.Conversation(ctx, acct, id); err != nil || c.Subject != "from a webhook" {
			t.Fatalf("after the cue: %+v, %v", c, err)
		}
		if err := f.s.HandleEvent(ctx, e); err != nil {
			t.Fatal(err)
		}
		if n := len(f.srv.Requests()) - before; n != 1 {
			t.Fatalf("a duplicate delivery made %d more requests, want 0", n-1)
		}
	})
}

// A late re-read that returns an older version of a record never replaces
// the newer local one; a 404 removes it.
func TestWebhookOutOfOrder(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dsn string) {
		f := setup(t, dsn)
		ctx := context.Background()
		const conv = bookingsynctest.AirbnbConversationID
		old := rawGet(t, f.c, "inbox/conversations/11")

		f.srv.Advance(time.Second) // a newer updated_at, in whole seconds
		f.srv.Touch("conversations", conv)
		mustSync(t, f.s)
		newer, err := f.st.Conversation(ctx, acct, conv)
		if err != nil {
			t.Fatal(err)
		}

		// A server in front of the fake answers the re-read with the
		// version from before the update, as a slow replica of the API
		// could.
		stale := staleProxy(t, f.srv, "/api/v3/inbox/conversations/11", old)
		s := inboxsync.New(f.st, acct, newClient(t, f.srv, bookingsync.WithBaseURL(stale.URL), bookingsync.WithHTTPClient(stale.Client())))
		if err := s.HandleEvent(ctx, event(bookingsync.EventInboxConversationUpdated, conv, 2)); err != nil {
			t.Fatal(err)
		}
		got, err := f.st.Conversation(ctx, acct, conv)
		if err != nil || !got.UpdatedAt.Equal(newer.UpdatedAt) {
			t.Fatalf("after a stale re-read: updated_at %v, want %v (%v)", got.UpdatedAt, newer.UpdatedAt, err)
		}

		f.srv.DeleteConversation(conv)
		if err := f.s.HandleEvent(ctx, event(bookingsync.EventInboxConversationUpdated, conv, 3)); err != nil {
			t.Fatal(err)
		}
		if _, err := f.st.Conversation(ctx, acct, conv); !errorsIsNotFound(err) {
			t.Fatalf("after a 404 re-read: %v, want ErrNotFound", err)
		}
	})
}

func errorsIsNotFound(err error) bool {
	return err != nil && strings.Contains(err.Error(), "not found")
}

// rawGet returns a GET's body.
func rawGet(t *testing.T, c *bookingsync.Client, path string) []byte {
	t.Helper()
	req, err := c.NewRequest(context.Background(), "GET", path, nil)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := c.Do(req, &buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// staleProxy forwards to srv but answers GET path with body.
func staleProxy(t *testing.T, srv *bookingsynctest.Server, path string, body []byte) *httptest.Server {
	u, _ := url.Parse(srv.URL)
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.Transport = srv.Client().Transport
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == "GET" && r.URL.Path == path {
			w.Header().Set("Content-Type", "application/vnd.api+json; charset=utf-8")
			w.Write(body)
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)
	return ts
}

// WebhookHandler verifies the signature and acts on the delivery.
func TestWebhookHandler(t *testing.T) {
	t.Parallel()
	f := setup(t, dbtestSQLite(t), bookingsynctest.WithWebhookSecret("s3cret"))
	id := f.srv.AddConversation(bookingsynctest.ConversationSeed{Subject: "signed", ClientID: 9})
	body, _ := json.Marshal(map[string]any{"account_id": acct, "event": bookingsync.EventInboxConversationCreated,
		"resource": map[string]any{"conversation": map[string]any{"id": id}}})
	h := f.s.WebhookHandler("s3cret")

	bad := httptest.NewRequest("POST", "/hooks", bytes.NewReader(body))
	bad.Header.Set(bookingsync.SignatureHeader, "00")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, bad)
	if rec.Code/100 == 2 {
		t.Fatalf("a bad signature was answered %d", rec.Code)
	}
	good := httptest.NewRequest("POST", "/hooks", bytes.NewReader(body))
	good.Header.Set(bookingsync.SignatureHeader, bookingsync.SignWebhook(body, "s3cret"))
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, good)
	if rec.Code/100 != 2 {
		b, _ := io.ReadAll(rec.Body)
		t.Fatalf("a good delivery was answered %d: %s", rec.Code, b)
	}
	if _, err := f.st.Conversation(context.Background(), acct, id); err != nil {
		t.Fatal(err)
	}
}

// Two replicas syncing the same account at once never walk the same
// resource together: one of them skips what the other holds, and the copy
// is whole.
func TestLeaseOneWalkerPerResource(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dsn string) {
		f := setup(t, dsn, bookingsynctest.WithPageSizeCap(10))
		f.srv.GenerateConversations(60)
		// The first replica stops at its first conversations request, its
		// lease taken, until the second has made its whole pass: the walks
		// overlap whatever the scheduler does. (Walks one after the other
		// may both list every conversation: the server's clock has whole
		// seconds, and a cursor of the same second lists them again.)
		entered, release := make(chan struct{}), make(chan struct{})
		var once sync.Once
		hc := f.srv.Client()
		base := hc.Transport
		hc.Transport = roundTripFunc(func(r *http.Request) (*http.Response, error) {
			if strings.HasPrefix(r.URL.Path, "/api/v3/inbox/conversations") {
				once.Do(func() { close(entered); <-release })
			}
			return base.RoundTrip(r)
		})
		s1 := inboxsync.New(f.st, acct, newClient(t, f.srv, bookingsync.WithHTTPClient(hc)))
		st2, err := inboxsync.Open(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer st2.Close()
		s2 := inboxsync.New(st2, acct, newClient(t, f.srv))
		first := make(chan *inboxsync.Report, 1)
		go func() { first <- mustSync(t, s1) }()
		<-entered
		second := mustSync(t, s2)
		close(release)
		if rr := second.Resources[1]; rr.Resource != "conversations" || !rr.Skipped || rr.Pages != 0 {
			t.Errorf("the second replica walked the conversations while the first held them: %+v", rr)
		}
		if rep := <-first; rep.Resources[1].Pages != 7 {
			t.Errorf("the first replica's conversations walk: %+v, want 7 pages", rep.Resources[1])
		}
		if n := f.srv.RequestCount("GET", "/api/v3/inbox/conversations"); n != 7 { // 60+3 conversations at 10 a page, walked once
			t.Errorf("conversations listed in %d requests, want 7", n)
		}
		mustSync(t, f.s)
		if d := diff(serverState(t, f.c), localState(t, f.st)); d != "" {
			t.Fatal(d)
		}
	})
}

// Run makes a pass at once, a pass soon after a cue, and returns when its
// context ends. The test holds Run's waits: the period never ends, the
// cue's delay ends when the test says.
func TestRunCueAndStop(t *testing.T) {
	t.Parallel()
	f := setup(t, dbtestSQLite(t))
	waits := inboxsync.SyncerWaits(t, f.s)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.s.Run(ctx, time.Hour) }()
	if w := waits.Wait(t); w.D != time.Hour { // the first pass is over
		t.Fatalf("after the first pass Run waits %v; want the period, an hour", w.D)
	}
	if _, err := f.st.Conversation(ctx, acct, bookingsynctest.AirbnbConversationID); err != nil {
		t.Fatalf("after the first pass: %v", err)
	}

	id := f.srv.AddConversation(bookingsynctest.ConversationSeed{Subject: "cued", ClientID: 9})
	f.srv.AddMessage(bookingsynctest.MessageSeed{ConversationID: id, SenderID: 1, Content: "x"})
	if err := f.s.HandleEvent(ctx, &bookingsync.WebhookEvent{AccountID: acct, Event: bookingsync.EventBookingUpdated, Resource: json.RawMessage(`{"booking": {"id": 81}}`)}); err != nil {
		t.Fatal(err)
	}
	w := waits.Wait(t)
	if w.D != time.Second {
		t.Fatalf("after a cue Run waits %v; want the cue's delay, a second", w.D)
	}
	if m, _ := f.st.Messages(ctx, acct, id); len(m) != 0 {
		t.Fatal("the cued pass ran before the cue's delay ended")
	}
	w.End()
	if w := waits.Wait(t); w.D != time.Hour { // the cued pass is over
		t.Fatalf("after the cued pass Run waits %v; want the period", w.D)
	}
	if m, _ := f.st.Messages(ctx, acct, id); len(m) != 1 {
		t.Fatalf("after the cued pass: %d messages; want 1", len(m))
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(testsignal.Timeout):
		t.Fatal("Run did not stop")
	}
}

// A pass keeps 10% of the budget: with less left it waits for the reset,
// once. The test ends the wait, moving the fake's clock past the reset.
func TestRateReserve(t *testing.T) {
	t.Parallel()
	f := setup(t, dbtestSQLite(t))
	waits := inboxsync.SyncerWaits(t, f.s)
	f.srv.SetRateLimit(100, 11)
	f.srv.SetRateLimitReset(f.srv.Now().Add(time.Minute))
	type result struct {
		rep *inboxsync.Report
		err error
	}
	done := make(chan result, 1)
	go func() { rep, err := f.s.Sync(context.Background()); done <- result{rep, err} }()
	w := waits.Wait(t)
	if w.D <= 0 || w.D > time.Minute {
		t.Fatalf("the pass waits %v; want the time to the reset, within a minute", w.D)
	}
	f.srv.Advance(w.D + time.Second) // the header is in whole seconds
	w.End()
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	if r.rep.Waited != w.D {
		t.Fatalf("Report.Waited = %v; want the wait, %v", r.rep.Waited, w.D)
	}
	waits.RequireEmpty(t)
}
