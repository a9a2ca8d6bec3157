package inboxsync_test

// The fleet under pressure: floods of deliveries, one account's failures,
// uninstalls and replays, a fleet with nothing installed yet.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-bookingsync/bookingsync"
	"github.com/go-bookingsync/bookingsync/bookingsynctest"
	"github.com/go-bookingsync/bookingsync/inboxsync"
	"github.com/go-bookingsync/bookingsync/inboxsync/internal/dbtest"
	"github.com/go-bookingsync/bookingsync/inboxsync/internal/testsignal"
	"golang.org/x/oauth2"
)

// logSignals is a slog.Handler that hands each record's message, with its
// account, to whoever waits for it: the fleet's logs are the test's
// signals that work was looked at.
type logSignals struct {
	mu   sync.Mutex
	seen []string
	ch   chan struct{} // closed and replaced at each record
}

func newLogSignals() *logSignals { return &logSignals{ch: make(chan struct{})} }

func (l *logSignals) Enabled(context.Context, slog.Level) bool { return true }
func (l *logSignals) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *logSignals) WithGroup(string) slog.Handler            { return l }

func (l *logSignals) Handle(_ context.Context, r slog.Record) error {
	line := r.Message
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "account" {
			line += fmt.Sprintf(" account=%v", a.Value)
		}
		return true
	})
	l.mu.Lock()
	l.seen = append(l.seen, line)
	close(l.ch)
	l.ch = make(chan struct{})
	l.mu.Unlock()
	return nil
}

// wait returns once a record containing want was logged, or fails t
// after d.
func (l *logSignals) wait(t *testing.T, d time.Duration, want string) {
	t.Helper()
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	for {
		l.mu.Lock()
		for _, s := range l.seen {
			if strings.Contains(s, want) {
				l.mu.Unlock()
				return
			}
		}
		ch := l.ch
		l.mu.Unlock()
		select {
		case <-ch:
		case <-deadline.C:
			t.Fatalf("not logged within %v: %q", d, want)
		}
	}
}

// deliver hands h one signed delivery for account, as BookingSync would,
// and fails t unless it is answered 200.
func deliver(t testing.TB, h http.Handler, account int64, event string, resource any) {
	t.Helper()
	body, err := json.Marshal(map[string]any{"account_id": account, "event": event, "resource": resource})
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest("POST", "/webhooks", strings.NewReader(string(body)))
	req.Header.Set(bookingsync.SignatureHeader, bookingsynctest.SignWebhook(body, bookingsynctest.DefaultClientSecret))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Errorf("delivery answered %d: %s", rec.Code, rec.Body)
	}
}

// flood delivers n distinct deliveries from 8 senders at once.
func flood(t *testing.T, h http.Handler, account int64, n int, event string, resource func(i int) any) {
	t.Helper()
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 8 {
				deliver(t, h, account, event, resource(i))
			}
		}()
	}
	wg.Wait()
}

// deliveries counts the account's recorded deliveries: all of them, those
// not done, and those tried at least once.
func deliveries(t *testing.T, st *inboxsync.Store, account int64) (all, pending, tried int) {
	t.Helper()
	err := st.DB().QueryRow(fmt.Sprintf(`SELECT COUNT(*), COUNT(*) - COUNT(done_at), COALESCE(SUM(CASE WHEN attempts > 0 THEN 1 ELSE 0 END), 0)
FROM fleet_deliveries WHERE account_id = %d`, account)).Scan(&all, &pending, &tried)
	if err != nil {
		t.Fatal(err)
	}
	return all, pending, tried
}

// pressureConfig is a replica whose passes are rare, so that the
// deliveries are what it works on.
func pressureConfig(srv *bookingsynctest.Server, logs *logSignals) inboxsync.FleetConfig {
	cfg := fleetConfig(srv.URL, srv.Client(), "r1")
	cfg.Every = time.Hour
	if logs != nil {
		cfg.Logger = slog.New(logs)
	}
	return cfg
}

// Every delivery of a flood is acted on, whether it came before the
// account's run started or during it: none is passed over because the
// replica was busy with the others. Each half of the flood is a few of the
// batches a run reads at once, and more than the 64 deliveries the
// channel that once carried them held.
func TestFleetActsOnEveryDeliveryOfAFlood(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dsn string) {
		st := openStore(t, dsn)
		srv, accts := fleetFake(t, st, 1, bookingsynctest.WithRateLimit(1<<30))
		logs := newLogSignals()
		cfg := pressureConfig(srv, logs)
		a := accts[0].ID()
		n := 2*inboxsync.DeliveryBatch + 50
		app := func(from int) func(i int) any {
			return func(i int) any { return map[string]any{"application": map[string]any{"id": from + i}} }
		}
		// Received by a replica before any runs the account.
		early, err := inboxsync.NewFleet(st, cfg)
		if err != nil {
			t.Fatal(err)
		}
		flood(t, early.WebhookHandler(), a, n, bookingsync.EventApplicationUpdated, app(1))

		r := startReplica(t, st, cfg)
		logs.wait(t, 20*time.Second, fmt.Sprintf("account leased; syncing account=%d", a))
		flood(t, r.f.WebhookHandler(), a, n, bookingsync.EventApplicationUpdated, app(n+1))
		testsignal.Eventually(t, "every delivery acted on", func() bool {
			all, pending, _ := deliveries(t, st, a)
			return all == 2*n && pending == 0
		})
	})
}

// Deliveries of one account that keep failing (more of them than a run
// reads at once) never delay another account's.
func TestFleetOneAccountsFailuresNeverDelayAnother(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dsn string) {
		st := openStore(t, dsn)
		srv, accts := fleetFake(t, st, 2, bookingsynctest.WithRateLimit(1<<30))
		logs := newLogSignals()
		r := startReplica(t, st, pressureConfig(srv, logs))
		a, b := accts[0].ID(), accts[1].ID()
		logs.wait(t, 20*time.Second, fmt.Sprintf("account leased; syncing account=%d", a))
		logs.wait(t, 20*time.Second, fmt.Sprintf("account leased; syncing account=%d", b))

		// A conversation event whose resource is no conversation: acting
		// on it fails every time.
		n := inboxsync.DeliveryBatch + 10
		flood(t, r.f.WebhookHandler(), a, n, bookingsync.EventInboxConversationUpdated,
			func(i int) any { return fmt.Sprintf("garbage %d", i) })
		testsignal.Eventually(t, "every failing delivery tried", func() bool {
			_, _, tried := deliveries(t, st, a)
			return tried == n
		})

		deliver(t, r.f.WebhookHandler(), b, bookingsync.EventApplicationUpdated, map[string]any{"application": map[string]any{"id": 1}})
		testsignal.Eventually(t, "the other account's delivery acted on", func() bool {
			_, pending, _ := deliveries(t, st, b)
			return pending == 0
		})
	})
}

// An API outage for one account in the middle of a burst of deliveries
// for two: the healthy account's deliveries are acted on while the other's
// still fail, and once the API is back (and the failed ones' backoff has
// passed, by the database's clock) every recorded delivery is acted on,
// none given up, and both copies are the server's.
func TestFleetOutageMidBurst(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dsn string) {
		st := openStore(t, dsn)
		srv, accts := fleetFake(t, st, 2, bookingsynctest.WithRateLimit(1<<30), bookingsynctest.WithConversationDelay(0))
		cfg := pressureConfig(srv, nil)
		// A failure is the delivery's to retry (its backoff), not the
		// client's: no resends, no real waits.
		cfg.ClientOptions = append(cfg.ClientOptions, bookingsync.WithRetry(bookingsync.RetryPolicy{MaxAttempts: 1}))
		f, err := inboxsync.NewFleet(st, cfg)
		if err != nil {
			t.Fatal(err)
		}
		hooks := inboxsync.ArmFleet(t, f)
		r := runFleet(t, f)
		hooks.Beat(t) // the first beat takes both accounts
		hooks.Passed(t)
		hooks.Passed(t) // both copies made before the outage
		down, up := accts[0], accts[1]

		// The API answers 503 to every request of one account.
		srv.AddFault(bookingsynctest.Fault{AccountID: down.ID(), Kind: bookingsynctest.FaultStatus, Status: 503})
		const n = 40
		ids := map[int64][]int64{}
		for _, a := range accts {
			for i := range n {
				ids[a.ID()] = append(ids[a.ID()], a.AddConversation(bookingsynctest.ConversationSeed{Subject: fmt.Sprintf("burst %d", i)}))
			}
		}
		var wg sync.WaitGroup
		for _, a := range accts {
			wg.Add(1)
			go func() {
				defer wg.Done()
				flood(t, r.f.WebhookHandler(), a.ID(), n, bookingsync.EventInboxConversationCreated,
					func(i int) any { return map[string]any{"id": ids[a.ID()][i]} })
			}()
		}
		wg.Wait()

		// The healthy account is served while the outage lasts.
		testsignal.Eventually(t, "the healthy account's deliveries acted on during the outage", func() bool {
			all, pending, _ := deliveries(t, st, up.ID())
			return all == n && pending == 0
		})
		testsignal.Eventually(t, "the failing account's deliveries tried", func() bool {
			_, _, tried := deliveries(t, st, down.ID())
			return tried == n
		})
		if _, pending, _ := deliveries(t, st, down.ID()); pending != n {
			t.Fatalf("%d of the failing account's deliveries pending during the outage; want all %d", pending, n)
		}

		// The API recovers; the backoff passes.
		srv.ClearFaults()
		inboxsync.ShiftClock(st, 5*time.Minute)
		testsignal.Eventually(t, "the failing account's deliveries acted on after the outage", func() bool {
			_, pending, _ := deliveries(t, st, down.ID())
			return pending == 0
		})
		var gaveUp int
		if err := st.DB().QueryRow(fmt.Sprintf(`SELECT COUNT(*) FROM fleet_deliveries WHERE account_id = %d AND last_error IS NOT NULL`,
			down.ID())).Scan(&gaveUp); err != nil || gaveUp != 0 {
			t.Fatalf("%d deliveries failed for good (%v); want none", gaveUp, err)
		}
		for _, a := range accts {
			c := newClient(t, srv, bookingsync.WithToken(a.Token()))
			testsignal.Eventually(t, fmt.Sprintf("account %d's copy is the server's", a.ID()), func() bool {
				return diff(serverState(t, c), accountState(t, st, a.ID())) == ""
			})
		}
	})
}

// A fleet started before any install says it waits, keeps running, and
// syncs the first account installed.
func TestFleetRunWaitsForInstalls(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dsn string) {
		st := openStore(t, dsn)
		srv, accts := fleetFake(t, nil, 1, bookingsynctest.WithRateLimit(1<<30))
		logs := newLogSignals()
		startReplica(t, st, pressureConfig(srv, logs))
		logs.wait(t, 20*time.Second, "no account installed; waiting for installs")

		a := accts[0]
		tok := &oauth2.Token{AccessToken: a.Token(), RefreshToken: a.RefreshToken(), TokenType: "Bearer", Expiry: time.Now().Add(time.Hour)}
		if err := st.TokenStore(a.ID()).Save(context.Background(), tok); err != nil {
			t.Fatal(err)
		}
		logs.wait(t, 20*time.Second, fmt.Sprintf("account leased; syncing account=%d", a.ID()))
	})
}

// An uninstall ends the clients handed out before it: they fail with
// ErrAccountRevoked without sending a request, whether this replica
// received the uninstall or another did.
func TestFleetUninstallEndsHandedOutClients(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		st := openStore(t, dsn)
		srv, accts := fleetFake(t, st, 2, bookingsynctest.WithRateLimit(1<<30))
		logs := newLogSignals()
		r := startReplica(t, st, pressureConfig(srv, logs))
		clients := map[int64]*bookingsync.Client{}
		for _, a := range accts {
			c, err := r.f.Client(ctx, a.ID())
			if err != nil {
				t.Fatal(err)
			}
			if _, _, err := c.Hosts.List(ctx, nil); err != nil {
				t.Fatal(err)
			}
			clients[a.ID()] = c
		}
		noRequest := func(a *bookingsynctest.Account) {
			t.Helper()
			before := a.RequestTotal()
			if _, _, err := clients[a.ID()].Hosts.List(ctx, nil); !errors.Is(err, inboxsync.ErrAccountRevoked) {
				t.Fatalf("a handed-out client after the uninstall: %v", err)
			}
			if n := a.RequestTotal() - before; n != 0 {
				t.Fatalf("%d requests sent after the uninstall", n)
			}
		}

		// This replica receives the uninstall (the fake's tokens stay
		// valid: only our side knows).
		deliver(t, r.f.WebhookHandler(), accts[0].ID(), bookingsync.EventApplicationDestroyed,
			map[string]any{"account": map[string]any{"id": accts[0].ID(), "updated_at": time.Now().UTC().Format(time.RFC3339)}})
		noRequest(accts[0])

		// Another process uninstalls the other account: this replica
		// learns it at its next beat.
		if err := st.Uninstall(ctx, accts[1].ID(), "operator"); err != nil {
			t.Fatal(err)
		}
		logs.wait(t, 20*time.Second, fmt.Sprintf("its client ends here account=%d", accts[1].ID()))
		noRequest(accts[1])
	})
}

// A replayed accounts_application_destroyed delivery, or a late one about
// an earlier installation, never uninstalls the current installation.
func TestFleetReplayedUninstallKeepsReinstall(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		st := openStore(t, dsn)
		srv, accts := fleetFake(t, st, 1, bookingsynctest.WithRateLimit(1<<30))
		f, err := inboxsync.NewFleet(st, pressureConfig(srv, nil))
		if err != nil {
			t.Fatal(err)
		}
		hook := httptest.NewServer(f.WebhookHandler())
		t.Cleanup(hook.Close)
		a := accts[0]
		a.SetWebhookURL(hook.URL)
		a.Uninstall()
		srv.FlushWebhooks()
		d := a.WebhookDeliveries()
		if len(d) != 1 || d[0].Status != http.StatusOK {
			t.Fatalf("deliveries: %+v", d)
		}
		if _, err := st.TokenStore(a.ID()).Load(ctx); !errors.Is(err, inboxsync.ErrAccountRevoked) {
			t.Fatalf("token after the uninstall: %v", err)
		}

		access, refresh := a.Reinstall()
		if err := st.TokenStore(a.ID()).Save(ctx, &oauth2.Token{AccessToken: access, RefreshToken: refresh, TokenType: "Bearer",
			Expiry: time.Now().Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		// The same delivery again.
		req := httptest.NewRequest("POST", "/", strings.NewReader(string(d[0].Body)))
		req.Header.Set(bookingsync.SignatureHeader, bookingsynctest.SignWebhook(d[0].Body, bookingsynctest.DefaultClientSecret))
		rec := httptest.NewRecorder()
		f.WebhookHandler().ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Fatalf("replay answered %d", rec.Code)
		}
		// Another body about an installation an hour older.
		deliver(t, f.WebhookHandler(), a.ID(), bookingsync.EventApplicationDestroyed,
			map[string]any{"account": map[string]any{"id": a.ID(), "updated_at": time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)}})
		if _, err := st.TokenStore(a.ID()).Load(ctx); err != nil {
			t.Fatalf("the reinstallation was undone: %v", err)
		}
	})
}
