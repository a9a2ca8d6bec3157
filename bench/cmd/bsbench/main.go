// Command bsbench measures the SDK against an in-process bookingsynctest
// fake with an injected latency and prints a table of ratios: the SDK's
// figure, a reference figure, their ratio and the target. The pass/miss
// column is information only; bsbench exits 0 whatever the figures (it
// exits 1 only when a measurement could not be made).
//
//	go run ./bench/cmd/bsbench -latency 20ms
//
// Rows:
//   - decode: Conversations.List of a recorded 100-conversation page
//     through an in-memory transport, vs http.Client.Do + io.ReadAll + one
//     json.Unmarshal into the same structs (time and allocations).
//   - iterate: Conversations.All over -convs conversations at -latency per
//     request, sequentially vs pages x latency, and with
//     WithPrefetch(-prefetch) vs ceil(pages/prefetch) rounds x latency, the
//     issue's bound (the first page is fetched alone, so the walk cannot
//     take less than 1 + ceil((pages-1)/prefetch) rounds); and the requests
//     both walks made vs one per page.
//   - peak heap: the peak HeapInuse above the pre-walk level while walking
//     -heap-large vs -heap-small conversations (no latency), sampled after
//     every page; both fakes are filled before either walk, so the fake's
//     data weighs the same on both. The figure follows the collector's
//     pacing; retained heap samples after a forced collection every 10th
//     page instead and so shows what the walk holds.
//   - triage: list -triage conversations with include=participants and
//     resolve each one's Origin; requests made vs pages + distinct
//     applications.
package main

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/go-bookingsync/bookingsync"
	"github.com/go-bookingsync/bookingsync/bench/internal/bench"
)

func main() {
	if err := run(os.Stdout, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "bsbench:", err)
		os.Exit(1)
	}
}

// config is what the flags set.
type config struct {
	latency   time.Duration
	page      int
	convs     int
	prefetch  int
	heapSmall int
	heapLarge int
	triage    int
}

// row is one line of the table: ratio = sdk / ref, met when ratio <= target.
type row struct {
	name, unit string
	sdk, ref   float64
	target     float64
	note       string
}

func run(w io.Writer, args []string) error {
	fs := flag.NewFlagSet("bsbench", flag.ContinueOnError)
	fs.SetOutput(w)
	var cfg config
	fs.DurationVar(&cfg.latency, "latency", 20*time.Millisecond, "latency the fake adds to every API request")
	fs.IntVar(&cfg.page, "page", 100, "conversations in the decoded page")
	fs.IntVar(&cfg.convs, "convs", 10000, "conversations iterated with latency")
	fs.IntVar(&cfg.prefetch, "prefetch", 8, "WithPrefetch(n) for the prefetching walk")
	fs.IntVar(&cfg.heapSmall, "heap-small", 10000, "conversations of the smaller peak-heap walk")
	fs.IntVar(&cfg.heapLarge, "heap-large", 100000, "conversations of the larger peak-heap walk")
	fs.IntVar(&cfg.triage, "triage", 1000, "conversations of the triage sync")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if cfg.page < 1 || cfg.page > bookingsync.MaxPerPage || cfg.convs < 1 || cfg.prefetch < 1 ||
		cfg.heapSmall < 1 || cfg.heapLarge < 1 || cfg.triage < 1 {
		return fmt.Errorf("sizes must be positive, -page at most %d", bookingsync.MaxPerPage)
	}
	fmt.Fprintln(w, "go run ./bench/cmd/bsbench "+strings.Join(commandLine(fs), " "))
	fmt.Fprintf(w, "# %s %s/%s, GOMAXPROCS=%d, %s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH,
		runtime.GOMAXPROCS(0), time.Now().UTC().Format(time.RFC3339))
	rows, err := measure(context.Background(), cfg)
	if err != nil {
		return err
	}
	print(w, rows)
	return nil
}

// commandLine is -latency (always) and every flag set to a non-default
// value, so that the first line reproduces the run.
func commandLine(fs *flag.FlagSet) []string {
	out := []string{"-latency " + fs.Lookup("latency").Value.String()}
	fs.Visit(func(f *flag.Flag) {
		if f.Name != "latency" {
			out = append(out, "-"+f.Name+" "+f.Value.String())
		}
	})
	return out
}

func measure(ctx context.Context, cfg config) ([]row, error) {
	var rows []row

	sdk, ref, err := bench.DecodeBenchmarks(cfg.page)
	if err != nil {
		return nil, err
	}
	// The two run in turn, five times, and each keeps its median: on a
	// shared machine a single run of each drifts with the neighbours.
	var runsS, runsR []testing.BenchmarkResult
	for range 5 {
		runsS = append(runsS, testing.Benchmark(sdk))
		runsR = append(runsR, testing.Benchmark(ref))
	}
	rs, rr := median(runsS), median(runsR)
	if rs.N == 0 || rr.N == 0 {
		return nil, fmt.Errorf("decode benchmarks failed")
	}
	page := fmt.Sprintf("decode %d-conversation page", cfg.page)
	rows = append(rows,
		row{name: page + ", time", unit: "µs/op", sdk: float64(rs.NsPerOp()) / 1e3, ref: float64(rr.NsPerOp()) / 1e3, target: 1.15,
			note: "ref: net/http + one json.Unmarshal"},
		row{name: page + ", allocations", unit: "allocs/op", sdk: float64(rs.AllocsPerOp()), ref: float64(rr.AllocsPerOp()), target: 1.15})

	s, _ := bench.Fake(cfg.convs, cfg.latency)
	defer s.Close()
	pages := (cfg.convs + bookingsync.MaxPerPage - 1) / bookingsync.MaxPerPage
	seq, err := bench.TimeIterate(ctx, s, 0)
	if err != nil {
		return nil, err
	}
	// The prefetching walk is short and sensitive to the neighbours: the
	// median of three.
	var pres []bench.IterateResult
	for range 3 {
		r, err := bench.TimeIterate(ctx, s, cfg.prefetch)
		if err != nil {
			return nil, err
		}
		pres = append(pres, r)
	}
	slices.SortFunc(pres, func(a, b bench.IterateResult) int { return cmp.Compare(a.Elapsed, b.Elapsed) })
	pre := pres[1]
	for _, r := range []bench.IterateResult{seq, pre} {
		if r.Items != cfg.convs {
			return nil, fmt.Errorf("iterate: %d conversations of %d", r.Items, cfg.convs)
		}
	}
	rounds := (pages + cfg.prefetch - 1) / cfg.prefetch
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	rows = append(rows,
		row{name: fmt.Sprintf("iterate %d conversations, sequential", cfg.convs), unit: "ms", sdk: ms(seq.Elapsed),
			ref: ms(time.Duration(pages) * cfg.latency), note: fmt.Sprintf("ref: %d pages x %v; %d requests", pages, cfg.latency, seq.Requests)},
		row{name: fmt.Sprintf("iterate %d conversations, WithPrefetch(%d)", cfg.convs, cfg.prefetch), unit: "ms", sdk: ms(pre.Elapsed),
			ref: ms(time.Duration(rounds) * cfg.latency), target: 1.5,
			note: fmt.Sprintf("ref: %d rounds x %v; %d requests", rounds, cfg.latency, pre.Requests)},
		row{name: "iterate, requests made (both walks)", unit: "requests", sdk: float64(seq.Requests + pre.Requests), ref: float64(2 * pages), target: 1,
			note: "ref: each page once"})

	// Both fakes are filled before either walk is measured.
	small, _ := bench.Fake(cfg.heapSmall, 0)
	defer small.Close()
	large, _ := bench.Fake(cfg.heapLarge, 0)
	defer large.Close()
	for _, m := range []struct {
		name, note, unit string
		scale, target    float64
		gcEvery          int
	}{
		{"peak heap", "HeapInuse above the pre-walk level, every page; flat is 1.0", "MiB", 1 << 20, 1.25, 0},
		// A few pages of allocator slack: the ratio of two such small
		// figures is noise, so it is shown, not judged.
		{"retained heap", "the same after a GC, every 10th page; holding them all would be ~57 MiB", "KiB", 1 << 10, 0, 10},
	} {
		ps, ns, err := bench.PeakHeap(ctx, small, m.gcEvery)
		if err != nil {
			return nil, err
		}
		pl, nl, err := bench.PeakHeap(ctx, large, m.gcEvery)
		if err != nil {
			return nil, err
		}
		if ns != cfg.heapSmall || nl != cfg.heapLarge {
			return nil, fmt.Errorf("%s: walked %d and %d conversations, want %d and %d", m.name, ns, nl, cfg.heapSmall, cfg.heapLarge)
		}
		rows = append(rows, row{name: fmt.Sprintf("%s, %d vs %d conversations", m.name, cfg.heapLarge, cfg.heapSmall), unit: m.unit,
			sdk: float64(pl) / m.scale, ref: float64(max(ps, 1)) / m.scale, target: m.target, note: m.note})
	}

	ts, _ := bench.Fake(cfg.triage, cfg.latency)
	defer ts.Close()
	tr, err := bench.Triage(ctx, ts)
	if err != nil {
		return nil, err
	}
	if tr.Conversations != cfg.triage {
		return nil, fmt.Errorf("triage: %d conversations of %d", tr.Conversations, cfg.triage)
	}
	rows = append(rows, row{name: fmt.Sprintf("triage sync of %d conversations", cfg.triage), unit: "requests",
		sdk: float64(tr.Requests), ref: float64(tr.Minimum), target: 1,
		note: fmt.Sprintf("ref: pages + %d applications", len(tr.Channels))})
	return rows, nil
}

func print(w io.Writer, rows []row) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "figure\tunit\tSDK\treference\tratio\ttarget\tresult\tnote")
	for _, r := range rows {
		ratio := r.sdk / r.ref
		target, result := "-", "info"
		if r.target > 0 {
			target = fmt.Sprintf("<= %.2f", r.target)
			result = "met"
			if ratio > r.target {
				result = "missed"
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%.1f\t%.1f\t%.3f\t%s\t%s\t%s\n", r.name, r.unit, r.sdk, r.ref, ratio, target, result, r.note)
	}
	tw.Flush()
}

// median is the run with the median time per operation.
func median(runs []testing.BenchmarkResult) testing.BenchmarkResult {
	slices.SortFunc(runs, func(a, b testing.BenchmarkResult) int { return cmp.Compare(a.NsPerOp(), b.NsPerOp()) })
	return runs[len(runs)/2]
}
