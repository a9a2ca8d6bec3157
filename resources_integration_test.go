package bookingsync_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/go-bookingsync/bookingsync"
	"github.com/go-bookingsync/bookingsync/bookingsynctest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The resources around the Inbox, against the fake: the links between
// bookings, Client participants, guests and rentals hold end to end.

func TestFakeResourcesAroundTheInbox(t *testing.T) {
	t.Parallel()
	srv, c := fakeClient(t)
	ctx := context.Background()

	b, _, err := c.Bookings.Get(ctx, bookingsynctest.AirbnbBookingID)
	require.NoError(t, err)
	require.False(t, b.Links.Client == nil || *b.Links.Client != bookingsynctest.AirbnbClientID || b.Links.Rental == nil || *b.Links.Rental != bookingsynctest.OceanViewRentalID, "booking links: %+v", b.Links)
	g, _, err := c.Clients.Get(ctx, *b.Links.Client)
	require.False(t, err != nil || g.Name() != "Emma Dubois" || len(g.Emails) == 0 || g.Emails[0].Email == "", "guest = %+v, %v", g, err)
	rentals, _, err := c.Rentals.GetMany(ctx, []int64{bookingsynctest.OceanViewRentalID, bookingsynctest.OldTownRentalID})
	require.False(t, err != nil || len(rentals) != 2 || rentals[0].Name != "Ocean View Loft" || rentals[1].Name != "Old Town Apartment", "rentals = %+v, %v", rentals, err)
	src, _, err := c.Sources.Get(ctx, bookingsynctest.AirbnbSourceID)
	require.False(t, err != nil || src.Name == "", "source = %+v, %v", src, err)
	q, _, err := c.Inquiries.Get(ctx, bookingsynctest.InquiryID)
	require.False(t, err != nil || q.Firstname == "", "inquiry = %+v, %v", q, err)
	conv, _, err := c.Conversations.Get(ctx, bookingsynctest.ClosedConversationID)
	require.False(t, err != nil || len(conv.Links.Inquiries) != 1 || conv.Links.Inquiries[0] != bookingsynctest.InquiryID, "conversation 13 inquiries: %+v, %v", conv, err)

	me, _, err := c.Me(ctx)
	require.False(t, err != nil || me.AccountID != srv.ID(), "me = %+v, %v; want account %d", me, err, srv.ID())
	accounts, _, err := c.Accounts.List(ctx, nil)
	require.False(t, err != nil || len(accounts) != 1 || accounts[0].ID != me.AccountID || accounts[0].BusinessName == "", "accounts = %+v, %v", accounts, err)

	// Field limiting goes through.
	g, _, err = c.Clients.GetWith(ctx, bookingsynctest.AirbnbClientID, &bookingsync.GetOptions{Fields: []string{"fullname"}})
	require.False(t, err != nil || g.Fullname != "Emma Dubois" || g.Passport != "" || len(g.Emails) != 0, "limited guest = %+v, %v", g, err)
	var n int
	for g, err := range c.Clients.All(ctx, &bookingsync.ListOptions{PerPage: 2}) {
		require.NoError(t, err)
		require.False(t, g.ID <= 0, "guest %+v", g)
		n++
	}
	assert.False(t, n < 2, "All listed %d guests", n)
}

// A page of conversations resolves in one GetMany per resource.
func TestFakeDirectory(t *testing.T) {
	t.Parallel()
	srv, c := fakeClient(t)
	ctx := context.Background()
	convs, _, err := c.Conversations.List(ctx, &bookingsync.ConversationListOptions{Include: []string{"participants", "messages"}})
	require.NoError(t, err)
	srv.ResetRequests()
	dir, err := c.Directory(ctx, convs)
	require.NoError(t, err)
	n := len(srv.Requests())
	assert.EqualValues(t, 5, n, "Directory made %d requests, want 5 (bookings, inquiries, applications, clients, rentals): %+v", n, srv.Requests())
	want := map[int64][3]string{
		bookingsynctest.AirbnbConversationID:     {"Emma Dubois", "Ocean View Loft", "airbnb"},
		bookingsynctest.BookingComConversationID: {"Lukas Weber", "Old Town Apartment", "booking-com"},
	}
	for _, conv := range convs {
		// The closed e-mail conversation has an inquiry, no booking.
		if conv.ID == bookingsynctest.ClosedConversationID {
			if q, r := dir.Inquiry(conv), dir.Rental(conv); q == nil || q.ID != bookingsynctest.InquiryID || r == nil || r.Name != "Ocean View Loft" {
				t.Errorf("conversation 13: inquiry %+v, rental %+v", q, r)
			}
		}
	}
	for _, conv := range convs {
		w, ok := want[conv.ID]
		if !ok {
			continue
		}
		var rental string
		if r := dir.Rental(conv); r != nil {
			rental = r.Name
		}
		got := [3]string{dir.Guest(conv).Name(), rental, string(dir.Channel(conv))}
		assert.EqualValues(t, w, got, "conversation %d: %q, want %q", conv.ID, got, w)
		assert.False(t, !dir.GuestSpokeLast(conv) || dir.LastMessage(conv) == nil, "conversation %d: the guest spoke last", conv.ID)
	}
	// The applications are in the client's cache now.
	_, err = c.Conversations.Origin(ctx, convs[0])
	require.NoError(t, err)
	n = srv.RequestCount("GET", "applications")
	assert.EqualValues(t, 1, n, "application reads = %d, want 1", n)
}

// Without clients_read, reading guests fails with an error that names the
// scope, and the Directory says so too.
func TestFakeMissingScopeIsNamed(t *testing.T) {
	t.Parallel()
	srv := bookingsynctest.NewServer()
	defer srv.Close()
	tok := srv.IssueToken(bookingsync.ScopeInboxRead, bookingsync.ScopeBookingsRead, bookingsync.ScopeApplicationsRead, bookingsync.ScopeRentalsRead, bookingsync.ScopeInquiriesRead)
	c, err := bookingsync.NewClient(bookingsync.WithBaseURL(srv.URL), bookingsync.WithToken(tok))
	require.NoError(t, err)
	ctx := context.Background()
	_, _, err = c.Clients.Get(ctx, bookingsynctest.AirbnbClientID)
	var se *bookingsync.ScopeError
	require.False(t, !errors.Is(err, bookingsync.ErrForbidden) || !errors.As(err, &se) || se.Scope != bookingsync.ScopeClientsRead, "err = %v", err)
	convs, _, err := c.Conversations.List(ctx, &bookingsync.ConversationListOptions{Include: []string{"participants"}})
	require.NoError(t, err)
	dir, err := c.Directory(ctx, convs)
	require.False(t, !errors.As(err, &se) || se.Scope != bookingsync.ScopeClientsRead, "Directory err = %v", err)
	for _, conv := range convs {
		assert.False(t, conv.ID == bookingsynctest.AirbnbConversationID && (dir.Guest(conv) != nil || dir.Rental(conv) == nil), "guest %+v, rental %+v", dir.Guest(conv), dir.Rental(conv))
	}
}

// A client-credentials token lists every account that installed the
// application, and with updated_since also those that uninstalled it.
func TestFakeAccountsWithClientCredentials(t *testing.T) {
	t.Parallel()
	srv := bookingsynctest.NewServer(bookingsynctest.WithAccounts(3))
	defer srv.Close()
	c, err := bookingsync.NewClient(bookingsync.WithBaseURL(srv.URL), bookingsync.WithToken(srv.IssueClientCredentialsToken()))
	require.NoError(t, err)
	ctx := context.Background()
	var ids []int64
	for a, err := range c.Accounts.All(ctx, nil) {
		require.NoError(t, err)
		ids = append(ids, a.ID)
	}
	require.Len(t, ids, 3, "accounts = %v, want 3", ids)
	since := srv.Now()
	srv.Advance(time.Minute)
	gone := srv.Accounts()[1]
	require.True(t, gone.Uninstall(), "uninstall")
	_, resp, err := c.Accounts.List(ctx, &bookingsync.ListOptions{UpdatedSince: since})
	require.NoError(t, err)
	seen := false
	for _, id := range resp.Meta.DeletedIDs {
		seen = seen || id == gone.ID()
	}
	list, _, err := c.Accounts.List(ctx, nil)
	require.NoError(t, err)
	for _, a := range list {
		assert.NotEqual(t, gone.ID(), a.ID, "the uninstalled account %d is still listed", a.ID)
	}
	assert.True(t, seen, "deleted_ids %v lack the uninstalled account %d", resp.Meta.DeletedIDs, gone.ID())
}
