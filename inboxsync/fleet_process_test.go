package inboxsync_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
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
	"github.com/go-bookingsync/bookingsync/inboxsync/internal/testsignal"
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
// many-accounts fake (seven accounts, tokens expiring and rotating during
// the run). One replica is killed mid-sync. Messages are added on the
// server and announced by webhooks delivered to random replicas, some
// twice. Every replica hammers EnsureHost on the same (conversation, host)
// pairs. Asserted: no account was synced by two replicas at once (from the
// replicas' lease logs, the killed one's ending at its death); the dead
// replica's accounts were taken over; every account's copy comes to equal
// the server's (but the last one's, whose small rate budget the replicas
// spend to the last request without a single 429); each pair has exactly
// one Host participant; no refresh token was presented twice.
//
// The parent paces the run by what it sees, not by the clock: it starts
// the hammering when every replica listens, kills a replica once it holds
// a lease, and ends the run once the takeover, the token rotations and the
// convergence it waits for have happened. Real time remains where it is
// the subject: the dead replica's leases lapse after the lease time (ttl),
// and tokens expire.
func TestFleetAcrossProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-process test")
	}
	t.Parallel()
	const (
		replicas = 3
		ttl      = 3 * time.Second
		// Changes go on for this many messages after the takeover.
		after = 10
	)
	dsn := dbtest.Postgres(t)
	st := openStore(t, dsn)
	srv, accts := fleetFake(t, st, 7, bookingsynctest.WithTokenLifetime(64*time.Second), bookingsynctest.WithRateLimit(1<<20),
		bookingsynctest.WithLatency(2*time.Millisecond), bookingsynctest.WithLatencyJitter(8*time.Millisecond))
	// The last account has a small budget, which the replicas together
	// spend during the run: it must run out without a single 429.
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
	gate := newTokenGate(t, srv.URL)
	logs := t.TempDir()
	children := make([]*child, replicas)
	urls := make([]string, replicas)
	for i := range children {
		children[i] = startChild(t, "TestFleetChild", "fleet", "CHILD_DSN="+dsn, "CHILD_URL="+srv.URL, "CHILD_OAUTH="+gate.URL,
			"CHILD_REPLICA=p"+strconv.Itoa(i), "CHILD_TTL="+ttl.String(), "CHILD_LIMITED="+strconv.FormatInt(limited.ID(), 10),
			"CHILD_TARGETS="+string(tb), "CHILD_LOG="+filepath.Join(logs, "p"+strconv.Itoa(i)+".log"))
	}
	for i, c := range children {
		urls[i] = c.next(t)
	}
	// Every replica starts hammering at once, on the same pair.
	for _, c := range children {
		c.tell(t, "hammer")
	}

	// Changes announced to random replicas; a delivery that fails (the
	// dead replica) is sent to another, as BookingSync retries. They go on
	// until after messages have followed the takeover.
	var dead atomic.Bool // replica 0, once killed
	var sent atomic.Int64
	var takenOver atomic.Int64 // sent when the takeover was seen, plus one
	changed := make(chan struct{})
	go func() {
		defer close(changed)
		for n := int64(1); ; n++ {
			if at := takenOver.Load(); at > 0 && n > at+after {
				return
			}
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
			sent.Store(n)
			// Pacing, not waiting: the changes spread over the syncs.
			time.Sleep(50 * time.Millisecond)
		}
	}()

	// Kill replica 0 once it holds leases and changes have begun, but not
	// in the middle of a token refresh: a process killed between the
	// server's rotation and its save loses the account's refresh token,
	// which no replica could then help. The gate holds new refreshes and
	// the kill waits until every token issued is in the store. Then time
	// the takeover.
	var p0Leases int
	testsignal.Eventually(t, "replica p0 holding a lease during the changes", func() bool {
		p0Leases = 0
		for _, h := range holders(t, st) {
			if h == "p0" {
				p0Leases++
			}
		}
		return p0Leases > 0 && sent.Load() >= after
	})
	gate.hold()
	testsignal.Eventually(t, "every refreshed token saved", func() bool { return gate.saved(t, st, accts) })
	children[0].kill()
	gate.release("p0")
	dead.Store(true)
	killed := time.Now()
	var lastHolders map[int64]string
	t.Cleanup(func() {
		if t.Failed() {
			accounts, err := st.Accounts(context.Background())
			t.Logf("holders at the last look: %v; accounts: %+v (%v)", lastHolders, accounts, err)
		}
	})
	testsignal.Eventually(t, "the dead replica's accounts taken over", func() bool {
		h := holders(t, st)
		lastHolders = h
		for _, a := range accts {
			if h[a.ID()] == "" || h[a.ID()] == "p0" {
				return false
			}
		}
		return true
	})
	takenOver.Store(sent.Load() + 1)
	t.Logf("p0 held %d accounts; all taken over %v after its death", p0Leases, time.Since(killed).Round(100*time.Millisecond))
	<-changed
	testsignal.Eventually(t, "every account's token rotated twice", func() bool {
		for _, a := range accts {
			if a.RefreshCount() < 2 {
				return false
			}
		}
		return true
	})

	// Once they have been over every pair, the replicas stop hammering but
	// for the limited account, whose budget they spend; then the copies
	// must converge before they stop.
	for _, c := range children[1:] {
		if got := c.next(t); got != "hammered" {
			t.Fatalf("replica signalled %q", got)
		}
		c.tell(t, "spend")
	}
	for _, c := range children[1:] {
		if got := c.next(t); got != "spent" {
			t.Fatalf("replica signalled %q", got)
		}
	}
	for _, a := range accts {
		if a == limited {
			continue // its copy lags, by design: its budget is spent
		}
		want := serverState(t, newClient(t, srv, bookingsync.WithToken(a.IssueToken(bookingsynctest.DefaultScopes...))))
		var last string // how they differed at the last look
		t.Cleanup(func() {
			if last != "" {
				t.Logf("account %d: the copy still differed from the server:\n%s", a.ID(), last)
			}
		})
		testsignal.Eventually(t, fmt.Sprintf("account %d's copy equals the server's", a.ID()), func() bool {
			last = diff(want, accountState(t, st, a.ID()))
			return last == ""
		})
	}
	for _, c := range children[1:] {
		c.tell(t, "stop")
	}

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

// tokenGate is the replicas' token endpoint: it passes token requests on
// to the fake and can hold new ones, and it knows the refresh tokens it
// handed out and that none has presented since (the live ones).
type tokenGate struct {
	*httptest.Server
	mu       sync.Mutex
	cond     *sync.Cond
	held     bool
	inflight int
	live     map[string]bool
	dead     map[string]bool // replicas killed: their held requests never reach the server
}

func newTokenGate(t *testing.T, target string) *tokenGate {
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	g := &tokenGate{live: map[string]bool{}, dead: map[string]bool{}}
	g.cond = sync.NewCond(&g.mu)
	proxy := httputil.NewSingleHostReverseProxy(u)
	g.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		form, _ := url.ParseQuery(string(body))
		g.mu.Lock()
		for g.held {
			g.cond.Wait()
		}
		if g.dead[r.Header.Get(replicaHeader)] {
			// Held while its replica was killed: forwarded, it would
			// rotate a token no process is alive to save (the server
			// may not have seen the connection close yet).
			g.mu.Unlock()
			http.Error(w, "the replica is dead", http.StatusServiceUnavailable)
			return
		}
		g.inflight++
		g.mu.Unlock()
		rec := httptest.NewRecorder()
		proxy.ServeHTTP(rec, r)
		var issued struct {
			RefreshToken string `json:"refresh_token"`
		}
		json.Unmarshal(rec.Body.Bytes(), &issued)
		g.mu.Lock()
		delete(g.live, form.Get("refresh_token"))
		if issued.RefreshToken != "" {
			g.live[issued.RefreshToken] = true
		}
		g.inflight--
		g.mu.Unlock()
		maps.Copy(w.Header(), rec.Header())
		w.WriteHeader(rec.Code)
		w.Write(rec.Body.Bytes())
	}))
	t.Cleanup(g.Close)
	return g
}

// hold makes new token requests wait until release.
func (g *tokenGate) hold() {
	g.mu.Lock()
	g.held = true
	g.mu.Unlock()
}

// release lets the held requests go on, but those of the dead replicas.
func (g *tokenGate) release(dead ...string) {
	g.mu.Lock()
	for _, r := range dead {
		g.dead[r] = true
	}
	g.held = false
	g.cond.Broadcast()
	g.mu.Unlock()
}

// saved reports whether no refresh is under way at the server and the
// store holds every live refresh token the gate handed out.
func (g *tokenGate) saved(t *testing.T, st *inboxsync.Store, accts []*bookingsynctest.Account) bool {
	stored := map[string]bool{}
	for _, a := range accts {
		tok, err := st.TokenStore(a.ID()).Load(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		stored[tok.RefreshToken] = true
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	for rt := range g.live {
		if !stored[rt] {
			return false
		}
	}
	return g.inflight == 0
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
	replica string // sent as replicaHeader, for the token gate
	limited atomic.Int64
}

// replicaHeader names the replica process a request comes from.
const replicaHeader = "X-Test-Replica"

func (s *statusCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set(replicaHeader, s.replica)
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
	counter := &statusCounter{next: http.DefaultTransport, replica: getenv("CHILD_REPLICA")}
	hc := &http.Client{Transport: counter, Timeout: 30 * time.Second}
	cfg := fleetConfig(getenv("CHILD_URL"), hc, getenv("CHILD_REPLICA"))
	cfg.OAuth.Endpoint = bookingsync.Endpoint(getenv("CHILD_OAUTH"))
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
	signal("http://" + ln.Addr().String())

	// The parent stops the run; the safety of two minutes ends a broken one.
	runCtx, stop := context.WithTimeout(ctx, 2*time.Minute)
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
	limited, _ := strconv.ParseInt(getenv("CHILD_LIMITED"), 10, 64)
	// Every replica starts when the parent says, on the same pair, and
	// goes through the pairs in the same order: the creations race.
	await("hammer")
	var spend atomic.Bool
	go func() { await("spend"); spend.Store(true) }()
	var cycled sync.WaitGroup // the goroutines' first pass over every pair
	for range 2 {
		wg.Add(1)
		cycled.Add(1)
		go func() {
			defer wg.Done()
			passed := sync.OnceFunc(cycled.Done)
			defer passed() // a broken run ends before its pass
			// Every pair until the parent says "spend", then the limited
			// account's until its budget is spent, however slow the
			// machine (runCtx ends a broken run, which the parent then
			// reports).
			spent := false
			for i := 0; !spent && runCtx.Err() == nil; i++ {
				if i == len(targets) {
					passed()
				}
				tg := targets[i%len(targets)]
				spending := spend.Load()
				if spending && tg.Account != limited {
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
					spent = tg.Account == limited && spending
				default:
					res.EnsureFailed++
					if len(res.Errors) < 5 {
						res.Errors = append(res.Errors, err.Error())
					}
				}
				mu.Unlock()
				time.Sleep(5 * time.Millisecond) // pacing: the other replicas' turn
			}
		}()
	}
	cycled.Wait()
	signal("hammered")
	wg.Wait()
	signal("spent")
	await("stop")
	stop()
	if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	res.Status429 = counter.limited.Load()
	report(res)
}
