package inboxsync_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/go-bookingsync/bookingsync"
	"github.com/go-bookingsync/bookingsync/bookingsynctest"
	"github.com/go-bookingsync/bookingsync/inboxsync/internal/dbtest"
)

// Eight goroutines in two "replicas" (two stores on one database, one
// client each) call the API for one account until the budget is spent:
// together they send exactly the window's requests, none is answered 429,
// and the rest are held back without being sent.
func TestRateBudgetSharedAcrossReplicas(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		srv := bookingsynctest.NewServer(bookingsynctest.WithRateLimit(60))
		t.Cleanup(srv.Close)
		var clients []*bookingsync.Client
		for range 2 {
			st := openStore(t, dsn)
			clients = append(clients, newClient(t, srv, bookingsync.WithRateShare(st.RateBudget(acct))))
		}
		// The window's first figure: until one is noted, requests go
		// without being counted (see RateBudget).
		if _, _, err := clients[0].Hosts.List(ctx, nil); err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		sent, limited, held := 1, 0, 0
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c := clients[i%2]
				for {
					_, _, err := c.Hosts.List(ctx, nil)
					var rle *bookingsync.RateLimitError
					var te *bookingsync.ThrottledError
					mu.Lock()
					switch {
					case err == nil:
						sent++
					case errors.As(err, &rle):
						limited++
					case errors.As(err, &te):
						held++
					default:
						t.Error(err)
					}
					mu.Unlock()
					if err != nil {
						return
					}
				}
			}()
		}
		wg.Wait()
		if limited != 0 || sent != 60 || held != 8 {
			t.Fatalf("%d answered, %d answered 429, %d held back; want 60, 0 and 8", sent, limited, held)
		}
		if n := srv.RequestCount("GET", "hosts"); n != 60 {
			t.Fatalf("the server received %d requests, want 60", n)
		}
	})
}
