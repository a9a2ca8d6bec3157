package bookingsync_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/go-bookingsync/bookingsync"
	"github.com/go-bookingsync/bookingsync/bookingsynctest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
)

// These tests run the SDK against bookingsynctest, the in-memory server
// that speaks the API's wire format: the whole path, end to end.

func fakeClient(t *testing.T, opts ...bookingsynctest.Option) (*bookingsynctest.Server, *bookingsync.Client) {
	t.Helper()
	srv := bookingsynctest.NewServer(opts...)
	t.Cleanup(srv.Close)
	c, err := bookingsync.NewClient(bookingsync.WithBaseURL(srv.URL), bookingsync.WithToken(srv.Token()))
	require.NoError(t, err)
	return srv, c
}

func TestFakeInboxFlow(t *testing.T) {
	t.Parallel()
	srv, c := fakeClient(t)
	ctx := context.Background()

	convs, resp, err := c.Conversations.List(ctx, &bookingsync.ConversationListOptions{Include: []string{"participants"}})
	require.NoError(t, err)
	assert.NotEmpty(t, resp.RequestID, "response request id")
	assert.Equal(t, 1000, resp.Rate.Limit, "response rate %+v", resp.Rate)
	var airbnb *bookingsync.Conversation
	for _, conv := range convs {
		if conv.ID == bookingsynctest.AirbnbConversationID {
			airbnb = conv
		}
	}
	require.NotNil(t, airbnb, "airbnb conversation")
	require.Len(t, airbnb.Participants, 2, "airbnb conversation's sideloaded participants")
	id, ok := airbnb.CreatedByApplication()
	assert.True(t, ok, "CreatedByApplication")
	assert.EqualValues(t, bookingsynctest.AirbnbAppID, id, "CreatedByApplication")
	origin, err := c.Conversations.Origin(ctx, airbnb)
	require.NoError(t, err)
	assert.Equal(t, bookingsync.ChannelAirbnb, origin.Channel)
	require.NotNil(t, origin.Application)
	assert.Equal(t, "Airbnb", origin.Application.Name)

	// EnsureHost reuses host 2's participant in the Airbnb conversation and
	// adds Maria once, however often it is asked.
	p, err := c.Participants.EnsureHost(ctx, airbnb.ID, bookingsynctest.HostJanID)
	require.NoError(t, err, "EnsureHost(Jan)")
	assert.EqualValues(t, bookingsynctest.AirbnbHostParticipantID, p.ID, "EnsureHost(Jan)")
	for range 2 {
		_, err := c.Participants.EnsureHost(ctx, airbnb.ID, bookingsynctest.HostMariaID)
		require.NoError(t, err)
	}
	n := srv.RequestCount("POST", "inbox/participants")
	assert.EqualValues(t, 1, n, "participant POSTs = %d, want 1", n)

	m, err := c.Messages.SendAsHost(ctx, airbnb.ID, bookingsynctest.HostMariaID, &bookingsync.NewMessage{Content: "Hello from Maria"})
	require.NoError(t, err)
	assert.Equal(t, airbnb.ID, m.Links.Conversation)
	assert.Equal(t, bookingsync.VisibilityExternal, m.Visibility)
	assert.NotNil(t, m.SentAt)

	// The Inbox rules: refused locally, nothing reaches the server.
	before := len(srv.Requests())
	_, _, err = c.Participants.Create(ctx, &bookingsync.NewParticipant{ConversationID: airbnb.ID, MemberID: 37, MemberType: "client"})
	assert.ErrorIs(t, err, bookingsync.ErrRefused, "Client participant: %v", err)
	req, _ := c.NewRequest(ctx, "POST", "inbox/conversations", map[string]any{"conversations": []any{map[string]any{"subject": "x"}}})
	_, err = c.Do(req, nil)
	assert.ErrorIs(t, err, bookingsync.ErrRefused, "conversation create: %v", err)
	_, _, err = c.Messages.Create(ctx, &bookingsync.NewMessage{ConversationID: airbnb.ID, SenderID: p.ID, Content: "x",
		Origin: bookingsync.OriginBookingSyncInbox, Visibility: bookingsync.VisibilityInternal, Channel: bookingsync.ChannelAirbnb})
	assert.ErrorIs(t, err, bookingsync.ErrInvalidRequest, "internal on a channel: %v", err)
	after := len(srv.Requests())
	assert.EqualValues(t, before, after, "refusals and validation sent %d requests", after-before)

	// A sender that is no participant is not sent: its member type is
	// read first, and the 404 stops the message.
	posts := srv.RequestCount("POST", "inbox/messages")
	_, _, err = c.Messages.Create(ctx, &bookingsync.NewMessage{ConversationID: airbnb.ID, SenderID: 999, Content: "x",
		Origin: bookingsync.OriginBookingSyncInbox, Visibility: bookingsync.VisibilityExternal})
	assert.ErrorIs(t, err, bookingsync.ErrNotFound, "unknown sender")
	assert.Equal(t, posts, srv.RequestCount("POST", "inbox/messages"), "unknown sender: POSTs")

	// The server's own validation arrives as a typed 422.
	_, _, err = c.Conversations.Update(ctx, airbnb.ID, &bookingsync.ConversationUpdate{AssigneeID: bookingsync.Ptr[int64](999)})
	var er *bookingsync.ErrorResponse
	assert.ErrorIs(t, err, bookingsync.ErrValidation, "unknown assignee")
	require.ErrorAs(t, err, &er, "unknown assignee")
	assert.NotEmpty(t, er.Errors, "unknown assignee")

	read, _, err := c.Participants.MarkRead(ctx, p.ID)
	require.NoError(t, err, "MarkRead")
	assert.NotNil(t, read.ReadAt, "MarkRead")
}

func TestFakeBookingsAndDelayedConversation(t *testing.T) {
	t.Parallel()
	// The delay is on the server's clock, which the test moves: no wall-time
	// race under a loaded machine.
	srv, c := fakeClient(t, bookingsynctest.WithConversationDelay(time.Hour))
	ctx := context.Background()

	convs, err := c.Bookings.Conversations(ctx, bookingsynctest.BookingComBookingID)
	require.NoError(t, err)
	require.Len(t, convs, 1)
	assert.EqualValues(t, bookingsynctest.BookingComConversationID, convs[0].ID)
	// The delayed booking's conversation is not there yet: one request.
	srv.ResetRequests()
	convs, err = c.Bookings.Conversations(ctx, bookingsynctest.DelayedBookingID)
	require.NoError(t, err, "before the delay")
	assert.Empty(t, convs, "before the delay")
	assert.Len(t, srv.Requests(), 1, "before the delay: requests")
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	go func() { time.Sleep(60 * time.Millisecond); srv.Advance(time.Hour) }() // while the wait polls
	convs, err = c.Bookings.WaitForConversations(wctx, bookingsynctest.DelayedBookingID, 20*time.Millisecond)
	require.NoError(t, err, "WaitForConversations")
	require.Len(t, convs, 1, "WaitForConversations")
	assert.EqualValues(t, bookingsynctest.DelayedConversationID, convs[0].ID, "WaitForConversations")

	var n int
	for b, err := range c.Bookings.All(ctx, &bookingsync.BookingListOptions{Status: []bookingsync.BookingStatus{bookingsync.BookingStatusBooked}}) {
		require.NoError(t, err)
		assert.Equal(t, bookingsync.BookingStatusBooked, b.Status, "booking %d", b.ID)
		assert.True(t, b.FinalPrice.Valid(), "booking %d: final price %q", b.ID, b.FinalPrice)
		n++
	}
	assert.False(t, n < 3, "booked future bookings = %d, want at least 3", n)
}

func TestFakeIncrementalSync(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	now := time.Now().UTC().Truncate(time.Second)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	srv, c := fakeClient(t, bookingsynctest.WithClock(clock))
	ctx := context.Background()
	srv.GenerateConversations(250, bookingsynctest.AirbnbAppID)

	advance(10 * time.Second)
	first, err := bookingsync.SyncAll(ctx, time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), nil, c.Conversations.List)
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(first.Items), 250, "first walk: items")
	require.GreaterOrEqual(t, first.Pages, 3, "first walk: pages")
	require.True(t, first.SyncedAt.Equal(now), "first walk: cursor %v, want now %v", first.SyncedAt, now)
	advance(10 * time.Second)
	srv.Touch("conversations", bookingsynctest.AirbnbConversationID)
	srv.DeleteConversation(bookingsynctest.BookingComConversationID)
	advance(10 * time.Second)
	second, err := bookingsync.SyncAll(ctx, first.SyncedAt, nil, c.Conversations.List)
	require.NoError(t, err)
	require.Len(t, second.Items, 1, "second walk items")
	assert.EqualValues(t, bookingsynctest.AirbnbConversationID, second.Items[0].ID, "second walk item")
	require.Len(t, second.DeletedIDs, 1, "second walk deleted ids")
	assert.EqualValues(t, bookingsynctest.BookingComConversationID, second.DeletedIDs[0], "second walk deleted id")
	assert.True(t, second.SyncedAt.Equal(now), "cursor = %v, want the server's %v", second.SyncedAt, now)
}

func TestFakeErrors(t *testing.T) {
	t.Parallel()
	srv, _ := fakeClient(t, bookingsynctest.WithScopes("public", "inbox_read"))
	ctx := context.Background()

	bad, _ := bookingsync.NewClient(bookingsync.WithBaseURL(srv.URL), bookingsync.WithToken("wrong"))
	_, _, err := bad.Conversations.List(ctx, nil)
	var er *bookingsync.ErrorResponse
	assert.ErrorIs(t, err, bookingsync.ErrUnauthorized, "wrong token")
	require.ErrorAs(t, err, &er, "wrong token")
	assert.Equal(t, "invalid_token", er.AuthError, "wrong token")

	readOnly, _ := bookingsync.NewClient(bookingsync.WithBaseURL(srv.URL), bookingsync.WithToken(srv.Token()))
	_, _, err = readOnly.Hosts.Create(ctx, &bookingsync.NewHost{Firstname: "A", Lastname: "B"})
	assert.ErrorIs(t, err, bookingsync.ErrForbidden, "missing scope: %v", err)
	_, _, err = readOnly.Conversations.Get(ctx, 999999)
	assert.ErrorIs(t, err, bookingsync.ErrNotFound, "unknown id: %v", err)

	srv.SetRateLimit(1000, 0)
	_, _, err = readOnly.Conversations.List(ctx, nil)
	var rle *bookingsync.RateLimitError
	require.ErrorAs(t, err, &rle, "spent budget")
	assert.False(t, rle.Rate.Reset.IsZero(), "spent budget: no reset time")
}

func TestFakeOAuthAndWebhook(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var cb *httptest.Server
	got := make(chan url.Values, 1)
	cb = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got <- r.URL.Query() }))
	defer cb.Close()
	srv, _ := fakeClient(t, bookingsynctest.WithOAuthClient("cid", "csecret", cb.URL+"/callback"))

	cfg := &oauth2.Config{ClientID: "cid", ClientSecret: "csecret", RedirectURL: cb.URL + "/callback",
		Scopes: []string{bookingsync.ScopeInboxRead, bookingsync.ScopeInboxWrite}, Endpoint: bookingsync.Endpoint(srv.URL)}
	resp, err := http.Get(cfg.AuthCodeURL("st8", bookingsync.AccountID(bookingsynctest.AccountID)))
	require.NoError(t, err)
	resp.Body.Close()
	q := <-got
	require.Equal(t, "st8", q.Get("state"), "callback query: %v", q)
	require.NotEmpty(t, q.Get("code"), "callback query: %v", q)
	tok, err := cfg.Exchange(ctx, q.Get("code"))
	require.NoError(t, err)
	store := bookingsync.NewFileTokenStore(filepath.Join(t.TempDir(), "token.json"))
	require.NoError(t, store.Save(ctx, tok))
	c, err := bookingsync.NewClient(bookingsync.WithBaseURL(srv.URL), bookingsync.WithTokenSource(bookingsync.NewStoredTokenSource(ctx, cfg, store)))
	require.NoError(t, err)
	// The server revokes the access token: the client refreshes once,
	// saves the rotated refresh token, and carries on.
	srv.RevokeToken(tok.AccessToken)
	_, _, err = c.Conversations.Get(ctx, bookingsynctest.AirbnbConversationID)
	require.NoError(t, err)
	saved, err := store.Load(ctx)
	require.NoError(t, err, "after refresh")
	assert.True(t, saved.RefreshToken != tok.RefreshToken, "after refresh: saved refresh token not rotated") // no token in the output
	assert.Equal(t, 1, srv.RefreshCount(), "after refresh: refreshes")

	// A signed delivery from the fake reaches the SDK's handler verified
	// and typed.
	events := make(chan *bookingsync.WebhookEvent, 1)
	hook := httptest.NewServer(bookingsync.NewWebhookHandler("csecret", func(_ context.Context, ev *bookingsync.WebhookEvent) error {
		events <- ev
		return nil
	}))
	defer hook.Close()
	require.NoError(t, srv.SendWebhook(ctx, hook.URL, bookingsync.EventInboxConversationCreated, srv.ConversationResource(bookingsynctest.AirbnbConversationID)))
	ev := <-events
	conv, err := ev.Conversation()
	require.NoError(t, err, "webhook conversation")
	assert.EqualValues(t, bookingsynctest.AirbnbConversationID, conv.ID, "webhook conversation")
	assert.EqualValues(t, bookingsynctest.AccountID, ev.AccountID, "webhook account")
}

func TestFakeEnsureHostForUsesSideloadedParticipants(t *testing.T) {
	t.Parallel()
	srv, c := fakeClient(t)
	ctx := context.Background()
	convs, _, err := c.Conversations.List(ctx, &bookingsync.ConversationListOptions{Include: []string{"participants"}})
	require.NoError(t, err)
	byID := map[int64]*bookingsync.Conversation{}
	for _, conv := range convs {
		byID[conv.ID] = conv
	}
	srv.ResetRequests()

	// Host 2 is already in the Airbnb conversation: no request at all.
	p, err := c.Participants.EnsureHostFor(ctx, byID[bookingsynctest.AirbnbConversationID], bookingsynctest.HostJanID)
	require.NoError(t, err, "present")
	assert.EqualValues(t, bookingsynctest.AirbnbHostParticipantID, p.ID, "present")
	assert.Empty(t, srv.Requests(), "present: requests")
	// Absent from the Booking.com conversation: one POST, no read.
	p, err = c.Participants.EnsureHostFor(ctx, byID[bookingsynctest.BookingComConversationID], bookingsynctest.HostJanID)
	require.NoError(t, err, "absent")
	assert.True(t, p.IsHost(), "absent: %+v is not a host", p)
	assert.Len(t, srv.Requests(), 1, "absent: requests")
	assert.Equal(t, 1, srv.RequestCount("POST", "inbox/participants"), "absent: POSTs")
	// Without sideloaded participants it reads them, as EnsureHost does.
	bare := &bookingsync.Conversation{ID: bookingsynctest.BookingComConversationID}
	again, err := c.Participants.EnsureHostFor(ctx, bare, bookingsynctest.HostJanID)
	require.NoError(t, err, "bare")
	assert.Equal(t, p.ID, again.ID, "bare")
	assert.Equal(t, 1, srv.RequestCount("POST", "inbox/participants"), "bare: POSTs")
	assert.Equal(t, 1, srv.RequestCount("GET", "inbox/conversations"), "bare: conversation reads")
	_, err = c.Participants.EnsureHostFor(ctx, nil, 2)
	assert.ErrorIs(t, err, bookingsync.ErrInvalidRequest, "nil conversation: %v", err)
}
