package inboxsync_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/go-bookingsync/bookingsync"
	"github.com/go-bookingsync/bookingsync/inboxsync/internal/dbtest"
)

// tokenChildResult is what a child of TestTokensAcrossProcesses reports.
type tokenChildResult struct {
	OK     map[int64]int // successful requests by account
	Tokens map[int64]int // access tokens they went with, by account
	Failed int
	Errors []string // the first few
}

// tokensSeen is how many access tokens of each account a child of
// TestTokensAcrossProcesses goes through before it stops: the initial one
// and two that some process refreshed.
const tokensSeen = 3

// Five processes share one database and one token endpoint whose tokens
// live fifteen seconds and are refreshed eleven seconds before they
// expire (so every four seconds), by whichever process needs one first,
// while every process keeps calling the API for every account. The
// endpoint rotates the refresh token at each refresh and revokes the old
// access token, so the other processes also meet 401s and must pick up
// the new token from the store.
//
// The interval is the time a request has between meeting a 401 and its
// resend with the new token before that one is rotated too: four seconds
// holds on a machine so loaded that two did not (SQLite's lock waits are
// long). The lifetime is the interval plus ten seconds and one to spare:
// the client takes a token for a resend after a 401 only with more than
// ten seconds left (x/oauth2's Valid), and the token in the store may be
// an interval old. Each process runs until its requests for each account
// have succeeded with tokensSeen tokens: about two intervals.
//
// Asserted: no spent refresh token ever reaches the endpoint; exactly one
// refresh per expiry (none of a token another process had just renewed);
// every process's every request succeeds; the store ends with the live
// token.
func TestTokensAcrossProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-process test")
	}
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dsn string) {
		const (
			processes = 5
			lifetime  = 15 * time.Second
			margin    = 11 * time.Second
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
				"CHILD_DSN="+dsn, "CHILD_URL="+srv.URL, "CHILD_ACCOUNTS="+joinInt64s(accounts), "CHILD_MARGIN="+margin.String())
		}
		for i, c := range children {
			var res tokenChildResult
			c.wait(t, &res)
			if res.Failed > 0 {
				t.Errorf("process %d: %d failed requests: %v", i, res.Failed, res.Errors)
			}
			for _, id := range accounts {
				if res.Tokens[id] < tokensSeen {
					t.Errorf("process %d: account %d: %d requests succeeded, with %d tokens of the %d it waited for; it stopped working", i, id, res.OK[id], res.Tokens[id], tokensSeen)
				}
			}
		}
		minRefreshes := tokensSeen - 1
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
				t.Errorf("account %d: %d refreshes, want at least %d", id, s.refreshes, minRefreshes)
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
	res := tokenChildResult{OK: map[int64]int{}, Tokens: map[int64]int{}}
	var mu sync.Mutex
	var wg sync.WaitGroup
	// The parent fails a child that never sees tokensSeen tokens; the
	// safety of a minute only ends it.
	deadline := time.Now().Add(time.Minute)
	seens := map[int64]*bearerSeen{}
	for _, id := range envInt64s("CHILD_ACCOUNTS") {
		ts := bookingsync.NewStoredTokenSource(ctx, cfg, st.TokenStore(id),
			bookingsync.WithLocker(st.Locker(id)), bookingsync.WithExpiryMargin(envDuration("CHILD_MARGIN")))
		seen := &bearerSeen{next: http.DefaultTransport, tokens: map[string]bool{}}
		c, err := bookingsync.NewClient(bookingsync.WithBaseURL(getenv("CHILD_URL")), bookingsync.WithTokenSource(ts),
			bookingsync.WithHTTPClient(&http.Client{Transport: seen}))
		if err != nil {
			t.Fatal(err)
		}
		for range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for seen.count() < tokensSeen && time.Now().Before(deadline) {
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
					// Pacing: ten callers of each account (two in each
					// process) calling every 40ms put a request every 4ms
					// or so around every refresh; faster calling only
					// spends the machine's CPU on requests that show
					// nothing more.
					time.Sleep(40 * time.Millisecond)
				}
			}()
		}
		seens[id] = seen
	}
	wg.Wait()
	for id, seen := range seens {
		res.Tokens[id] = seen.count()
	}
	report(res)
}

// bearerSeen counts the access tokens of a child's successful requests.
type bearerSeen struct {
	next   http.RoundTripper
	mu     sync.Mutex
	tokens map[string]bool
}

func (b *bearerSeen) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := b.next.RoundTrip(r)
	if err == nil && resp.StatusCode == http.StatusOK {
		b.mu.Lock()
		b.tokens[r.Header.Get("Authorization")] = true
		b.mu.Unlock()
	}
	return resp, err
}

func (b *bearerSeen) count() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.tokens)
}
