package bookingsync_test

import (
	"context"
	"fmt"
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
	require.NotNil(t, b.Links.Client, "booking's client link")
	assert.EqualValues(t, bookingsynctest.AirbnbClientID, *b.Links.Client)
	require.NotNil(t, b.Links.Rental, "booking's rental link")
	assert.EqualValues(t, bookingsynctest.OceanViewRentalID, *b.Links.Rental)
	g, _, err := c.Clients.Get(ctx, *b.Links.Client)
	require.NoError(t, err)
	assert.Equal(t, "Emma Dubois", g.Name())
	require.NotEmpty(t, g.Emails, "guest emails")
	assert.NotEmpty(t, g.Emails[0].Email, "guest's first email")
	rentals, _, err := c.Rentals.GetMany(ctx, []int64{bookingsynctest.OceanViewRentalID, bookingsynctest.OldTownRentalID})
	require.NoError(t, err)
	require.Len(t, rentals, 2)
	assert.Equal(t, "Ocean View Loft", rentals[0].Name)
	assert.Equal(t, "Old Town Apartment", rentals[1].Name)
	src, _, err := c.Sources.Get(ctx, bookingsynctest.AirbnbSourceID)
	require.NoError(t, err)
	assert.NotEmpty(t, src.Name, "source name")
	q, _, err := c.Inquiries.Get(ctx, bookingsynctest.InquiryID)
	require.NoError(t, err)
	assert.NotEmpty(t, q.Firstname, "inquiry first name")
	conv, _, err := c.Conversations.Get(ctx, bookingsynctest.ClosedConversationID)
	require.NoError(t, err)
	require.Len(t, conv.Links.Inquiries, 1, "conversation 13 inquiries")
	assert.EqualValues(t, bookingsynctest.InquiryID, conv.Links.Inquiries[0], "conversation 13 inquiry")

	me, _, err := c.Me(ctx)
	require.NoError(t, err)
	assert.EqualValues(t, srv.ID(), me.AccountID, "me's account")
	accounts, _, err := c.Accounts.List(ctx, nil)
	require.NoError(t, err)
	require.Len(t, accounts, 1)
	assert.Equal(t, me.AccountID, accounts[0].ID)
	assert.NotEmpty(t, accounts[0].BusinessName, "account business name")

	// Field limiting goes through.
	g, _, err = c.Clients.GetWith(ctx, bookingsynctest.AirbnbClientID, &bookingsync.GetOptions{Fields: []string{"fullname"}})
	require.NoError(t, err)
	assert.Equal(t, "Emma Dubois", g.Fullname, "limited guest")
	assert.Empty(t, g.Passport, "limited guest")
	assert.Empty(t, g.Emails, "limited guest")
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
			q, r := dir.Inquiry(conv), dir.Rental(conv)
			assert.False(t, q == nil || q.ID != bookingsynctest.InquiryID || r == nil || r.Name != "Ocean View Loft", "conversation 13: inquiry %+v, rental %+v", q, r)
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
		assert.True(t, dir.GuestSpokeLast(conv), "conversation %d: the guest spoke last", conv.ID)
		assert.NotNil(t, dir.LastMessage(conv), "conversation %d: last message", conv.ID)
	}
	// The applications are in the client's cache now.
	_, err = c.Conversations.Origin(ctx, convs[0])
	require.NoError(t, err)
	n = srv.RequestCount("GET", "applications")
	assert.EqualValues(t, 1, n, "application reads = %d, want 1", n)
}

// TestFakeDirectoryResolvesEveryRental: the API pages an id-list answer,
// rentals at 50 a page; the Directory of 60 conversations, each booked in
// a rental of its own, resolves all 60 rentals (one GetMany of 60 ids,
// read to its second page), and Rentals.GetMany returns every record.
func TestFakeDirectoryResolvesEveryRental(t *testing.T) {
	t.Parallel()
	srv, c := fakeClient(t, bookingsynctest.WithoutSeed())
	ctx := context.Background()
	var rentals []int64
	for i := range 60 {
		r := srv.AddRental(bookingsynctest.RentalSeed{Name: fmt.Sprint("Rental ", i)})
		b := srv.AddBooking(bookingsynctest.BookingSeed{RentalID: r})
		srv.AddConversationWithClient(bookingsynctest.ConversationSeed{Subject: fmt.Sprint("Stay ", i), BookingIDs: []int64{b}})
		rentals = append(rentals, r)
	}
	convs, _, err := c.Conversations.List(ctx, &bookingsync.ConversationListOptions{Include: []string{"participants", "messages"}})
	require.NoError(t, err)
	require.Len(t, convs, 60)
	srv.ResetRequests()
	dir, err := c.Directory(ctx, convs)
	require.NoError(t, err)
	for _, conv := range convs {
		assert.NotNil(t, dir.Rental(conv), "conversation %d: no rental", conv.ID)
	}
	assert.Equal(t, 2, srv.RequestCount("GET", "rentals/"), "the rentals' id list, two pages")

	got, _, err := c.Rentals.GetMany(ctx, rentals)
	require.NoError(t, err)
	assert.Len(t, got, 60)
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
	require.ErrorIs(t, err, bookingsync.ErrForbidden)
	require.ErrorAs(t, err, &se)
	require.Equal(t, bookingsync.ScopeClientsRead, se.Scope)
	convs, _, err := c.Conversations.List(ctx, &bookingsync.ConversationListOptions{Include: []string{"participants"}})
	require.NoError(t, err)
	dir, err := c.Directory(ctx, convs)
	require.ErrorAs(t, err, &se, "Directory")
	require.Equal(t, bookingsync.ScopeClientsRead, se.Scope, "Directory")
	for _, conv := range convs {
		if conv.ID == bookingsynctest.AirbnbConversationID {
			assert.Nil(t, dir.Guest(conv), "Airbnb conversation's guest")
			assert.NotNil(t, dir.Rental(conv), "Airbnb conversation's rental")
		}
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

// What a sidebar shows beside a conversation, read from the fake: the
// booking's notes and payments, the rental's calendar, a review and its
// reply.
func TestFakeSidebar(t *testing.T) {
	t.Parallel()
	srv, c := fakeClient(t)
	ctx := context.Background()
	b, _, err := c.Bookings.Get(ctx, bookingsynctest.AirbnbBookingID)
	require.NoError(t, err)
	pays, _, err := c.Payments.OfBooking(ctx, b)
	require.NoError(t, err)
	require.Len(t, pays, 1)
	assert.True(t, pays[0].Paid())
	assert.EqualValues(t, 135000, pays[0].AmountInCents)
	assert.Equal(t, "1350.0", b.PaidAmount.String())
	assert.Equal(t, -1, b.PaidAmount.Cmp(b.FinalPrice), "half paid")

	b81, _, err := c.Bookings.Get(ctx, bookingsynctest.BookingComBookingID)
	require.NoError(t, err)
	notes, _, err := c.BookingComments.GetMany(ctx, b81.Links.BookingComments)
	require.NoError(t, err)
	require.Len(t, notes, 1)
	assert.Contains(t, notes[0].Content, "Baby cot")
	none, resp, err := c.Payments.OfBooking(ctx, b81)
	require.NoError(t, err)
	assert.Empty(t, none)
	assert.Nil(t, resp, "no payments, no request")

	r, _, err := c.Rentals.GetWith(ctx, bookingsynctest.OceanViewRentalID, &bookingsync.GetOptions{Include: []string{"availability", "change_over"}})
	require.NoError(t, err)
	require.NotNil(t, r.Availability)
	require.NotNil(t, r.ChangeOver)
	assert.Equal(t, "weekly", r.PriceKind)
	night, ok := r.Availability.On(b.StartAt.Add(24 * time.Hour))
	require.True(t, ok)
	assert.Equal(t, byte('1'), night, "booked during booking 80")
	first, ok := r.ChangeOver.On(b.StartAt)
	require.True(t, ok)
	assert.Equal(t, byte('I'), first, "check-in only on its first day")
	list, _, err := c.Rentals.List(ctx, &bookingsync.ListOptions{Include: []string{"availability"}})
	require.NoError(t, err)
	require.NotEmpty(t, list)
	assert.NotNil(t, list[0].Availability)
	assert.Nil(t, list[0].ChangeOver)

	rev, _, err := c.Reviews.Get(ctx, bookingsynctest.ReviewID)
	require.NoError(t, err)
	reply, _, err := c.ReviewReplies.OfReview(ctx, rev)
	require.NoError(t, err)
	require.NotNil(t, reply)
	assert.Equal(t, rev.Links.Reply, reply.ID)
	assert.EqualValues(t, bookingsynctest.ReviewID, *reply.Links.GuestReview)

	// Comments written through the client come back on the booking.
	w, err := bookingsync.NewClient(bookingsync.WithBaseURL(srv.URL), bookingsync.WithToken(srv.IssueToken("bookings_read", "bookings_write")))
	require.NoError(t, err)
	bc, _, err := w.BookingComments.Create(ctx, &bookingsync.NewBookingComment{BookingID: b81.ID, Content: "Cot delivered"})
	require.NoError(t, err)
	b81, _, err = w.Bookings.Get(ctx, b81.ID)
	require.NoError(t, err)
	assert.Contains(t, b81.Links.BookingComments, bc.ID)
	_, _, err = c.BookingComments.Create(ctx, &bookingsync.NewBookingComment{BookingID: b81.ID, Content: "no scope"})
	assert.ErrorIs(t, err, bookingsync.ErrForbidden)
}
