package inboxsync_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-bookingsync/bookingsync"
	"github.com/go-bookingsync/bookingsync/bookingsynctest"
	"github.com/go-bookingsync/bookingsync/inboxsync"
	"github.com/go-bookingsync/bookingsync/inboxsync/internal/dbtest"
)

// fleetChildResult is what a replica process reports.
type fleetChildResult struct {
	EnsureOK, EnsureFailed int
	EnsureHeld             int // held back by the spent rate budget (*ThrottledError)
	Errors                 []string
	Status429              int64
}

// hostTarget is a (conversation, host) pair the replicas all ensure.
type hostTarget struct{ Account, Conversation, Host int64 }

// Three replica processes run Fleet against one Postgres database and the
// many-accounts fake (six accounts, tokens expiring and rotating during
// the run). One replica is killed mid-sync. Messages are added on the
// server and announced by webhooks delivered to random replicas, some
// twice. Every replica hammers EnsureHost on the same (conversation, host)
// pairs. Asserted: no account was synced by two replicas at once (from the
// replicas' lease logs, the killed one's ending at its death); the dead
// replica's accounts were taken over within the lease time and a beat;
// every account's copy equals the server's (but the last one's, whose
// small rate budget the replicas spend to the last request without a
// single 429); each pair has exactly one Host participant; no refresh
// token was presented twice.
func TestFleetAcrossProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-process test")
	}
	const (
		replicas = 3
		run      = 16 * time.Second
		changes  = 8 * time.Second
		ttl      = 3 * time.Second
	)
	dsn := dbtest.Postgres(t)
	st := openStore(t, dsn)
	srv, accts := fleetFake(t, st, 7, bookingsynctest.WithTokenLifetime(64*time.Second), bookingsynctest.WithRateLimit(1<<20),
		bookingsynctest.WithLatency(2*time.Millisecond), bookingsynctest.WithLatencyJitter(8*time.Millisecond))
	// The last account has a small budget, which the replicas together
	// spend during the run: it must run out without a single 429. An
	// unthrottled account makes over 140 requests in the run even on a
	// loaded machine, so 100 is spent whatever the load.
	limited := accts[len(accts)-1]
	limited.SetRateLimit(100, 100)

	// Tokens live 64s and are renewed in their last minute (the default
	// expiry margin): about every 4s, by whichever replica needs it first.
	for _, a := range accts {
		tok, err := st.TokenStore(a.ID()).Load(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		tok.Expiry = time.Now().Add(61 * time.Second)
		if err := st.TokenStore(a.ID()).Save(context.Background(), tok); err != nil {
			t.Fatal(err)
		}
	}

	// The hammered pairs: two new conversations per account, with a host
	// that is not yet a participant of either.
	var targets []hostTarget
	guests := map[int64]int64{} // conversation -> its guest's participant
	for _, a := range accts {
		host := a.AddHost("Hammer", "Host", fmt.Sprintf("hammer%d@example.com", a.ID()))
		for range 2 {
			conv, guest := a.AddConversationWithClient(bookingsynctest.ConversationSeed{Subject: "hammered"})
			guests[conv] = guest
			targets = append(targets, hostTarget{a.ID(), conv, host})
		}
	}
	tb, _ := json.Marshal(targets)
	logs := t.TempDir()
	hammerAt := strconv.FormatInt(time.Now().Add(3*time.Second).UnixMilli(), 10)
	children := make([]*child, replicas)
	urls := make([]string, replicas)
	for i := range children {
		children[i] = startChild(t, "TestFleetChild", "fleet", "CHILD_DSN="+dsn, "CHILD_URL="+srv.URL,
			"CHILD_REPLICA=p"+strconv.Itoa(i), "CHILD_RUN="+run.String(), "CHILD_HAMMER_FOR="+changes.String(),
			"CHILD_TTL="+ttl.String(), "CHILD_HAMMER_AT="+hammerAt, "CHILD_LIMITED="+strconv.FormatInt(limited.ID(), 10), "CHILD_TARGETS="+string(tb), "CHILD_LOG="+filepath.Join(logs, "p"+strconv.Itoa(i)+".log"))
	}
	for i, c := range children {
		select {
		case urls[i] = <-c.listen:
		case <-time.After(30 * time.Second):
			t.Fatalf("replica %d did not start", i)
		}
	}
	start := time.Now()

	// Changes announced to random replicas; a delivery that fails (the
	// dead replica) is sent to another, as BookingSync retries.
	var dead atomic.Bool // replica 0, once killed
	var changed sync.WaitGroup
	changed.Add(1)
	go func() {
		defer changed.Done()
		for time.Since(start) < changes {
			tg := targets[rand.N(len(targets))]
			a := accts[(tg.Account - accts[0].ID())]
			msg := a.AddMessage(bookingsynctest.MessageSeed{ConversationID: tg.Conversation, SenderID: guests[tg.Conversation], Content: "hello again"})
			for sends := 1 + rand.N(2); sends > 0; {
				i := rand.N(replicas)
				if i == 0 && dead.Load() {
					continue
				}
				if err := a.SendWebhook(context.Background(), urls[i], bookingsync.EventInboxMessageCreated, a.MessageResource(msg)); err == nil {
					sends--
				}
			}
			time.Sleep(100 * time.Millisecond)
		}
	}()

	// Kill replica 0 a third of the way through, and time the takeover.
	time.Sleep(run / 4)
	var p0Leases int
	for _, h := range holders(t, st) {
		if h == "p0" {
			p0Leases++
		}
	}
	children[0].kill()
	dead.Store(true)
	killed := time.Now()
	if p0Leases == 0 {
		t.Errorf("replica p0 held no lease when killed")
	}
	eventually(t, ttl+3*time.Second, "the dead replica's accounts taken over", func() bool {
		h := holders(t, st)
		for _, a := range accts {
			if h[a.ID()] == "" || h[a.ID()] == "p0" {
				return false
			}
		}
		return true
	})
	t.Logf("p0 held %d accounts; all taken over %v after its death", p0Leases, time.Since(killed).Round(100*time.Millisecond))
	changed.Wait()

	var total429 int64
	for i, c := range children[1:] {
		var res fleetChildResult
		c.wait(t, &res)
		t.Logf("replica p%d: EnsureHost %d ok, %d held by the budget, %d failed", i+1, res.EnsureOK, res.EnsureHeld, res.EnsureFailed)
		total429 += res.Status429
		if res.EnsureFailed > 0 || res.EnsureOK == 0 {
			t.Errorf("replica p%d: EnsureHost %d ok, %d failed: %v", i+1, res.EnsureOK, res.EnsureFailed, res.Errors)
		}
	}
	if total429 != 0 {
		t.Errorf("%d requests answered 429", total429)
	}
	// A request or two may have taken its share of the budget and never
	// gone (the killed replica's, a cancelled one): the count errs low.
	if n := limited.RateRemaining(); n > 3 {
		t.Errorf("account %d: %d requests of its budget left; the test meant to spend it", limited.ID(), n)
	}

	// No account synced by two replicas at once.
	runs := map[int64][]leaseSpan{}
	for i := range replicas {
		end := time.Now()
		if i == 0 {
			end = killed
		}
		for acct, spans := range readLeaseLog(t, filepath.Join(logs, "p"+strconv.Itoa(i)+".log"), "p"+strconv.Itoa(i), end) {
			runs[acct] = append(runs[acct], spans...)
		}
	}
	nspans := 0
	for _, spans := range runs {
		nspans += len(spans)
	}
	if len(runs) != len(accts) || nspans < len(accts)+1 {
		t.Errorf("lease logs show %d spans over %d accounts; want every account, and the takeovers", nspans, len(runs))
	}
	for acct, spans := range runs {
		for i, a := range spans {
			for _, b := range spans[i+1:] {
				if a.replica != b.replica && a.from.Before(b.to) && b.from.Before(a.to) {
					t.Errorf("account %d synced by %s (%s–%s) and %s (%s–%s) at once", acct,
						a.replica, a.from.Format("15:04:05.000"), a.to.Format("15:04:05.000"),
						b.replica, b.from.Format("15:04:05.000"), b.to.Format("15:04:05.000"))
				}
			}
		}
	}

	// Every copy equals the server's; one Host participant per pair; no
	// refresh token spent twice.
	f, err := inboxsync.NewFleet(st, fleetConfig(srv.URL, srv.Client(), "checker"))
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range accts {
		c, err := f.Client(context.Background(), a.ID())
		if err != nil {
			t.Fatal(err)
		}
		if a == limited {
			// Read it with a token of its own outside the shared budget,
			// which is spent: its copy lags, by design.
			limited.SetRateLimit(1<<20, 1<<20)
			c = newClient(t, srv, bookingsync.WithToken(limited.IssueToken(bookingsynctest.DefaultScopes...)))
		}
		server := serverState(t, c)
		if d := diff(server, accountState(t, st, a.ID())); d != "" && a != limited {
			t.Errorf("account %d: the copy differs from the server:\n%s", a.ID(), d)
		}
		for _, tg := range targets {
			if tg.Account != a.ID() {
				continue
			}
			n := 0
			for _, v := range server["participants"] {
				links := v.(map[string]any)["links"].(map[string]any)
				member := links["member"].(map[string]any)
				if int64(links["conversation"].(float64)) == tg.Conversation && member["type"] == "Host" && int64(member["id"].(float64)) == tg.Host {
					n++
				}
			}
			if n != 1 {
				t.Errorf("conversation %d has %d Host participants for host %d, want 1", tg.Conversation, n, tg.Host)
			}
		}
		if n := a.SpentRefreshCount(); n != 0 {
			t.Errorf("account %d: %d spent refresh tokens presented", a.ID(), n)
		}
		t.Logf("account %d: %d refreshes, %d requests", a.ID(), a.RefreshCount(), a.RequestTotal())
		if a.RefreshCount() < 2 {
			t.Errorf("account %d: %d refreshes; its tokens were meant to expire during the run", a.ID(), a.RefreshCount())
		}
	}
}

// leaseSpan is a time a replica ran an account's sync.
type leaseSpan struct {
	replica  string
	from, to time.Time
}

// readLeaseLog reads a replica's JSON log: "account leased" opens a span,
// "account stopped" closes it; spans still open end at end.
func readLeaseLog(t *testing.T, path, replica string, end time.Time) map[int64][]leaseSpan {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	open := map[int64]time.Time{}
	out := map[int64][]leaseSpan{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var rec struct {
			Time    time.Time `json:"time"`
			Msg     string    `json:"msg"`
			Account int64     `json:"account"`
		}
		if json.Unmarshal(sc.Bytes(), &rec) != nil || rec.Account == 0 {
			continue
		}
		switch {
		case strings.Contains(rec.Msg, "account leased"):
			open[rec.Account] = rec.Time
		case strings.Contains(rec.Msg, "account stopped") && !open[rec.Account].IsZero():
			out[rec.Account] = append(out[rec.Account], leaseSpan{replica, open[rec.Account], rec.Time})
			delete(open, rec.Account)
		}
	}
	for acct, from := range open {
		out[acct] = append(out[acct], leaseSpan{replica, from, end})
	}
	return out
}

// statusCounter counts 429 answers on their way to the client.
type statusCounter struct {
	next    http.RoundTripper
	limited atomic.Int64
}

func (s *statusCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := s.next.RoundTrip(r)
	if err == nil && resp.StatusCode == http.StatusTooManyRequests {
		s.limited.Add(1)
	}
	return resp, err
}

// TestFleetChild is a replica process of TestFleetAcrossProcesses.
func TestFleetChild(t *testing.T) {
	if !isChild("fleet") {
		t.Skip("a child process of TestFleetAcrossProcesses")
	}
	ctx := context.Background()
	st := openStore(t, getenv("CHILD_DSN"))
	logf, err := os.Create(getenv("CHILD_LOG"))
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	counter := &statusCounter{next: http.DefaultTransport}
	hc := &http.Client{Transport: counter, Timeout: 30 * time.Second}
	cfg := fleetConfig(getenv("CHILD_URL"), hc, getenv("CHILD_REPLICA"))
	cfg.Every = 500 * time.Millisecond
	cfg.LeaseTTL = envDuration("CHILD_TTL")
	cfg.DeliveryPoll = 200 * time.Millisecond
	cfg.Logger = slog.New(slog.NewJSONHandler(logf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	f, err := inboxsync.NewFleet(st, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go http.Serve(ln, f.WebhookHandler())
	fmt.Printf("LISTEN http://%s\n", ln.Addr())

	runCtx, stop := context.WithTimeout(ctx, envDuration("CHILD_RUN"))
	defer stop()
	done := make(chan error, 1)
	go func() { done <- f.Run(runCtx) }()

	var targets []hostTarget
	if err := json.Unmarshal([]byte(getenv("CHILD_TARGETS")), &targets); err != nil {
		t.Fatal(err)
	}
	var res fleetChildResult
	var mu sync.Mutex
	var wg sync.WaitGroup
	// Every replica starts at the same instant on the same pair, and goes
	// through the pairs in the same order: the creations race.
	at, _ := strconv.ParseInt(getenv("CHILD_HAMMER_AT"), 10, 64)
	limited, _ := strconv.ParseInt(getenv("CHILD_LIMITED"), 10, 64)
	time.Sleep(time.Until(time.UnixMilli(at)))
	hammerUntil := time.Now().Add(envDuration("CHILD_HAMMER_FOR"))
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Every pair until hammerUntil, then the limited account's
			// until its budget is spent: however slow the machine, the
			// test means to spend it (a safety of two minutes ends a
			// broken run, which the parent then reports).
			spent := false
			for i := 0; !spent && time.Now().Before(hammerUntil.Add(2*time.Minute)); i++ {
				tg := targets[i%len(targets)]
				if !time.Now().Before(hammerUntil) && tg.Account != limited {
					continue
				}
				c, err := f.Client(ctx, tg.Account)
				if err == nil {
					_, err = c.Participants.EnsureHost(ctx, tg.Conversation, tg.Host)
				}
				var held *bookingsync.ThrottledError
				mu.Lock()
				switch {
				case err == nil:
					res.EnsureOK++
				case errors.As(err, &held):
					res.EnsureHeld++
					spent = tg.Account == limited && !time.Now().Before(hammerUntil)
				default:
					res.EnsureFailed++
					if len(res.Errors) < 5 {
						res.Errors = append(res.Errors, err.Error())
					}
				}
				mu.Unlock()
				time.Sleep(5 * time.Millisecond)
			}
		}()
	}
	wg.Wait()
	if err := <-done; err != nil && !errors.Is(err, context.DeadlineExceeded) {
		t.Fatal(err)
	}
	res.Status429 = counter.limited.Load()
	report(res)
}
