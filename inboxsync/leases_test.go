package inboxsync

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-bookingsync/bookingsync"
	"github.com/go-bookingsync/bookingsync/bookingsynctest"
	"github.com/go-bookingsync/bookingsync/inboxsync/internal/dbtest"
)

// roundTripFunc is an http.RoundTripper.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// Resource leases run on the database's clock: a replica whose clock is
// ten minutes slow holds its lease for the lease's time all the same, and
// one whose clock is ten minutes fast does not take it meanwhile. Only the
// database's clock moving past the lease's end frees it.
func TestLeasesRunOnTheDatabaseClock(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		srv := bookingsynctest.NewServer(bookingsynctest.WithRateLimit(1<<30), bookingsynctest.WithConversationDelay(0))
		t.Cleanup(srv.Close)
		client := func(rt http.RoundTripper) *bookingsync.Client {
			c, err := bookingsync.NewClient(bookingsync.WithBaseURL(srv.URL), bookingsync.WithToken(srv.Token()),
				bookingsync.WithHTTPClient(&http.Client{Transport: rt}))
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		skewed := func(s *Syncer, by time.Duration) *Syncer {
			s.now = func() time.Time { return time.Now().Add(by) }
			return s
		}
		const ttl = time.Minute

		// The slow replica stops in its first conversations request,
		// holding the conversations lease.
		held, resume := make(chan struct{}), make(chan struct{})
		var once sync.Once
		blocking := roundTripFunc(func(r *http.Request) (*http.Response, error) {
			if strings.Contains(r.URL.Path, "inbox/conversations") {
				once.Do(func() { close(held); <-resume })
			}
			return srv.Client().Transport.RoundTrip(r)
		})
		slow := skewed(New(mustOpen(t, dsn), bookingsynctest.AccountID, client(blocking), WithLeaseTTL(ttl)), -10*time.Minute)
		slowDone := make(chan error, 1)
		go func() {
			_, err := slow.Sync(ctx)
			slowDone <- err
		}()
		select {
		case <-held:
		case err := <-slowDone:
			t.Fatalf("the slow replica's pass ended before its conversations request: %v", err)
		}

		fastStore := mustOpen(t, dsn)
		fast := skewed(New(fastStore, bookingsynctest.AccountID, client(srv.Client().Transport), WithLeaseTTL(ttl)), 10*time.Minute)
		conversations := func(rep *Report) ResourceReport {
			for _, rr := range rep.Resources {
				if rr.Resource == resConversations.name {
					return rr
				}
			}
			t.Fatal("the pass did not look at conversations")
			return ResourceReport{}
		}
		rep, err := fast.Sync(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if rr := conversations(rep); !rr.Skipped {
			t.Fatalf("the fast replica walked conversations while the slow one held the lease: %+v", rr)
		}

		// Past the lease's end by the database's clock, it is free.
		fastStore.clockShift.Store(int64(ttl + time.Second))
		if rep, err = fast.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		if rr := conversations(rep); rr.Skipped || !rr.Advanced {
			t.Fatalf("the fast replica did not take the expired lease over: %+v", rr)
		}
		close(resume)
		if err := <-slowDone; !errors.Is(err, errLeaseLost) {
			t.Fatalf("the slow replica's pass after losing its lease: %v, want errLeaseLost", err)
		}
	})
}
