package main

import (
	"bytes"
	"flag"
	"strconv"
	"strings"
	"testing"
)

// TestRunPrintsTheTable runs bsbench with tiny sizes and checks the
// table's shape and the request counts, never the timings.
func TestRunPrintsTheTable(t *testing.T) {
	// testing.Benchmark reads -test.benchtime: keep the decode rows short.
	if f := flag.Lookup("test.benchtime"); f != nil {
		old := f.Value.String()
		if err := f.Value.Set("20x"); err != nil {
			t.Fatal(err)
		}
		defer f.Value.Set(old)
	}
	var out bytes.Buffer
	args := []string{"-latency", "1ms", "-page", "10", "-convs", "250", "-prefetch", "2", "-heap-small", "100", "-heap-large", "300", "-triage", "120"}
	if err := run(&out, args); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(out.String(), "\n"), "\n")
	if want := "go run ./bench/cmd/bsbench -latency 1ms -convs 250 -heap-large 300 -heap-small 100 -page 10 -prefetch 2 -triage 120"; lines[0] != want {
		t.Errorf("first line %q, want %q", lines[0], want)
	}
	if !strings.HasPrefix(lines[1], "# go") {
		t.Errorf("second line %q, want the Go version", lines[1])
	}
	header := strings.Fields(lines[2])
	if strings.Join(header, " ") != "figure unit SDK reference ratio target result note" {
		t.Fatalf("header %q", lines[2])
	}
	rows := map[string][]string{}
	for _, l := range lines[3:] {
		// Columns are separated by at least two spaces.
		var cols []string
		for _, c := range strings.Split(l, "  ") {
			if c = strings.TrimSpace(c); c != "" {
				cols = append(cols, c)
			}
		}
		if len(cols) < 7 {
			t.Fatalf("row %q has %d columns", l, len(cols))
		}
		for _, c := range cols[2:5] {
			if v, err := strconv.ParseFloat(c, 64); err != nil || v < 0 {
				t.Errorf("row %q: %q is not a figure", l, c)
			}
		}
		if r := cols[6]; r != "met" && r != "missed" && r != "info" {
			t.Errorf("row %q: result %q", l, r)
		}
		rows[cols[0]] = cols
	}
	for _, name := range []string{
		"decode 10-conversation page, time", "decode 10-conversation page, allocations",
		"iterate 250 conversations, sequential", "iterate 250 conversations, WithPrefetch(2)",
		"iterate, requests made (both walks)", "peak heap, 300 vs 100 conversations",
		"retained heap, 300 vs 100 conversations", "triage sync of 120 conversations",
	} {
		if rows[name] == nil {
			t.Errorf("no row %q in\n%s", name, out.String())
		}
	}
	// Request counts are exact: 3 pages twice; 2 pages + 3 applications.
	for name, want := range map[string][3]string{
		"iterate, requests made (both walks)": {"6.0", "6.0", "1.000"},
		"triage sync of 120 conversations":    {"5.0", "5.0", "1.000"},
	} {
		if r := rows[name]; r != nil && [3]string(r[2:5]) != want {
			t.Errorf("%s: SDK, reference, ratio = %v, want %v", name, r[2:5], want)
		}
	}
}

func TestRunRejectsBadSizes(t *testing.T) {
	var out bytes.Buffer
	if err := run(&out, []string{"-convs", "0"}); err == nil {
		t.Error("no error for -convs 0")
	}
	if err := run(&out, []string{"-page", "101"}); err == nil {
		t.Error("no error for -page 101")
	}
}
