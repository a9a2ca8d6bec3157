package inboxsync_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-bookingsync/bookingsync"
	"github.com/go-bookingsync/bookingsync/bookingsynctest"
	"github.com/go-bookingsync/bookingsync/inboxsync"
	"github.com/go-bookingsync/bookingsync/inboxsync/internal/dbtest"
)

// TestFleetSimulation measures a fleet at scale; it runs only when
// INBOXSYNC_SIM=1 (timings never decide a test):
//
//	INBOXSYNC_SIM=1 go test ./inboxsync -run TestFleetSimulation -v -timeout 30m
//
// SIM_ACCOUNTS (default 1000) accounts on the fake, each with a small
// Inbox, answering after SIM_LATENCY (default 50ms); for each replica
// count of SIM_REPLICAS (default 1,2,4), replicas in this process (each
// with its own connections) share one Postgres database. It logs the time
// of the first round (every account's full sync), of a full round of
// incremental passes with nothing changed (cued by one webhook per
// account, delivered to a random replica), the requests of one
// incremental pass, and what that makes per account and hour at the
// default period against the API's 1000 an hour.
func TestFleetSimulation(t *testing.T) {
	if os.Getenv("INBOXSYNC_SIM") != "1" {
		t.Skip("a measurement: set INBOXSYNC_SIM=1")
	}
	accounts := envInt("SIM_ACCOUNTS", 1000)
	latency := envDuration("SIM_LATENCY")
	if latency == 0 {
		latency = 50 * time.Millisecond
	}
	counts := []int{1, 2, 4}
	if v := os.Getenv("SIM_REPLICAS"); v != "" {
		counts = nil
		for _, f := range strings.Split(v, ",") {
			n, _ := strconv.Atoi(f)
			counts = append(counts, n)
		}
	}
	for _, n := range counts {
		t.Run(strconv.Itoa(n)+"replicas", func(t *testing.T) {
			dsn := dbtest.Postgres(t)
			st := openStore(t, dsn)
			start := time.Now()
			opts := []bookingsynctest.Option{bookingsynctest.WithRateLimit(1 << 30), bookingsynctest.WithLatency(latency)}
			if os.Getenv("SIM_LOG") == "" {
				opts = append(opts, bookingsynctest.WithoutRequestLog())
			}
			srv, accts := fleetFake(t, st, accounts, opts...)
			for _, a := range accts {
				a.GenerateInbox(2, 4)
			}
			t.Logf("%d accounts set up in %v", accounts, time.Since(start).Round(time.Millisecond))

			var reps []*replica
			t0 := time.Now()
			for i := range n {
				cfg := fleetConfig(srv.URL, srv.Client(), "sim"+strconv.Itoa(i))
				cfg.Every = time.Hour // passes come from the first round and the cues below
				cfg.LeaseTTL = 30 * time.Second
				cfg.DeliveryPoll = time.Second
				if os.Getenv("SIM_LOG") != "" {
					cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
				}
				cfg.SyncOptions = []inboxsync.Option{inboxsync.WithLogger(cfg.Logger)}
				reps = append(reps, startReplica(t, openStore(t, dsn), cfg))
			}
			waitRound(t, st, accounts, t0)
			first := time.Since(t0)

			// A round of incremental passes: one webhook per account, each
			// to a random replica, cues a pass of the account by whichever
			// replica syncs it.
			reqs0 := totalRequests(accts)
			t1 := time.Now()
			var wg sync.WaitGroup
			next := make(chan *bookingsynctest.Account)
			for range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for a := range next {
						url := reps[rand.N(len(reps))].hook.URL
						if err := a.SendWebhook(context.Background(), url, bookingsync.EventBookingUpdated, json.RawMessage(`{"bookings":[{"id":1}]}`)); err != nil {
							t.Error(err)
						}
					}
				}()
			}
			for _, a := range accts {
				next <- a
			}
			close(next)
			wg.Wait()
			waitRound(t, st, accounts, t1)
			round := time.Since(t1)
			perPass := float64(totalRequests(accts)-reqs0) / float64(accounts)
			if os.Getenv("SIM_LOG") != "" {
				paths := map[string]int{}
				for _, r := range srv.Requests() {
					paths[r.Method+" "+r.Path]++
				}
				t.Logf("requests by path: %v", paths)
			}
			for _, r := range reps {
				r.stop(t)
			}
			// Nothing changed: an incremental pass of one account, alone.
			c, err := reps[0].f.Client(context.Background(), accts[0].ID())
			if err != nil {
				t.Fatal(err)
			}
			rep, err := inboxsync.New(st, accts[0].ID(), c).Sync(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			perHour := float64(rep.Requests) * float64(time.Hour/(5*time.Minute))
			t.Logf("replicas=%d accounts=%d latency=%v: first round (full syncs) %v; incremental round after a webhook to each account %v (%.0f passes/s); "+
				"requests per account in that round %.1f; one incremental pass %d requests, so %.0f requests/account/hour at Every=5m (%.1f%% of 1000/hour)",
				n, accounts, latency, first.Round(time.Millisecond), round.Round(time.Millisecond), float64(accounts)/round.Seconds(),
				perPass, rep.Requests, perHour, perHour/10)
		})
	}
}

// waitRound waits until every account finished a pass that began after
// since: each of its Inbox resources' cursors is at least since.
func waitRound(t *testing.T, st *inboxsync.Store, accounts int, since time.Time) {
	t.Helper()
	q := `SELECT COUNT(*) FROM (SELECT account_id FROM sync_cursors
WHERE resource IN ('hosts', 'conversations', 'participants', 'messages', 'attachments')
GROUP BY account_id HAVING MIN(synced_at) >= $1 AND COUNT(*) = 5) x`
	for deadline := time.Now().Add(20 * time.Minute); ; {
		var n int
		if err := st.DB().QueryRow(q, since.Truncate(time.Second).Add(time.Second)).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n >= accounts {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("round not done: %d of %d accounts", n, accounts)
		}
		// The simulation (opt-in, a measurement) watches rounds of
		// minutes over many accounts: a poll of the cursors every 100ms
		// costs the measured replicas nothing, where a signal would need
		// a hook in every replica. Not part of any pass/fail test.
		time.Sleep(100 * time.Millisecond)
	}
}

func totalRequests(accts []*bookingsynctest.Account) int {
	n := 0
	for _, a := range accts {
		n += a.RequestTotal()
	}
	return n
}

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}
