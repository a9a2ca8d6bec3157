package serve

import (
	"bufio"
	"cmp"
	"context"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// metrics is serve's OpenTelemetry meter provider, which the fleet, its
// syncers and its clients record into (the series of the design's
// "Observability": bookingsync_api_*, inboxsync_*), read when /metrics is
// scraped and written in Prometheus' text format. Writing the format here
// keeps the Prometheus client library out of the build.
type metrics struct {
	reader   *sdkmetric.ManualReader
	provider *sdkmetric.MeterProvider
}

func newMetrics() *metrics {
	r := sdkmetric.NewManualReader()
	return &metrics{reader: r, provider: sdkmetric.NewMeterProvider(sdkmetric.WithReader(r))}
}

// series is one line of the exposition, before its value.
type series struct {
	labels string
	value  float64
}

// write collects the series and writes them, sorted by name and labels.
func (m *metrics) write(ctx context.Context, w io.Writer) error {
	var rm metricdata.ResourceMetrics
	if err := m.reader.Collect(ctx, &rm); err != nil {
		return err
	}
	var all []metricdata.Metrics
	for _, sm := range rm.ScopeMetrics {
		all = append(all, sm.Metrics...)
	}
	slices.SortFunc(all, func(a, b metricdata.Metrics) int { return cmp.Compare(a.Name, b.Name) })
	bw := bufio.NewWriter(w)
	for _, mt := range all {
		kind, lines := exposition(mt)
		if kind == "" {
			continue
		}
		fmt.Fprintf(bw, "# HELP %s %s\n# TYPE %s %s\n", mt.Name, escapeHelp(mt.Description), mt.Name, kind)
		slices.SortFunc(lines, func(a, b series) int { return cmp.Compare(a.labels, b.labels) })
		for _, l := range lines {
			fmt.Fprintf(bw, "%s %s\n", l.labels, formatValue(l.value))
		}
	}
	return bw.Flush()
}

// exposition returns a metric's Prometheus type and its lines ("" for a
// kind it does not know).
func exposition(mt metricdata.Metrics) (string, []series) {
	switch d := mt.Data.(type) {
	case metricdata.Sum[int64]:
		return sumKind(d.IsMonotonic), points(mt.Name, d.DataPoints)
	case metricdata.Sum[float64]:
		return sumKind(d.IsMonotonic), points(mt.Name, d.DataPoints)
	case metricdata.Gauge[int64]:
		return "gauge", points(mt.Name, d.DataPoints)
	case metricdata.Gauge[float64]:
		return "gauge", points(mt.Name, d.DataPoints)
	case metricdata.Histogram[float64]:
		return "histogram", histogram(mt.Name, d.DataPoints)
	case metricdata.Histogram[int64]:
		return "histogram", histogram(mt.Name, d.DataPoints)
	}
	return "", nil
}

func sumKind(monotonic bool) string {
	if monotonic {
		return "counter"
	}
	return "gauge"
}

func points[N int64 | float64](name string, dps []metricdata.DataPoint[N]) []series {
	out := make([]series, len(dps))
	for i, dp := range dps {
		out[i] = series{name + labels(dp.Attributes), float64(dp.Value)}
	}
	return out
}

func histogram[N int64 | float64](name string, dps []metricdata.HistogramDataPoint[N]) []series {
	var out []series
	for _, dp := range dps {
		var cum uint64
		for i, bound := range dp.Bounds {
			cum += dp.BucketCounts[i]
			out = append(out, series{name + "_bucket" + labels(dp.Attributes, "le", formatValue(bound)), float64(cum)})
		}
		out = append(out,
			series{name + "_bucket" + labels(dp.Attributes, "le", "+Inf"), float64(dp.Count)},
			series{name + "_sum" + labels(dp.Attributes), float64(dp.Sum)},
			series{name + "_count" + labels(dp.Attributes), float64(dp.Count)})
	}
	return out
}

// labels writes a point's attributes, and extra name/value pairs, as
// {a="x",b="y"} ("" when none).
func labels(set attribute.Set, extra ...string) string {
	var parts []string
	for _, kv := range set.ToSlice() {
		parts = append(parts, string(kv.Key)+`="`+escapeLabel(kv.Value.String())+`"`)
	}
	for i := 0; i+1 < len(extra); i += 2 {
		parts = append(parts, extra[i]+`="`+escapeLabel(extra[i+1])+`"`)
	}
	if len(parts) == 0 {
		return ""
	}
	return "{" + strings.Join(parts, ",") + "}"
}

var (
	labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	helpEscaper  = strings.NewReplacer(`\`, `\\`, "\n", `\n`)
)

func escapeLabel(s string) string { return labelEscaper.Replace(s) }
func escapeHelp(s string) string  { return helpEscaper.Replace(s) }

func formatValue(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}
