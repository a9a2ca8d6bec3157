package inboxsync_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-bookingsync/bookingsync"

	"github.com/go-bookingsync/bookingsync/bookingsynctest"
	"github.com/go-bookingsync/bookingsync/inboxsync"
	"github.com/go-bookingsync/bookingsync/inboxsync/internal/dbtest"
)

// A first pass copies the account; a pass with nothing changed makes one
// request per walked resource and changes nothing; changes and deletions
// on the server arrive with the next pass.
func TestSyncConverges(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dsn string) {
		f := setup(t, dsn)
		rep := mustSync(t, f.s)
		if d := diff(serverState(t, f.c), localState(t, f.st)); d != "" {
			t.Fatalf("after the first pass:\n%s", d)
		}
		if rep.Changed() == 0 {
			t.Fatal("first pass changed nothing")
		}

		f.srv.Advance(time.Second) // the server's clock has whole seconds
		rep = mustSync(t, f.s)
		if rep.Requests != 8 {
			t.Errorf("no-change pass made %d requests, want 8 (one per walked resource)", rep.Requests)
		}

		conv := f.srv.AddConversation(bookingsynctest.ConversationSeed{Subject: "new", ClientID: 77})
		f.srv.AddMessage(bookingsynctest.MessageSeed{ConversationID: conv, SenderID: 1, Content: "hello"})
		f.srv.Delete("messages", 1)
		f.srv.Touch("hosts", bookingsynctest.HostJanID)
		rep = mustSync(t, f.s)
		if d := diff(serverState(t, f.c), localState(t, f.st)); d != "" {
			t.Fatalf("after changes:\n%s", d)
		}
		if rep.Changed() == 0 {
			t.Fatal("the pass after changes changed nothing")
		}

		// The read side answers from the copy.
		ctx := context.Background()
		c, err := f.st.Conversation(ctx, acct, conv)
		if err != nil || c.Subject != "new" {
			t.Fatalf("Conversation(%d) = %+v, %v", conv, c, err)
		}
	})
}

// hook calls after once, after the first response to a request whose URL
// contains match.
type hook struct {
	rt    http.RoundTripper
	match string
	after func()
	once  sync.Once
}

func (h *hook) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := h.rt.RoundTrip(r)
	if err == nil && strings.Contains(r.URL.String(), h.match) {
		h.once.Do(h.after)
	}
	return resp, err
}

// A record deleted while a walk is under way shifts the later pages: the
// walk keeps its cursor, so that nothing that slipped between two pages is
// lost, and the next pass settles it.
func TestDeletionDuringWalkKeepsCursor(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dsn string) {
		f := setup(t, dsn, bookingsynctest.WithPageSizeCap(2))
		f.srv.GenerateConversations(5)
		mustSync(t, f.s)
		ctx := context.Background()
		before, err := f.st.Cursor(ctx, acct, "conversations")
		if err != nil || before.IsZero() {
			t.Fatalf("cursor after the first pass: %v, %v", before, err)
		}
		f.srv.Advance(time.Second) // past the cursor's second
		for _, id := range []int64{11, 12, 13, 14} {
			f.srv.Touch("conversations", id) // four changed records: two pages
		}
		hc := f.srv.Client()
		hc.Transport = &hook{rt: hc.Transport, match: "inbox/conversations?", after: func() { f.srv.DeleteConversation(11) }}
		s := inboxsync.New(f.st, acct, newClient(t, f.srv, bookingsync.WithHTTPClient(hc)))
		rep := mustSync(t, s)
		if rr := rep.Resources[1]; rr.Resource != "conversations" || rr.Advanced || rr.Pages < 2 {
			t.Fatalf("conversations walk: %+v; want two pages or more and the cursor kept", rr)
		}
		if after, _ := f.st.Cursor(ctx, acct, "conversations"); !after.Equal(before) {
			t.Fatalf("cursor moved from %v to %v", before, after)
		}
		mustSync(t, f.s)
		if d := diff(serverState(t, f.c), localState(t, f.st)); d != "" {
			t.Fatal(d)
		}
	})
}

// Every application that created a stored conversation is read, however
// many there are and however small the pages of the id-list answer: the
// pass asks for every missing id and reads each answer to its last page.
func TestSyncReadsEveryApplication(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dsn string) {
		f := setup(t, dsn, bookingsynctest.WithPageCap("applications", 7))
		var apps []int64
		for i := range 120 { // more than one id-list GET names
			apps = append(apps, f.srv.AddApplication(fmt.Sprintf("Channel %d", i)))
		}
		f.srv.GenerateConversations(len(apps), apps...)
		rep := mustSync(t, f.s)
		ctx := context.Background()
		for _, id := range apps {
			if _, err := f.st.Application(ctx, acct, id); err != nil {
				t.Fatalf("application %d after one pass: %v", id, err)
			}
		}
		rr := rep.Resources[len(rep.Resources)-1]
		if rr.Resource != "applications" || rr.Upserted < len(apps) || rr.Pages < len(apps)/7 {
			t.Fatalf("applications: %+v; want %d or more upserted over %d pages or more", rr, len(apps), len(apps)/7)
		}
	})
}

// With the client's prefetch the pages of a walk are fetched at once, on
// other goroutines (run under -race): the pass still writes every record,
// counts each request once, and ends each page's span.
func TestSyncWithPrefetch(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dsn string) {
		f := setup(t, dsn, bookingsynctest.WithPageSizeCap(3))
		f.srv.GenerateConversations(60)
		tel := newTelemetry()
		c := newClient(t, f.srv, bookingsync.WithPrefetch(4))
		s := inboxsync.New(f.st, acct, c, inboxsync.WithTracerProvider(tel.tp))
		before := len(f.srv.Requests())
		rep := mustSync(t, s)
		if got := len(f.srv.Requests()) - before; rep.Requests != got {
			t.Errorf("the report counts %d requests; %d were sent", rep.Requests, got)
		}
		pages := 0
		for _, rr := range rep.Resources {
			if rr.Resource != "applications" {
				pages += rr.Pages
			}
			if rr.Resource == "conversations" && (rr.Pages < 20 || !rr.Advanced) {
				t.Errorf("conversations: %+v; want 20 pages or more and the cursor moved", rr)
			}
		}
		spans := 0
		for _, sp := range tel.spans.Ended() {
			if sp.Name() == "inboxsync.page" {
				spans++
			}
		}
		if spans < pages {
			t.Errorf("%d page spans ended; the pass wrote %d pages", spans, pages)
		}
		if d := diff(serverState(t, f.c), localState(t, f.st)); d != "" {
			t.Fatal(d)
		}
	})
}
