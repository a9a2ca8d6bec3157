package bookingsync_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/go-bookingsync/bookingsync"
	"github.com/go-bookingsync/bookingsync/bookingsynctest"
)

// Which account does a token act for, and who is the guest of a booking?
// Without the clients_read scope the error says what to ask for.
func ExampleClient_Me() {
	srv := bookingsynctest.NewServer()
	defer srv.Close()
	client, err := bookingsync.NewClient(bookingsync.WithBaseURL(srv.URL), bookingsync.WithToken(srv.Token()))
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()

	me, _, err := client.Me(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("account:", me.AccountID == srv.ID())

	booking, _, err := client.Bookings.Get(ctx, bookingsynctest.AirbnbBookingID)
	if err != nil {
		log.Fatal(err)
	}
	guest, _, err := client.Clients.Get(ctx, *booking.Links.Client)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("guest:", guest.Name(), guest.Emails[0].Email != "")

	narrow, err := bookingsync.NewClient(bookingsync.WithBaseURL(srv.URL),
		bookingsync.WithToken(srv.IssueToken(bookingsync.ScopeInboxRead, bookingsync.ScopeBookingsRead)))
	if err != nil {
		log.Fatal(err)
	}
	_, _, err = narrow.Clients.Get(ctx, *booking.Links.Client)
	var scope *bookingsync.ScopeError
	fmt.Println("forbidden:", errors.Is(err, bookingsync.ErrForbidden), errors.As(err, &scope) && scope.Scope == bookingsync.ScopeClientsRead)
	// Output:
	// account: true
	// guest: Emma Dubois true
	// forbidden: true true
}
