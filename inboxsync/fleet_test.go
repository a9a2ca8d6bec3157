package inboxsync_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/go-bookingsync/bookingsync"
	"github.com/go-bookingsync/bookingsync/bookingsynctest"
	"github.com/go-bookingsync/bookingsync/inboxsync"
	"github.com/go-bookingsync/bookingsync/inboxsync/internal/dbtest"
	"github.com/go-bookingsync/bookingsync/inboxsync/internal/testsignal"
	"golang.org/x/oauth2"
)

// fleetFake starts a fake with n installed accounts (besides the default
// one, whose static token the fleet does not use), their tokens saved in
// st, and returns the accounts.
func fleetFake(t testing.TB, st *inboxsync.Store, n int, opts ...bookingsynctest.Option) (*bookingsynctest.Server, []*bookingsynctest.Account) {
	t.Helper()
	srv := bookingsynctest.NewServer(opts...)
	t.Cleanup(srv.Close)
	var accts []*bookingsynctest.Account
	for range n {
		a := srv.AddAccount(bookingsynctest.AccountSeed{})
		tok := &oauth2.Token{AccessToken: a.Token(), RefreshToken: a.RefreshToken(), TokenType: "Bearer",
			Expiry: time.Now().Add(time.Hour)}
		if st != nil {
			if err := st.TokenStore(a.ID()).Save(context.Background(), tok); err != nil {
				t.Fatal(err)
			}
		}
		accts = append(accts, a)
	}
	return srv, accts
}

// fleetConfig is the configuration of a replica against srv.
func fleetConfig(srvURL string, hc *http.Client, replica string) inboxsync.FleetConfig {
	return inboxsync.FleetConfig{
		OAuth: &oauth2.Config{ClientID: bookingsynctest.DefaultClientID, ClientSecret: bookingsynctest.DefaultClientSecret,
			Endpoint: bookingsync.Endpoint(srvURL)},
		ClientOptions: []bookingsync.Option{bookingsync.WithBaseURL(srvURL), bookingsync.WithHTTPClient(hc)},
		HTTPClient:    hc,
		Every:         300 * time.Millisecond,
		WebhookSecret: bookingsynctest.DefaultClientSecret,
		Replica:       replica,
		LeaseTTL:      1500 * time.Millisecond,
		DeliveryPoll:  100 * time.Millisecond,
		Logger:        slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	}
}

// replica is a Fleet running in this process.
type replica struct {
	f       *inboxsync.Fleet
	cancel  context.CancelFunc
	done    chan error
	hook    *httptest.Server
	stopped bool
}

func startReplica(t *testing.T, st *inboxsync.Store, cfg inboxsync.FleetConfig) *replica {
	t.Helper()
	f, err := inboxsync.NewFleet(st, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return runFleet(t, f)
}

// runFleet runs f until the test ends, with a webhook server in front.
func runFleet(t *testing.T, f *inboxsync.Fleet) *replica {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &replica{f: f, cancel: cancel, done: make(chan error, 1), hook: httptest.NewServer(f.WebhookHandler())}
	go func() { r.done <- f.Run(ctx) }()
	t.Cleanup(func() { r.stop(t); r.hook.Close() })
	return r
}

// stop ends the replica cleanly and waits for Run to return.
func (r *replica) stop(t *testing.T) {
	r.cancel()
	if r.stopped {
		return
	}
	r.stopped = true
	select {
	case err := <-r.done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return")
	}
}

// holders returns each account's lease holder.
func holders(t *testing.T, st *inboxsync.Store) map[int64]string {
	t.Helper()
	accts, err := st.Accounts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out := map[int64]string{}
	for _, a := range accts {
		if a.Installed && a.LeaseExpiresAt.After(time.Now()) {
			out[a.ID] = a.LeaseHolder
		}
	}
	return out
}

// Two replicas in one process share four accounts two and two, mirror
// them, act on a webhook whichever receives it, and when one stops the
// other takes its accounts over.
func TestFleetSpreadsAccountsAndTakesOver(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dsn string) {
		st := openStore(t, dsn)
		srv, accts := fleetFake(t, st, 4, bookingsynctest.WithRateLimit(1<<30))
		r1 := startReplica(t, st, fleetConfig(srv.URL, srv.Client(), "r1"))
		r2 := startReplica(t, st, fleetConfig(srv.URL, srv.Client(), "r2"))

		testsignal.Eventually(t, "two accounts leased by each replica", func() bool {
			n := map[string]int{}
			for _, h := range holders(t, st) {
				n[h]++
			}
			return n["r1"] == 2 && n["r2"] == 2
		})
		// The server changes too: each account's delayed conversation
		// appears now, by the fake's clock, while the replicas sync.
		srv.Advance(2 * time.Second)
		for _, a := range accts {
			c, err := r1.f.Client(context.Background(), a.ID())
			if err != nil {
				t.Fatal(err)
			}
			testsignal.Eventually(t, "account's copy converges", func() bool {
				return diff(serverState(t, c), accountState(t, st, a.ID())) == ""
			})
		}

		// A message added on the server, announced to the replica that
		// does not sync its account, reaches the copy through the other.
		a := accts[0]
		other := r1
		if holders(t, st)[a.ID()] == "r1" {
			other = r2
		}
		c, _ := other.f.Client(context.Background(), a.ID())
		convs, _, err := c.Conversations.List(context.Background(), nil)
		if err != nil || len(convs) == 0 {
			t.Fatalf("listing conversations: %v", err)
		}
		parts, err := st.Participants(context.Background(), a.ID(), convs[0].ID)
		if err != nil || len(parts) == 0 {
			t.Fatalf("participants: %v", err)
		}
		msg := a.AddMessage(bookingsynctest.MessageSeed{ConversationID: convs[0].ID, SenderID: parts[0].ID, Content: "late question"})
		if err := a.SendWebhook(context.Background(), other.hook.URL, bookingsync.EventInboxMessageCreated, a.MessageResource(msg)); err != nil {
			t.Fatal(err)
		}
		testsignal.Eventually(t, "the delivered message in the copy", func() bool {
			msgs, _ := st.Messages(context.Background(), a.ID(), convs[0].ID)
			for _, m := range msgs {
				if m.ID == msg {
					return true
				}
			}
			return false
		})

		// r1 stops cleanly: its leases are freed and r2 takes all four.
		r1.stop(t)
		testsignal.Eventually(t, "r2 syncs every account", func() bool {
			n := 0
			for _, h := range holders(t, st) {
				if h == "r2" {
					n++
				}
			}
			return n == 4
		})
	})
}

// An uninstall, by webhook or by a refresh refused with invalid_grant,
// forgets the token and stops the account's sync.
func TestFleetUninstalls(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		st := openStore(t, dsn)
		// No delayed conversation: its webhook would join the uninstall's.
		srv, accts := fleetFake(t, st, 2, bookingsynctest.WithRateLimit(1<<30), bookingsynctest.WithConversationDelay(0))
		r := startReplica(t, st, fleetConfig(srv.URL, srv.Client(), "r1"))
		testsignal.Eventually(t, "both accounts leased", func() bool { return len(holders(t, st)) == 2 })

		// The application is removed from accts[0]: the fake delivers the
		// accounts_application_destroyed webhook.
		accts[0].SetWebhookURL(r.hook.URL)
		accts[0].Uninstall()
		srv.FlushWebhooks()
		if d := accts[0].WebhookDeliveries(); len(d) != 1 || d[0].Status != http.StatusOK {
			t.Fatalf("deliveries: %+v", d)
		}
		if _, err := st.TokenStore(accts[0].ID()).Load(ctx); !errors.Is(err, inboxsync.ErrAccountRevoked) {
			t.Fatalf("token after the uninstall webhook: %v", err)
		}

		// accts[1] is uninstalled without a webhook reaching us; its token
		// then expires, and the refresh is refused.
		accts[1].Uninstall()
		stored, err := st.TokenStore(accts[1].ID()).Load(ctx)
		if err != nil {
			t.Fatal(err)
		}
		stored.Expiry = time.Now().Add(-time.Minute)
		if err := st.TokenStore(accts[1].ID()).Save(ctx, stored); err != nil {
			t.Fatal(err)
		}
		c, err := r.f.Client(ctx, accts[1].ID())
		if err != nil {
			t.Fatal(err)
		}
		testsignal.Eventually(t, "invalid_grant uninstalls the account", func() bool {
			_, err := st.TokenStore(accts[1].ID()).Load(ctx)
			if errors.Is(err, inboxsync.ErrAccountRevoked) {
				return true
			}
			c.Conversations.List(ctx, nil) // a request, so that a refresh happens
			return false
		})
		testsignal.Eventually(t, "no lease left", func() bool { return len(holders(t, st)) == 0 })
		if _, err := r.f.Client(ctx, accts[1].ID()); !errors.Is(err, bookingsync.ErrNoToken) {
			t.Fatalf("Client of an uninstalled account: %v", err)
		}
		if n := accts[1].SpentRefreshCount(); n != 0 {
			t.Fatalf("%d spent refresh tokens presented", n)
		}
	})
}

// Install exchanges the callback's code, asks /me and saves the token.
func TestInstall(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		st := openStore(t, dsn)
		srv := bookingsynctest.NewServer()
		t.Cleanup(srv.Close)
		cfg := &oauth2.Config{ClientID: bookingsynctest.DefaultClientID, ClientSecret: bookingsynctest.DefaultClientSecret,
			RedirectURL: bookingsynctest.DefaultRedirectURI, Scopes: []string{bookingsync.ScopeInboxRead},
			Endpoint: bookingsync.Endpoint(srv.URL)}
		code := authorize(srv, cfg)
		id, err := st.Install(context.WithValue(ctx, oauth2.HTTPClient, srv.Client()), cfg, code,
			bookingsync.WithBaseURL(srv.URL), bookingsync.WithHTTPClient(srv.Client()))
		if err != nil {
			t.Fatal(err)
		}
		if id != bookingsynctest.AccountID {
			t.Fatalf("installed account %d, want %d", id, bookingsynctest.AccountID)
		}
		if tok, err := st.TokenStore(id).Load(ctx); err != nil || tok.RefreshToken == "" {
			t.Fatalf("stored token: %v", err)
		}
		if _, err := st.Install(ctx, cfg, "used-or-bogus", bookingsync.WithBaseURL(srv.URL)); err == nil {
			t.Fatal("Install with a bad code succeeded")
		}
	})
}

// Reconcile uninstalls the accounts the client-credentials listing no
// longer shows, and names those it shows that have no token here.
func TestFleetReconcile(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		st := openStore(t, dsn)
		srv, accts := fleetFake(t, st, 3, bookingsynctest.WithRateLimit(1<<30))
		f, err := inboxsync.NewFleet(st, fleetConfig(srv.URL, srv.Client(), "r1"))
		if err != nil {
			t.Fatal(err)
		}
		accts[1].Uninstall() // no webhook reaches us
		cc := bookingsync.ClientCredentials(bookingsynctest.DefaultClientID, bookingsynctest.DefaultClientSecret, srv.URL).
			TokenSource(context.WithValue(ctx, oauth2.HTTPClient, srv.Client()))
		rec, err := f.Reconcile(ctx, cc)
		if err != nil {
			t.Fatal(err)
		}
		// The fake's default account is installed there, not here.
		if len(rec.Uninstalled) != 1 || rec.Uninstalled[0] != accts[1].ID() ||
			len(rec.Unknown) != 1 || rec.Unknown[0] != bookingsynctest.AccountID {
			t.Fatalf("Reconcile = %+v", rec)
		}
		if _, err := st.TokenStore(accts[1].ID()).Load(ctx); !errors.Is(err, inboxsync.ErrAccountRevoked) {
			t.Fatalf("token after Reconcile: %v", err)
		}
		if _, err := st.TokenStore(accts[0].ID()).Load(ctx); err != nil {
			t.Fatalf("an account still installed: %v", err)
		}
	})
}

// A replica that keeps its leases keeps its runs: beats renew the leases
// and start nothing again (a restarted run would make a pass at once).
// The test drives the beats; the lease outlives the test, so that no
// fence fires however slow the machine.
func TestFleetKeepsRunsAcrossBeats(t *testing.T) {
	t.Parallel()
	st := openStore(t, dbtest.SQLite(t))
	srv, accts := fleetFake(t, st, 2, bookingsynctest.WithRateLimit(1<<30), bookingsynctest.WithConversationDelay(0))
	cfg := fleetConfig(srv.URL, srv.Client(), "r1")
	cfg.Every = time.Hour
	cfg.LeaseTTL = 10 * time.Minute
	f, err := inboxsync.NewFleet(st, cfg)
	if err != nil {
		t.Fatal(err)
	}
	hooks := inboxsync.ArmFleet(t, f)
	runFleet(t, f)
	hooks.Beat(t) // the first beat takes both accounts
	started := map[int64]bool{hooks.Started(t): true, hooks.Started(t): true}
	passed := map[int64]bool{hooks.Passed(t): true, hooks.Passed(t): true}
	if len(started) != 2 || len(passed) != 2 {
		t.Fatalf("started %v, passed %v; want both accounts", started, passed)
	}
	before := accts[0].RequestTotal() + accts[1].RequestTotal()
	for range 10 {
		hooks.Beat(t)
	}
	hooks.RequireNoStart(t)
	if after := accts[0].RequestTotal() + accts[1].RequestTotal(); after != before {
		t.Fatalf("%d requests during ten beats with nothing to do; runs were restarted", after-before)
	}
}
