package bookingsync_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/go-bookingsync/bookingsync"
	"github.com/go-bookingsync/bookingsync/bookingsynctest"
	"golang.org/x/oauth2"
)

// These tests run the SDK against bookingsynctest, the in-memory server
// that speaks the API's wire format: the whole path, end to end.

func fakeClient(t *testing.T, opts ...bookingsynctest.Option) (*bookingsynctest.Server, *bookingsync.Client) {
	t.Helper()
	srv := bookingsynctest.NewServer(opts...)
	t.Cleanup(srv.Close)
	c, err := bookingsync.NewClient(bookingsync.WithBaseURL(srv.URL), bookingsync.WithToken(srv.Token()))
	if err != nil {
		t.Fatal(err)
	}
	return srv, c
}

func TestFakeInboxFlow(t *testing.T) {
	srv, c := fakeClient(t)
	ctx := context.Background()

	convs, resp, err := c.Conversations.List(ctx, &bookingsync.ConversationListOptions{Include: []string{"participants"}})
	if err != nil {
		t.Fatal(err)
	}
	if resp.RequestID == "" || resp.Rate.Limit != 1000 {
		t.Errorf("response headers: request id %q, rate %+v", resp.RequestID, resp.Rate)
	}
	var airbnb *bookingsync.Conversation
	for _, conv := range convs {
		if conv.ID == bookingsynctest.AirbnbConversationID {
			airbnb = conv
		}
	}
	if airbnb == nil || len(airbnb.Participants) != 2 {
		t.Fatalf("airbnb conversation with sideloaded participants: %+v", airbnb)
	}
	if id, ok := airbnb.CreatedByApplication(); !ok || id != bookingsynctest.AirbnbAppID {
		t.Errorf("CreatedByApplication = %d, %v", id, ok)
	}
	origin, err := c.Conversations.Origin(ctx, airbnb)
	if err != nil || origin.Channel != bookingsync.ChannelAirbnb || origin.Application == nil || origin.Application.Name != "Airbnb" {
		t.Fatalf("origin = %+v, %v", origin, err)
	}

	// EnsureHost reuses host 2's participant in the Airbnb conversation and
	// adds Maria once, however often it is asked.
	p, err := c.Participants.EnsureHost(ctx, airbnb.ID, bookingsynctest.HostJanID)
	if err != nil || p.ID != bookingsynctest.AirbnbHostParticipantID {
		t.Fatalf("EnsureHost(Jan) = %+v, %v", p, err)
	}
	for range 2 {
		if _, err := c.Participants.EnsureHost(ctx, airbnb.ID, bookingsynctest.HostMariaID); err != nil {
			t.Fatal(err)
		}
	}
	if n := srv.RequestCount("POST", "inbox/participants"); n != 1 {
		t.Errorf("participant POSTs = %d, want 1", n)
	}

	m, err := c.Messages.SendAsHost(ctx, airbnb.ID, bookingsynctest.HostMariaID, &bookingsync.NewMessage{Content: "Hello from Maria"})
	if err != nil {
		t.Fatal(err)
	}
	if m.Links.Conversation != airbnb.ID || m.Visibility != bookingsync.VisibilityExternal || m.SentAt == nil {
		t.Errorf("message = %+v", m)
	}

	// The Inbox rules: refused locally, nothing reaches the server.
	before := len(srv.Requests())
	_, _, err = c.Participants.Create(ctx, &bookingsync.NewParticipant{ConversationID: airbnb.ID, MemberID: 37, MemberType: "client"})
	if !errors.Is(err, bookingsync.ErrRefused) {
		t.Errorf("Client participant: %v", err)
	}
	req, _ := c.NewRequest(ctx, "POST", "inbox/conversations", map[string]any{"conversations": []any{map[string]any{"subject": "x"}}})
	if _, err := c.Do(req, nil); !errors.Is(err, bookingsync.ErrRefused) {
		t.Errorf("conversation create: %v", err)
	}
	_, _, err = c.Messages.Create(ctx, &bookingsync.NewMessage{ConversationID: airbnb.ID, SenderID: p.ID, Content: "x",
		Origin: bookingsync.OriginBookingSyncInbox, Visibility: bookingsync.VisibilityInternal, Channel: bookingsync.ChannelAirbnb})
	if !errors.Is(err, bookingsync.ErrInvalidRequest) {
		t.Errorf("internal on a channel: %v", err)
	}
	if after := len(srv.Requests()); after != before {
		t.Errorf("refusals and validation sent %d requests", after-before)
	}

	// A sender that is no participant is not sent: its member type is
	// read first, and the 404 stops the message.
	posts := srv.RequestCount("POST", "inbox/messages")
	_, _, err = c.Messages.Create(ctx, &bookingsync.NewMessage{ConversationID: airbnb.ID, SenderID: 999, Content: "x",
		Origin: bookingsync.OriginBookingSyncInbox, Visibility: bookingsync.VisibilityExternal})
	if !errors.Is(err, bookingsync.ErrNotFound) || srv.RequestCount("POST", "inbox/messages") != posts {
		t.Errorf("unknown sender: %v", err)
	}

	// The server's own validation arrives as a typed 422.
	_, _, err = c.Conversations.Update(ctx, airbnb.ID, &bookingsync.ConversationUpdate{AssigneeID: bookingsync.Ptr[int64](999)})
	var er *bookingsync.ErrorResponse
	if !errors.Is(err, bookingsync.ErrValidation) || !errors.As(err, &er) || len(er.Errors) == 0 {
		t.Errorf("unknown assignee: %v", err)
	}

	read, _, err := c.Participants.MarkRead(ctx, p.ID)
	if err != nil || read.ReadAt == nil {
		t.Errorf("MarkRead = %+v, %v", read, err)
	}
}

func TestFakeBookingsAndDelayedConversation(t *testing.T) {
	srv, c := fakeClient(t, bookingsynctest.WithConversationDelay(150*time.Millisecond))
	ctx := context.Background()

	convs, err := c.Bookings.Conversations(ctx, bookingsynctest.BookingComBookingID)
	if err != nil || len(convs) != 1 || convs[0].ID != bookingsynctest.BookingComConversationID {
		t.Fatalf("Conversations = %v, %v", convs, err)
	}
	// The delayed booking's conversation is not there yet: one request.
	srv.ResetRequests()
	convs, err = c.Bookings.Conversations(ctx, bookingsynctest.DelayedBookingID)
	if err != nil || len(convs) != 0 || len(srv.Requests()) != 1 {
		t.Fatalf("before the delay: %v, %v, %d requests", convs, err, len(srv.Requests()))
	}
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	convs, err = c.Bookings.WaitForConversations(wctx, bookingsynctest.DelayedBookingID, 20*time.Millisecond)
	if err != nil || len(convs) != 1 || convs[0].ID != bookingsynctest.DelayedConversationID {
		t.Fatalf("WaitForConversations = %v, %v", convs, err)
	}

	var n int
	for b, err := range c.Bookings.All(ctx, &bookingsync.BookingListOptions{Status: []bookingsync.BookingStatus{bookingsync.BookingStatusBooked}}) {
		if err != nil {
			t.Fatal(err)
		}
		if b.Status != bookingsync.BookingStatusBooked || !b.FinalPrice.Valid() {
			t.Errorf("booking %d: status %q, final price %q", b.ID, b.Status, b.FinalPrice)
		}
		n++
	}
	if n < 3 {
		t.Errorf("booked future bookings = %d, want at least 3", n)
	}
}

func TestFakeIncrementalSync(t *testing.T) {
	var mu sync.Mutex
	now := time.Now().UTC().Truncate(time.Second)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	srv, c := fakeClient(t, bookingsynctest.WithClock(clock))
	ctx := context.Background()
	srv.GenerateConversations(250, bookingsynctest.AirbnbAppID)

	advance(10 * time.Second)
	first, err := bookingsync.SyncAll(ctx, time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), nil, c.Conversations.List)
	if err != nil {
		t.Fatal(err)
	}
	if len(first.Items) < 250 || first.Pages < 3 || !first.SyncedAt.Equal(now) {
		t.Fatalf("first walk: %d items, %d pages, cursor %v (now %v)", len(first.Items), first.Pages, first.SyncedAt, now)
	}
	advance(10 * time.Second)
	srv.Touch("conversations", bookingsynctest.AirbnbConversationID)
	srv.DeleteConversation(bookingsynctest.BookingComConversationID)
	advance(10 * time.Second)
	second, err := bookingsync.SyncAll(ctx, first.SyncedAt, nil, c.Conversations.List)
	if err != nil {
		t.Fatal(err)
	}
	if len(second.Items) != 1 || second.Items[0].ID != bookingsynctest.AirbnbConversationID {
		t.Errorf("second walk items: %d", len(second.Items))
	}
	if len(second.DeletedIDs) != 1 || second.DeletedIDs[0] != bookingsynctest.BookingComConversationID {
		t.Errorf("deleted ids: %v", second.DeletedIDs)
	}
	if !second.SyncedAt.Equal(now) {
		t.Errorf("cursor = %v, want the server's %v", second.SyncedAt, now)
	}
}

func TestFakeErrors(t *testing.T) {
	srv, _ := fakeClient(t, bookingsynctest.WithScopes("public", "inbox_read"))
	ctx := context.Background()

	bad, _ := bookingsync.NewClient(bookingsync.WithBaseURL(srv.URL), bookingsync.WithToken("wrong"))
	_, _, err := bad.Conversations.List(ctx, nil)
	var er *bookingsync.ErrorResponse
	if !errors.Is(err, bookingsync.ErrUnauthorized) || !errors.As(err, &er) || er.AuthError != "invalid_token" {
		t.Errorf("wrong token: %v", err)
	}

	readOnly, _ := bookingsync.NewClient(bookingsync.WithBaseURL(srv.URL), bookingsync.WithToken(srv.Token()))
	_, _, err = readOnly.Hosts.Create(ctx, &bookingsync.NewHost{Firstname: "A", Lastname: "B"})
	if !errors.Is(err, bookingsync.ErrForbidden) {
		t.Errorf("missing scope: %v", err)
	}
	_, _, err = readOnly.Conversations.Get(ctx, 999999)
	if !errors.Is(err, bookingsync.ErrNotFound) {
		t.Errorf("unknown id: %v", err)
	}

	srv.SetRateLimit(1000, 0)
	_, _, err = readOnly.Conversations.List(ctx, nil)
	var rle *bookingsync.RateLimitError
	if !errors.As(err, &rle) || rle.Rate.Reset.IsZero() {
		t.Errorf("spent budget: %v", err)
	}
}

func TestFakeOAuthAndWebhook(t *testing.T) {
	ctx := context.Background()
	var cb *httptest.Server
	got := make(chan url.Values, 1)
	cb = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got <- r.URL.Query() }))
	defer cb.Close()
	srv, _ := fakeClient(t, bookingsynctest.WithOAuthClient("cid", "csecret", cb.URL+"/callback"))

	cfg := &oauth2.Config{ClientID: "cid", ClientSecret: "csecret", RedirectURL: cb.URL + "/callback",
		Scopes: []string{bookingsync.ScopeInboxRead, bookingsync.ScopeInboxWrite}, Endpoint: bookingsync.Endpoint(srv.URL)}
	resp, err := http.Get(cfg.AuthCodeURL("st8", bookingsync.AccountID(bookingsynctest.AccountID)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	q := <-got
	if q.Get("state") != "st8" || q.Get("code") == "" {
		t.Fatalf("callback query: %v", q)
	}
	tok, err := cfg.Exchange(ctx, q.Get("code"))
	if err != nil {
		t.Fatal(err)
	}
	store := bookingsync.NewFileTokenStore(filepath.Join(t.TempDir(), "token.json"))
	if err := store.Save(ctx, tok); err != nil {
		t.Fatal(err)
	}
	c, err := bookingsync.NewClient(bookingsync.WithBaseURL(srv.URL), bookingsync.WithTokenSource(bookingsync.NewStoredTokenSource(ctx, cfg, store)))
	if err != nil {
		t.Fatal(err)
	}
	// The server revokes the access token: the client refreshes once,
	// saves the rotated refresh token, and carries on.
	srv.RevokeToken(tok.AccessToken)
	if _, _, err := c.Conversations.Get(ctx, bookingsynctest.AirbnbConversationID); err != nil {
		t.Fatal(err)
	}
	saved, err := store.Load(ctx)
	if err != nil || saved.RefreshToken == tok.RefreshToken || srv.RefreshCount() != 1 {
		t.Errorf("after refresh: saved rotated=%v, refreshes %d, err %v", saved != nil && saved.RefreshToken != tok.RefreshToken, srv.RefreshCount(), err)
	}

	// A signed delivery from the fake reaches the SDK's handler verified
	// and typed.
	events := make(chan *bookingsync.WebhookEvent, 1)
	hook := httptest.NewServer(bookingsync.NewWebhookHandler("csecret", func(_ context.Context, ev *bookingsync.WebhookEvent) error {
		events <- ev
		return nil
	}))
	defer hook.Close()
	if err := srv.SendWebhook(ctx, hook.URL, bookingsync.EventInboxConversationCreated, srv.ConversationResource(bookingsynctest.AirbnbConversationID)); err != nil {
		t.Fatal(err)
	}
	ev := <-events
	conv, err := ev.Conversation()
	if err != nil || conv.ID != bookingsynctest.AirbnbConversationID || ev.AccountID != bookingsynctest.AccountID {
		t.Errorf("webhook conversation = %+v, %v", conv, err)
	}
}

func TestFakeEnsureHostForUsesSideloadedParticipants(t *testing.T) {
	srv, c := fakeClient(t)
	ctx := context.Background()
	convs, _, err := c.Conversations.List(ctx, &bookingsync.ConversationListOptions{Include: []string{"participants"}})
	if err != nil {
		t.Fatal(err)
	}
	byID := map[int64]*bookingsync.Conversation{}
	for _, conv := range convs {
		byID[conv.ID] = conv
	}
	srv.ResetRequests()

	// Host 2 is already in the Airbnb conversation: no request at all.
	p, err := c.Participants.EnsureHostFor(ctx, byID[bookingsynctest.AirbnbConversationID], bookingsynctest.HostJanID)
	if err != nil || p.ID != bookingsynctest.AirbnbHostParticipantID || len(srv.Requests()) != 0 {
		t.Fatalf("present: %+v, %v, %d requests", p, err, len(srv.Requests()))
	}
	// Absent from the Booking.com conversation: one POST, no read.
	p, err = c.Participants.EnsureHostFor(ctx, byID[bookingsynctest.BookingComConversationID], bookingsynctest.HostJanID)
	if err != nil || !p.IsHost() || len(srv.Requests()) != 1 || srv.RequestCount("POST", "inbox/participants") != 1 {
		t.Fatalf("absent: %+v, %v, %d requests", p, err, len(srv.Requests()))
	}
	// Without sideloaded participants it reads them, as EnsureHost does.
	bare := &bookingsync.Conversation{ID: bookingsynctest.BookingComConversationID}
	again, err := c.Participants.EnsureHostFor(ctx, bare, bookingsynctest.HostJanID)
	if err != nil || again.ID != p.ID || srv.RequestCount("POST", "inbox/participants") != 1 || srv.RequestCount("GET", "inbox/conversations") != 1 {
		t.Fatalf("bare: %+v, %v", again, err)
	}
	if _, err := c.Participants.EnsureHostFor(ctx, nil, 2); !errors.Is(err, bookingsync.ErrInvalidRequest) {
		t.Errorf("nil conversation: %v", err)
	}
}
