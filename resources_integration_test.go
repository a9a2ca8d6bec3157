package bookingsync_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/go-bookingsync/bookingsync"
	"github.com/go-bookingsync/bookingsync/bookingsynctest"
)

// The resources around the Inbox, against the fake: the links between
// bookings, Client participants, guests and rentals hold end to end.

func TestFakeResourcesAroundTheInbox(t *testing.T) {
	srv, c := fakeClient(t)
	ctx := context.Background()

	b, _, err := c.Bookings.Get(ctx, bookingsynctest.AirbnbBookingID)
	if err != nil {
		t.Fatal(err)
	}
	if b.Links.Client == nil || *b.Links.Client != bookingsynctest.AirbnbClientID || b.Links.Rental == nil || *b.Links.Rental != bookingsynctest.OceanViewRentalID {
		t.Fatalf("booking links: %+v", b.Links)
	}
	g, _, err := c.Clients.Get(ctx, *b.Links.Client)
	if err != nil || g.Name() != "Emma Dubois" || len(g.Emails) == 0 || g.Emails[0].Email == "" {
		t.Fatalf("guest = %+v, %v", g, err)
	}
	rentals, _, err := c.Rentals.GetMany(ctx, []int64{bookingsynctest.OceanViewRentalID, bookingsynctest.OldTownRentalID})
	if err != nil || len(rentals) != 2 || rentals[0].Name != "Ocean View Loft" || rentals[1].Name != "Old Town Apartment" {
		t.Fatalf("rentals = %+v, %v", rentals, err)
	}
	src, _, err := c.Sources.Get(ctx, bookingsynctest.AirbnbSourceID)
	if err != nil || src.Name == "" {
		t.Fatalf("source = %+v, %v", src, err)
	}
	q, _, err := c.Inquiries.Get(ctx, bookingsynctest.InquiryID)
	if err != nil || q.Firstname == "" {
		t.Fatalf("inquiry = %+v, %v", q, err)
	}
	conv, _, err := c.Conversations.Get(ctx, bookingsynctest.ClosedConversationID)
	if err != nil || len(conv.Links.Inquiries) != 1 || conv.Links.Inquiries[0] != bookingsynctest.InquiryID {
		t.Fatalf("conversation 13 inquiries: %+v, %v", conv, err)
	}

	me, _, err := c.Me(ctx)
	if err != nil || me.AccountID != srv.ID() {
		t.Fatalf("me = %+v, %v; want account %d", me, err, srv.ID())
	}
	accounts, _, err := c.Accounts.List(ctx, nil)
	if err != nil || len(accounts) != 1 || accounts[0].ID != me.AccountID || accounts[0].BusinessName == "" {
		t.Fatalf("accounts = %+v, %v", accounts, err)
	}

	// Field limiting goes through.
	g, _, err = c.Clients.GetWith(ctx, bookingsynctest.AirbnbClientID, &bookingsync.GetOptions{Fields: []string{"fullname"}})
	if err != nil || g.Fullname != "Emma Dubois" || g.Passport != "" || len(g.Emails) != 0 {
		t.Fatalf("limited guest = %+v, %v", g, err)
	}
	var n int
	for g, err := range c.Clients.All(ctx, &bookingsync.ListOptions{PerPage: 2}) {
		if err != nil {
			t.Fatal(err)
		}
		if g.ID <= 0 {
			t.Fatalf("guest %+v", g)
		}
		n++
	}
	if n < 2 {
		t.Errorf("All listed %d guests", n)
	}
}

// A page of conversations resolves in one GetMany per resource.
func TestFakeDirectory(t *testing.T) {
	srv, c := fakeClient(t)
	ctx := context.Background()
	convs, _, err := c.Conversations.List(ctx, &bookingsync.ConversationListOptions{Include: []string{"participants", "messages"}})
	if err != nil {
		t.Fatal(err)
	}
	srv.ResetRequests()
	dir, err := c.Directory(ctx, convs)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(srv.Requests()); n != 4 {
		t.Errorf("Directory made %d requests, want 4 (bookings, applications, clients, rentals): %+v", n, srv.Requests())
	}
	want := map[int64][3]string{
		bookingsynctest.AirbnbConversationID:     {"Emma Dubois", "Ocean View Loft", "airbnb"},
		bookingsynctest.BookingComConversationID: {"Lukas Weber", "Old Town Apartment", "booking-com"},
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
		if got != w {
			t.Errorf("conversation %d: %q, want %q", conv.ID, got, w)
		}
		if !dir.GuestSpokeLast(conv) || dir.LastMessage(conv) == nil {
			t.Errorf("conversation %d: the guest spoke last", conv.ID)
		}
	}
	// The applications are in the client's cache now.
	if _, err := c.Conversations.Origin(ctx, convs[0]); err != nil {
		t.Fatal(err)
	}
	if n := srv.RequestCount("GET", "applications"); n != 1 {
		t.Errorf("application reads = %d, want 1", n)
	}
}

// Without clients_read, reading guests fails with an error that names the
// scope, and the Directory says so too.
func TestFakeMissingScopeIsNamed(t *testing.T) {
	srv := bookingsynctest.NewServer()
	defer srv.Close()
	tok := srv.IssueToken(bookingsync.ScopeInboxRead, bookingsync.ScopeBookingsRead, bookingsync.ScopeApplicationsRead, bookingsync.ScopeRentalsRead)
	c, err := bookingsync.NewClient(bookingsync.WithBaseURL(srv.URL), bookingsync.WithToken(tok))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	_, _, err = c.Clients.Get(ctx, bookingsynctest.AirbnbClientID)
	var se *bookingsync.ScopeError
	if !errors.Is(err, bookingsync.ErrForbidden) || !errors.As(err, &se) || se.Scope != bookingsync.ScopeClientsRead {
		t.Fatalf("err = %v", err)
	}
	convs, _, err := c.Conversations.List(ctx, &bookingsync.ConversationListOptions{Include: []string{"participants"}})
	if err != nil {
		t.Fatal(err)
	}
	dir, err := c.Directory(ctx, convs)
	if !errors.As(err, &se) || se.Scope != bookingsync.ScopeClientsRead {
		t.Fatalf("Directory err = %v", err)
	}
	for _, conv := range convs {
		if conv.ID == bookingsynctest.AirbnbConversationID && (dir.Guest(conv) != nil || dir.Rental(conv) == nil) {
			t.Errorf("guest %+v, rental %+v", dir.Guest(conv), dir.Rental(conv))
		}
	}
}

// A client-credentials token lists every account that installed the
// application, and with updated_since also those that uninstalled it.
func TestFakeAccountsWithClientCredentials(t *testing.T) {
	srv := bookingsynctest.NewServer(bookingsynctest.WithAccounts(3))
	defer srv.Close()
	c, err := bookingsync.NewClient(bookingsync.WithBaseURL(srv.URL), bookingsync.WithToken(srv.IssueClientCredentialsToken()))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var ids []int64
	for a, err := range c.Accounts.All(ctx, nil) {
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, a.ID)
	}
	if len(ids) != 3 {
		t.Fatalf("accounts = %v, want 3", ids)
	}
	since := srv.Now()
	srv.Advance(time.Minute)
	gone := srv.Accounts()[1]
	if !gone.Uninstall() {
		t.Fatal("uninstall")
	}
	_, resp, err := c.Accounts.List(ctx, &bookingsync.ListOptions{UpdatedSince: since})
	if err != nil {
		t.Fatal(err)
	}
	seen := false
	for _, id := range resp.Meta.DeletedIDs {
		seen = seen || id == gone.ID()
	}
	list, _, err := c.Accounts.List(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range list {
		if a.ID == gone.ID() {
			t.Errorf("the uninstalled account %d is still listed", a.ID)
		}
	}
	if !seen {
		t.Errorf("deleted_ids %v lack the uninstalled account %d", resp.Meta.DeletedIDs, gone.ID())
	}
}
