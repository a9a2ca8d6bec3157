package bench_test

import (
	"context"
	"testing"
	"time"

	"github.com/go-bookingsync/bookingsync/bench/internal/bench"
	"github.com/go-bookingsync/bookingsync/bookingsynctest"
)

// The benchmarks below run the SDK against a bookingsynctest fake in the
// same process; bench/cmd/bsbench prints the same figures as ratios. They
// report custom metrics besides ns/op:
//
//	go test -run '^$' -bench 'Iterate|PeakHeap|Triage' -benchtime 1x

// BenchmarkIterate walks 10,000 conversations (100 pages) at 20 ms per
// request, sequentially and with WithPrefetch(8). x-bound is the walk's
// time over its latency bound: 100 x 20 ms sequentially, ceil(100/8) = 13
// rounds x 20 ms with prefetch.
func BenchmarkIterate(b *testing.B) {
	const convs, latency = 10000, 20 * time.Millisecond
	s, _ := bench.Fake(convs, latency)
	defer s.Close()
	for _, tc := range []struct {
		name     string
		prefetch int
		rounds   int
	}{{"sequential", 0, 100}, {"prefetch8", 8, 13}} {
		b.Run(tc.name, func(b *testing.B) {
			var total time.Duration
			for b.Loop() {
				r, err := bench.TimeIterate(context.Background(), s, tc.prefetch)
				if err != nil || r.Items != convs || r.Requests != 100 {
					b.Fatalf("%+v, %v", r, err)
				}
				total += r.Elapsed
			}
			b.ReportMetric(float64(total)/float64(b.N)/float64(time.Duration(tc.rounds)*latency), "x-bound")
		})
	}
}

// BenchmarkPeakHeap walks 10,000 and 100,000 conversations without
// latency and reports the peak HeapInuse above the pre-walk level,
// sampled after every page (peak-MiB, which follows the collector's
// pacing) and after a forced collection every 10th page (retained-MiB,
// what the walk holds). Both fakes are filled before either walk, so that
// the fake's own data weighs the same on both; flat means the same
// figures for both sizes.
func BenchmarkPeakHeap(b *testing.B) {
	small, _ := bench.Fake(10000, 0)
	defer small.Close()
	large, _ := bench.Fake(100000, 0)
	defer large.Close()
	for _, tc := range []struct {
		name string
		s    *bookingsynctest.Server
		n    int
	}{{"10000", small, 10000}, {"100000", large, 100000}} {
		b.Run(tc.name, func(b *testing.B) {
			var peak, retained uint64
			for b.Loop() {
				for _, gcEvery := range []int{0, 10} {
					p, n, err := bench.PeakHeap(context.Background(), tc.s, gcEvery)
					if err != nil || n != tc.n {
						b.Fatalf("%d conversations, %v", n, err)
					}
					if gcEvery == 0 {
						peak = max(peak, p)
					} else {
						retained = max(retained, p)
					}
				}
			}
			b.ReportMetric(float64(peak)/(1<<20), "peak-MiB")
			b.ReportMetric(float64(retained)/(1<<20), "retained-MiB")
		})
	}
}

// BenchmarkTriage lists 1,000 conversations of three channel applications
// with include=participants and resolves each one's Origin; requests/op
// is what the fake received, x-minimum its ratio to pages +
// applications (13).
func BenchmarkTriage(b *testing.B) {
	s, _ := bench.Fake(1000, 0)
	defer s.Close()
	var r bench.TriageResult
	var err error
	for b.Loop() {
		if r, err = bench.Triage(context.Background(), s); err != nil || r.Conversations != 1000 {
			b.Fatalf("%+v, %v", r, err)
		}
	}
	b.ReportMetric(float64(r.Requests), "requests/op")
	b.ReportMetric(float64(r.Requests)/float64(r.Minimum), "x-minimum")
}
