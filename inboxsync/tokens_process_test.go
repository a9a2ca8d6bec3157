package inboxsync_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/go-bookingsync/bookingsync"
	"github.com/go-bookingsync/bookingsync/inboxsync/internal/dbtest"
)

// tokenChildResult is what a child of TestTokensAcrossProcesses reports.
type tokenChildResult struct {
	OK     map[int64]int // successful requests by account
	Failed int
	Errors []string // the first few
}

// Five processes share one database and one token endpoint whose tokens
// live fourteen seconds and are refreshed eleven seconds before they
// expire (so every three seconds; the client takes a token for a resend
// only with ten seconds left, as x/oauth2's Valid does), by whichever
// process needs one first, while every process keeps calling the
// API for every account. The endpoint rotates the refresh token at each
// refresh and revokes the old access token, so the other processes also
// meet 401s and must pick up the new token from the store.
//
// Asserted: no spent refresh token ever reaches the endpoint; exactly one
// refresh per expiry (none of a token another process had just renewed);
// every process's every request succeeds; the store ends with the live
// token.
func TestTokensAcrossProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-process test")
	}
	dbtest.EachInTurn(t, func(t *testing.T, dsn string) {
		const (
			processes = 5
			lifetime  = 14 * time.Second
			margin    = 11 * time.Second
			run       = 10 * time.Second
		)
		accounts := []int64{101, 102, 103}
		srv := newRotatingServer(t, lifetime, (lifetime-margin)*3/4)
		st := openStore(t, dsn)
		for _, id := range accounts {
			if err := st.TokenStore(id).Save(context.Background(), srv.install(id)); err != nil {
				t.Fatal(err)
			}
		}
		children := make([]*child, processes)
		for i := range children {
			children[i] = startChild(t, "TestTokensChild", "tokens",
				"CHILD_DSN="+dsn, "CHILD_URL="+srv.URL, "CHILD_ACCOUNTS="+joinInt64s(accounts), "CHILD_RUN="+run.String(), "CHILD_MARGIN="+margin.String())
		}
		for i, c := range children {
			var res tokenChildResult
			c.wait(t, &res)
			if res.Failed > 0 {
				t.Errorf("process %d: %d failed requests: %v", i, res.Failed, res.Errors)
			}
			for _, id := range accounts {
				if res.OK[id] < 20 {
					t.Errorf("process %d: %d requests for account %d succeeded; it stopped working", i, res.OK[id], id)
				}
			}
		}
		minRefreshes := int(run/(lifetime-margin)) - 1
		for _, id := range accounts {
			s := srv.stats(id)
			t.Logf("account %d: %d refreshes, %d requests served", id, s.refreshes, s.served)
			if s.spent != 0 {
				t.Errorf("account %d: %d spent refresh tokens presented", id, s.spent)
			}
			if s.premature != 0 {
				t.Errorf("account %d: %d refreshes of a token renewed moments before", id, s.premature)
			}
			if s.refreshes < minRefreshes {
				t.Errorf("account %d: %d refreshes in %v of %v tokens, want at least %d", id, s.refreshes, run, lifetime, minRefreshes)
			}
			stored, err := st.TokenStore(id).Load(context.Background())
			if err != nil || stored.RefreshToken != s.refresh {
				t.Errorf("account %d: the store does not hold the live refresh token (%v)", id, err)
			}
		}
	})
}

// TestTokensChild is a child process of TestTokensAcrossProcesses.
func TestTokensChild(t *testing.T) {
	if !isChild("tokens") {
		t.Skip("a child process of TestTokensAcrossProcesses")
	}
	ctx := context.Background()
	st := openStore(t, getenv("CHILD_DSN"))
	cfg := rotatingConfig(getenv("CHILD_URL"))
	res := tokenChildResult{OK: map[int64]int{}}
	var mu sync.Mutex
	var wg sync.WaitGroup
	deadline := time.Now().Add(envDuration("CHILD_RUN"))
	for _, id := range envInt64s("CHILD_ACCOUNTS") {
		ts := bookingsync.NewStoredTokenSource(ctx, cfg, st.TokenStore(id),
			bookingsync.WithLocker(st.Locker(id)), bookingsync.WithExpiryMargin(envDuration("CHILD_MARGIN")))
		c, err := bookingsync.NewClient(bookingsync.WithBaseURL(getenv("CHILD_URL")), bookingsync.WithTokenSource(ts))
		if err != nil {
			t.Fatal(err)
		}
		for range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for time.Now().Before(deadline) {
					req, _ := c.NewRequest(ctx, "GET", "me", nil)
					_, err := c.Do(req, nil)
					mu.Lock()
					if err != nil {
						res.Failed++
						if len(res.Errors) < 5 {
							res.Errors = append(res.Errors, err.Error())
						}
					} else {
						res.OK[id]++
					}
					mu.Unlock()
					time.Sleep(5 * time.Millisecond)
				}
			}()
		}
	}
	wg.Wait()
	report(res)
}
