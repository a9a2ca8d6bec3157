package inboxsync

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/go-bookingsync/bookingsync"
	"github.com/go-bookingsync/bookingsync/inboxsync/internal/dbtest"
	"golang.org/x/oauth2"
)

// A delivery whose handling fails is tried again only after its backoff,
// by the database's clock, and is done, failed for good with its error
// kept, after maxDeliveryAttempts.
func TestDeliveryRetriesAreBoundedWithBackoff(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		st, err := Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		if err := st.TokenStore(7).Save(ctx, &oauth2.Token{AccessToken: "a", RefreshToken: "r"}); err != nil {
			t.Fatal(err)
		}
		f, err := NewFleet(st, FleetConfig{OAuth: &oauth2.Config{}})
		if err != nil {
			t.Fatal(err)
		}
		e := &bookingsync.WebhookEvent{AccountID: 7, Event: bookingsync.EventApplicationUpdated, Resource: []byte(`{}`)}
		if fresh, err := f.recordDelivery(ctx, e); err != nil || !fresh {
			t.Fatalf("recordDelivery = %v, %v", fresh, err)
		}
		due := func() []delivery {
			t.Helper()
			ds, err := f.dueDeliveries(ctx, 7, 10)
			if err != nil {
				t.Fatal(err)
			}
			return ds
		}
		for attempt := 1; attempt <= maxDeliveryAttempts; attempt++ {
			ds := due()
			if len(ds) != 1 || ds[0].attempts != attempt-1 {
				t.Fatalf("attempt %d: due %+v", attempt, ds)
			}
			gaveUp, err := f.finishDeliveries(ctx, []actedOn{{ds[0], errors.New("the API is down")}})
			if err != nil || gaveUp[ds[0].id] != (attempt == maxDeliveryAttempts) {
				t.Fatalf("attempt %d: finishDeliveries = %v, %v", attempt, gaveUp, err)
			}
			if ds := due(); len(ds) != 0 {
				t.Fatalf("attempt %d: due again at once: %+v", attempt, ds)
			}
			st.clockShift.Add(int64(deliveryBackoff(attempt) + time.Millisecond))
		}
		if ds := due(); len(ds) != 0 {
			t.Fatalf("due after giving up: %+v", ds)
		}
		var lastErr string
		if err := st.queryRow(ctx, st.db, `SELECT last_error FROM fleet_deliveries WHERE done_at IS NOT NULL`).Scan(&lastErr); err != nil || lastErr != "the API is down" {
			t.Fatalf("the failed delivery: %q, %v", lastErr, err)
		}
	})
}
