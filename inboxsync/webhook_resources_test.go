package inboxsync_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/go-bookingsync/bookingsync"
	"github.com/go-bookingsync/bookingsync/bookingsynctest"
	"github.com/go-bookingsync/bookingsync/inboxsync"
	"github.com/go-bookingsync/bookingsync/inboxsync/internal/dbtest"
)

// Every event of a walked resource is acted on by one GET of its record,
// not only the inbox's and bookings': a renamed rental and a deleted
// guest reach the copy without waiting for the next pass. An event of a
// resource the copy does not hold (a review) makes no request.
func TestWebhookEveryWalkedResource(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dsn string) {
		f := setup(t, dsn)
		ctx := context.Background()
		mustSync(t, f.s)
		deliver := func(ev, plural string, id int64) {
			t.Helper()
			res, err := json.Marshal(f.srv.Resource(plural, id))
			if err != nil {
				t.Fatal(err)
			}
			if err := f.s.HandleEvent(ctx, &bookingsync.WebhookEvent{AccountID: acct, Event: ev, Resource: res}); err != nil {
				t.Fatalf("%s: %v", ev, err)
			}
		}

		if !f.srv.Touch("rentals", bookingsynctest.OceanViewRentalID) {
			t.Fatal("no rental to touch")
		}
		before := f.srv.RequestCount("GET", "rentals")
		deliver(bookingsync.EventRentalUpdated, "rentals", bookingsynctest.OceanViewRentalID)
		if n := f.srv.RequestCount("GET", "rentals") - before; n != 1 {
			t.Errorf("rental_updated made %d GETs of rentals, want 1", n)
		}

		guest := f.srv.Resource("clients", bookingsynctest.AirbnbClientID)
		if _, err := f.st.Guest(ctx, acct, bookingsynctest.AirbnbClientID); err != nil {
			t.Fatalf("the guest is not in the copy before the test: %v", err)
		}
		if !f.srv.Delete("clients", bookingsynctest.AirbnbClientID) {
			t.Fatal("no client to delete")
		}
		res, _ := json.Marshal(guest)
		if err := f.s.HandleEvent(ctx, &bookingsync.WebhookEvent{AccountID: acct, Event: bookingsync.EventClientDestroyed, Resource: res}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.st.Guest(ctx, acct, bookingsynctest.AirbnbClientID); !errors.Is(err, inboxsync.ErrNotFound) {
			t.Errorf("after client_destroyed the guest reads %v, want ErrNotFound", err)
		}

		before = len(f.srv.Requests())
		deliver(bookingsync.EventReviewUpdated, "reviews", bookingsynctest.ReviewID)
		if n := len(f.srv.Requests()) - before; n != 0 {
			t.Errorf("review_updated made %d requests; the copy holds no reviews", n)
		}
	})
}
