package inboxsync

// Benchmarks of the first pass and of the write path, each against a
// baseline in the same run; read the ratios, not the timings:
//
//	go test -run '^$' -bench . -benchtime 1x ./inboxsync/
//
// BenchmarkFirstPass: a first pass over 10,000 conversations and 50,000
// messages: requests made against the listings' page count, records per
// second, and the live heap the pass adds above the fake's own data, at
// two sizes (flat memory: the larger must not need more), at its peak and
// left after the pass; then a pass with nothing changed: its requests
// against the walked resources. The /prefetch4 runs are the same with the
// client's WithPrefetch(4): the pages ahead fetched while one is written.
//
// BenchmarkApply: the pass's write path (decode the filter columns, check
// tombstones, renew the lease, upsert under the updated_at guard, one
// transaction per page) against the baseline, a raw batched INSERT … ON
// CONFLICT DO UPDATE of the same rows, 100 a statement, one transaction
// each, into the same schema on the same back end.

import (
	"context"
	"database/sql"
	"fmt"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-bookingsync/bookingsync"
	"github.com/go-bookingsync/bookingsync/bookingsynctest"
	"github.com/go-bookingsync/bookingsync/inboxsync/internal/dbtest"
)

const benchAcct = bookingsynctest.AccountID

func benchFake(b *testing.B, convs, msgs int, opts ...bookingsync.Option) (*bookingsynctest.Server, *bookingsync.Client) {
	srv := bookingsynctest.NewServer(bookingsynctest.WithoutSeed(), bookingsynctest.WithSeedSize(convs, msgs),
		bookingsynctest.WithRateLimit(1<<30), bookingsynctest.WithoutRequestLog())
	b.Cleanup(srv.Close)
	c, err := bookingsync.NewClient(append([]bookingsync.Option{bookingsync.WithBaseURL(srv.URL), bookingsync.WithToken(srv.Token()),
		bookingsync.WithHTTPClient(srv.Client())}, opts...)...)
	if err != nil {
		b.Fatal(err)
	}
	return srv, c
}

// heapPeak samples the live heap (as the last garbage collection marked
// it, so that garbage awaiting collection does not count) until stop is
// called, and returns the peak above the level when it started, and what
// is left above it after a collection once stopped.
func heapPeak() (stop func() (peak, retained uint64)) {
	runtime.GC()
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	live := func() uint64 { metrics.Read(sample); return sample[0].Value.Uint64() }
	base := live()
	var peak atomic.Uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if v := live(); v > base && v-base > peak.Load() {
					peak.Store(v - base)
				}
			}
		}
	}()
	return func() (uint64, uint64) {
		close(done)
		wg.Wait()
		runtime.GC()
		return peak.Load(), max(live(), base) - base
	}
}

// listingPages sums the X-Total-Pages of every walked listing.
func listingPages(b *testing.B, s *Syncer) int {
	n := 0
	var rep Report
	for _, r := range walked {
		_, resp, err := s.fetch(context.Background(), listPath(r, firstCursor, 1), r.key, &rep)
		if err != nil {
			b.Fatal(err)
		}
		n += max(resp.TotalPages, 1)
	}
	return n
}

func BenchmarkFirstPass(b *testing.B) {
	for _, backend := range dbtest.Backends {
		for _, size := range []struct{ convs, msgs, prefetch int }{{2000, 10000, 0}, {10000, 50000, 0}, {2000, 10000, 4}, {10000, 50000, 4}} {
			name := fmt.Sprintf("%s/%dconv_%dmsg", backend, size.convs, size.msgs)
			if size.prefetch > 0 {
				name += fmt.Sprintf("/prefetch%d", size.prefetch)
			}
			b.Run(name, func(b *testing.B) {
				ctx := context.Background()
				for b.Loop() {
					b.StopTimer()
					srv, c := benchFake(b, size.convs, size.msgs, bookingsync.WithPrefetch(size.prefetch))
					// The seeded records carry the second they were made in;
					// a cursor in that same second would list them again.
					srv.Advance(time.Second)
					st, err := Open(ctx, dbtest.DSN(b, backend))
					if err != nil {
						b.Fatal(err)
					}
					s := New(st, benchAcct, c)
					stop := heapPeak()
					b.StartTimer()
					start := time.Now()
					rep, err := s.Sync(ctx)
					elapsed := time.Since(start)
					b.StopTimer()
					peak, retained := stop()
					if err != nil {
						b.Fatal(err)
					}
					// The listings' own page counts, asked before the pass
					// through the same client (not counted in rep); no
					// application created a conversation here.
					want := listingPages(b, s)
					records := 0
					for _, rr := range rep.Resources {
						records += rr.Upserted
					}
					// Then a pass with nothing changed, once the server's
					// clock (whole seconds) has moved past the cursor.
					srv.Advance(time.Second)
					noop, err := s.Sync(ctx)
					if err != nil {
						b.Fatal(err)
					}
					b.ReportMetric(float64(noop.Requests), "noop-pass-requests")
					b.ReportMetric(float64(len(walked)), "walked-resources")
					b.ReportMetric(float64(rep.Requests), "requests")
					b.ReportMetric(float64(want), "pages")
					b.ReportMetric(float64(records)/elapsed.Seconds(), "records/s")
					b.ReportMetric(float64(peak)/(1<<20), "peak-live-heap-MB")
					b.ReportMetric(float64(retained)/(1<<20), "retained-heap-MB")
					st.Close()
					b.StartTimer()
				}
			})
		}
	}
}

// benchPage is one fetched page of a resource.
type benchPage struct {
	r     *resource
	items [][]byte
}

// fetchAll downloads every page of conversations, participants and
// messages.
func fetchAll(b *testing.B, s *Syncer) []benchPage {
	ctx := context.Background()
	var out []benchPage
	var rep Report
	for _, r := range []*resource{resConversations, resParticipants, resMessages} {
		for page := 1; page > 0; {
			items, resp, err := s.fetch(ctx, listPath(r, firstCursor, page), r.key, &rep)
			if err != nil {
				b.Fatal(err)
			}
			out = append(out, benchPage{r, items})
			if resp.NextPage <= page {
				break
			}
			page = resp.NextPage
		}
	}
	return out
}

func BenchmarkApply(b *testing.B) {
	for _, backend := range dbtest.Backends {
		b.Run(backend, func(b *testing.B) {
			ctx := context.Background()
			_, c := benchFake(b, 10000, 50000)
			st0, err := Open(ctx, dbtest.DSN(b, backend))
			if err != nil {
				b.Fatal(err)
			}
			defer st0.Close()
			pages := fetchAll(b, New(st0, benchAcct, c))
			records := 0
			for _, p := range pages {
				records += len(p.items)
			}
			for b.Loop() {
				b.StopTimer()
				// Two fresh databases: the baseline's rows, already
				// extracted, are inserted raw into one; the syncer's write
				// path (under a lease, as a pass writes) fills the other.
				// They alternate page by page, so that a change in the
				// machine's load weighs on both alike.
				stBase, err := Open(ctx, dbtest.DSN(b, backend))
				if err != nil {
					b.Fatal(err)
				}
				st, err := Open(ctx, dbtest.DSN(b, backend))
				if err != nil {
					b.Fatal(err)
				}
				type batch struct {
					query string
					args  []any
				}
				var batches []batch
				for _, p := range pages {
					args := make([]any, 0, len(p.items)*(len(p.r.cols)+2))
					for _, raw := range p.items {
						vals := make([]any, len(p.r.cols))
						if _, err := p.r.fill(stBase.d, raw, vals); err != nil {
							b.Fatal(err)
						}
						args = append(append(append(args, benchAcct), vals...), string(raw))
					}
					batches = append(batches, batch{stBase.d.rebind(rawUpsertSQL(p.r, len(p.items))), args})
				}
				const holder = "bench"
				const ttl = time.Hour
				for _, r := range []*resource{resConversations, resParticipants, resMessages} {
					if ok, err := st.acquireLease(ctx, benchAcct, r.name, holder, ttl); err != nil || !ok {
						b.Fatal("lease", err)
					}
				}
				var base, applied time.Duration
				b.StartTimer()
				for i, p := range pages {
					start := time.Now()
					if err := stBase.inTx(ctx, func(tx *sql.Tx) error {
						_, err := tx.ExecContext(ctx, batches[i].query, batches[i].args...)
						return err
					}); err != nil {
						b.Fatal(err)
					}
					base += time.Since(start)
					start = time.Now()
					if _, err := st.apply(ctx, benchAcct, p.r, p.items, nil, write{holder: holder, leaseTTL: ttl, since: time.Now().Add(-tombstoneMargin)}); err != nil {
						b.Fatal(err)
					}
					applied += time.Since(start)
				}
				b.StopTimer()
				stBase.Close()
				st.Close()
				b.ReportMetric(float64(records)/base.Seconds(), "baseline-records/s")
				b.ReportMetric(float64(records)/applied.Seconds(), "apply-records/s")
				b.ReportMetric(base.Seconds()/applied.Seconds(), "apply/baseline")
				b.StartTimer()
			}
		})
	}
}

// rawUpsertSQL is the baseline: a plain batched upsert of n rows.
func rawUpsertSQL(r *resource, n int) string {
	set := make([]string, 0, len(r.cols))
	for _, c := range append(r.cols[1:], "raw") {
		set = append(set, c+" = excluded."+c)
	}
	return "INSERT INTO " + r.name + " (account_id, " + strings.Join(r.cols, ", ") + ", raw) VALUES " +
		placeholders(n, len(r.cols)+2) + " ON CONFLICT (account_id, id) DO UPDATE SET " + strings.Join(set, ", ")
}
