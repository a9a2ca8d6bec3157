package inboxsync_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-bookingsync/bookingsync"
	"github.com/go-bookingsync/bookingsync/bookingsynctest"
	"github.com/go-bookingsync/bookingsync/inboxsync"
	"github.com/go-bookingsync/bookingsync/inboxsync/internal/testsignal"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// telemetry is a test's meter and tracer providers, read in memory.
type telemetry struct {
	reader *sdkmetric.ManualReader
	spans  *tracetest.SpanRecorder
	mp     *sdkmetric.MeterProvider
	tp     *sdktrace.TracerProvider
}

func newTelemetry() *telemetry {
	t := &telemetry{reader: sdkmetric.NewManualReader(), spans: tracetest.NewSpanRecorder()}
	t.mp = sdkmetric.NewMeterProvider(sdkmetric.WithReader(t.reader))
	t.tp = sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(t.spans))
	return t
}

// points returns the data points of the series called name, as
// attribute sets and values (sums and gauges as their value, histograms
// as their count).
func (tel *telemetry) points(t *testing.T, name string) map[attribute.Distinct]point {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := tel.reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	out := map[attribute.Distinct]point{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != name {
				continue
			}
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, p := range d.DataPoints {
					out[p.Attributes.Equivalent()] = point{p.Attributes, float64(p.Value)}
				}
			case metricdata.Gauge[int64]:
				for _, p := range d.DataPoints {
					out[p.Attributes.Equivalent()] = point{p.Attributes, float64(p.Value)}
				}
			case metricdata.Gauge[float64]:
				for _, p := range d.DataPoints {
					out[p.Attributes.Equivalent()] = point{p.Attributes, p.Value}
				}
			case metricdata.Histogram[float64]:
				for _, p := range d.DataPoints {
					out[p.Attributes.Equivalent()] = point{p.Attributes, float64(p.Count)}
				}
			}
		}
	}
	return out
}

type point struct {
	attrs attribute.Set
	value float64
}

// value is the point of name with exactly the attributes kv (key, value
// pairs); -1 when there is none.
func (tel *telemetry) value(t *testing.T, name string, kv ...string) float64 {
	t.Helper()
	var attrs []attribute.KeyValue
	for i := 0; i+1 < len(kv); i += 2 {
		attrs = append(attrs, attribute.String(kv[i], kv[i+1]))
	}
	set := attribute.NewSet(attrs...)
	p, ok := tel.points(t, name)[set.Equivalent()]
	if !ok {
		return -1
	}
	return p.value
}

// A pass is one trace: the pass, a span per resource walk, a span per page
// under it, and the API requests under the pages; the series count it,
// with labels from a bounded set.
func TestTelemetryOfAPass(t *testing.T) {
	t.Parallel()
	tel := newTelemetry()
	f := setup(t, dbtestSQLite(t))
	c := newClient(t, f.srv, bookingsync.WithObserver(inboxsync.APIObserver(tel.mp, tel.tp)))
	s := inboxsync.New(f.st, acct, c, inboxsync.WithMeterProvider(tel.mp), inboxsync.WithTracerProvider(tel.tp))
	rep := mustSync(t, s)

	spans := tel.spans.Ended()
	byID := map[string]sdktrace.ReadOnlySpan{}
	for _, sp := range spans {
		byID[sp.SpanContext().SpanID().String()] = sp
	}
	parentName := func(sp sdktrace.ReadOnlySpan) string {
		if p, ok := byID[sp.Parent().SpanID().String()]; ok {
			return p.Name()
		}
		return ""
	}
	counts := map[string]int{}
	var pass sdktrace.ReadOnlySpan
	for _, sp := range spans {
		counts[sp.Name()]++
		switch {
		case sp.Name() == "inboxsync.pass":
			pass = sp
			if sp.Parent().IsValid() {
				t.Error("the pass span has a parent")
			}
		case sp.Name() == "inboxsync.walk":
			if parentName(sp) != "inboxsync.pass" {
				t.Errorf("a walk's parent is %q", parentName(sp))
			}
		case sp.Name() == "inboxsync.page":
			if parentName(sp) != "inboxsync.walk" {
				t.Errorf("a page's parent is %q", parentName(sp))
			}
		case strings.HasPrefix(sp.Name(), "GET /"):
			if p := parentName(sp); p != "inboxsync.page" && p != "inboxsync.pass" {
				t.Errorf("request %s's parent is %q", sp.Name(), p)
			}
		default:
			t.Errorf("unexpected span %q", sp.Name())
		}
	}
	if pass == nil || counts["inboxsync.pass"] != 1 {
		t.Fatalf("spans %v; want one pass", counts)
	}
	pages, walks := 0, 0
	for _, rr := range rep.Resources {
		pages += rr.Pages
		if rr.Resource != "applications" {
			walks++
		}
	}
	if counts["inboxsync.walk"] != walks || counts["inboxsync.page"] < walks {
		t.Errorf("spans %v; want %d walks with a page or more each", counts, walks)
	}
	requests := 0
	for name, n := range counts {
		if strings.HasPrefix(name, "GET /") {
			requests += n
			if strings.ContainsAny(name, "0123456789") {
				t.Errorf("a request span names an id: %q", name)
			}
		}
	}
	if requests != rep.Requests {
		t.Errorf("%d request spans; the pass made %d requests", requests, rep.Requests)
	}

	if v := tel.value(t, inboxsync.MetricSyncPasses, "result", "ok"); v != 1 {
		t.Errorf("%s{result=ok} = %v; want 1", inboxsync.MetricSyncPasses, v)
	}
	convs := 0
	for _, rr := range rep.Resources {
		if rr.Resource == "conversations" {
			convs = rr.Changed()
		}
	}
	if v := tel.value(t, inboxsync.MetricRecordsApplied, "resource", "conversations"); v != float64(convs) || convs == 0 {
		t.Errorf("%s{resource=conversations} = %v; want %d", inboxsync.MetricRecordsApplied, v, convs)
	}
	if v := tel.value(t, inboxsync.MetricAPIRequests, "method", "GET", "route", "/inbox/conversations", "code", "200"); v < 1 {
		t.Errorf("%s{GET /inbox/conversations 200} = %v", inboxsync.MetricAPIRequests, v)
	}
	// Bounded labels: only these keys, and no value holding an id.
	allowed := map[string][]string{
		inboxsync.MetricAPIRequests:        {"method", "route", "code"},
		inboxsync.MetricAPIRequestDuration: {"method", "route"},
		inboxsync.MetricRecordsApplied:     {"resource"},
		inboxsync.MetricSyncPasses:         {"result"},
	}
	total := 0.0
	for name, keys := range allowed {
		for _, p := range tel.points(t, name) {
			if name == inboxsync.MetricAPIRequests {
				total += p.value
			}
			for _, kv := range p.attrs.ToSlice() {
				if !strings.Contains(strings.Join(keys, ","), string(kv.Key)) {
					t.Errorf("%s has label %s", name, kv.Key)
				}
				if kv.Key == "route" && strings.ContainsAny(kv.Value.AsString(), "0123456789") {
					t.Errorf("%s route %q names an id", name, kv.Value.AsString())
				}
			}
		}
	}
	if int(total) != rep.Requests {
		t.Errorf("%s sums to %v; the pass made %d requests", inboxsync.MetricAPIRequests, total, rep.Requests)
	}
}

// Webhook deliveries are counted by outcome; resends and 429s by the
// client hook.
func TestTelemetryWebhooksAndRetries(t *testing.T) {
	t.Parallel()
	tel := newTelemetry()
	f := setup(t, dbtestSQLite(t))
	c := newClient(t, f.srv, bookingsync.WithObserver(inboxsync.APIObserver(tel.mp, tel.tp)))
	s := inboxsync.New(f.st, acct, c, inboxsync.WithMeterProvider(tel.mp), inboxsync.WithTracerProvider(tel.tp))
	mustSync(t, s)
	ctx := context.Background()
	e := &bookingsync.WebhookEvent{AccountID: acct, Event: bookingsync.EventInboxMessageCreated,
		Resource: []byte(`{"message":{"id":1,"links":{"conversation":11}}}`)}
	for range 2 {
		if err := s.HandleEvent(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	srv := httptest.NewServer(s.WebhookHandler("secret"))
	defer srv.Close()
	resp, err := http.Post(srv.URL, "application/json", strings.NewReader(`{"account_id":1}`)) // unsigned
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for outcome, want := range map[string]float64{"acted": 1, "duplicate": 1, "rejected": 1} {
		if v := tel.value(t, inboxsync.MetricWebhookDeliveries, "outcome", outcome); v != want {
			t.Errorf("%s{outcome=%s} = %v; want %v", inboxsync.MetricWebhookDeliveries, outcome, v, want)
		}
	}

	f.srv.AddFault(bookingsynctest.Fault{Method: "GET", PathPrefix: "/api/v3/hosts", Kind: bookingsynctest.FaultStatus, Status: 503, Count: 1})
	if _, _, err := c.Hosts.List(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if v := tel.value(t, inboxsync.MetricAPIRetries); v != 1 {
		t.Errorf("%s = %v; want 1", inboxsync.MetricAPIRetries, v)
	}
	if v := tel.value(t, inboxsync.MetricAPIRequests, "method", "GET", "route", "/hosts", "code", "503"); v != 1 {
		t.Errorf("%s{GET /hosts 503} = %v; want 1", inboxsync.MetricAPIRequests, v)
	}
	f.srv.AddFault(bookingsynctest.Fault{Method: "GET", PathPrefix: "/api/v3/hosts", Kind: bookingsynctest.Fault429, Count: 1})
	c.Hosts.List(ctx, nil)
	if v := tel.value(t, inboxsync.MetricAPIRateLimited); v != 1 {
		t.Errorf("%s = %v; want 1", inboxsync.MetricAPIRateLimited, v)
	}
}

// While Run runs, the store's gauges report the sync lag, the outbox by
// state and the set-aside records by resource.
func TestTelemetryGauges(t *testing.T) {
	t.Parallel()
	tel := newTelemetry()
	f := setup(t, dbtestSQLite(t))
	enqueue(t, f.st, convHost, "Gauge me", "g")
	f.srv.AddFault(bookingsynctest.Fault{Method: "POST", PathPrefix: "/api/v3/inbox/messages", Kind: bookingsynctest.FaultStatus, Status: 422})
	hc := f.srv.Client()
	hc.Transport = poisoner(hc.Transport)
	s := inboxsync.New(f.st, acct, newClient(t, f.srv, bookingsync.WithHTTPClient(hc)),
		inboxsync.WithMeterProvider(tel.mp), inboxsync.WithTracerProvider(tel.tp))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); s.Run(ctx, time.Hour) }()
	testsignal.Eventually(t, "a pass and the delivery", func() bool {
		return tel.value(t, inboxsync.MetricSyncPasses, "result", "ok") >= 1 && item(t, f.st, "g").State == inboxsync.OutboxFailed
	})
	if v := tel.value(t, inboxsync.MetricSyncLag); v < 0 {
		t.Errorf("%s missing", inboxsync.MetricSyncLag)
	}
	if v := tel.value(t, inboxsync.MetricOutboxItems, "state", "failed"); v != 1 {
		t.Errorf("%s{state=failed} = %v; want 1", inboxsync.MetricOutboxItems, v)
	}
	// The poisoner's two records and two deleted ids.
	if v := tel.value(t, inboxsync.MetricSetAsideRecords, "resource", "conversations"); v != 4 {
		t.Errorf("%s{resource=conversations} = %v; want 4", inboxsync.MetricSetAsideRecords, v)
	}
	if v := tel.value(t, inboxsync.MetricSetAsideRecords, "resource", "messages"); v != 0 {
		t.Errorf("%s{resource=messages} = %v; want 0", inboxsync.MetricSetAsideRecords, v)
	}
	cancel()
	<-done
	if v := tel.value(t, inboxsync.MetricOutboxItems, "state", "failed"); v != -1 {
		t.Errorf("after Run, %s is still reported: %v", inboxsync.MetricOutboxItems, v)
	}
}

// A fleet reports the accounts it syncs and its clients' requests, and
// delivers the outbox of the accounts it holds.
func TestTelemetryFleet(t *testing.T) {
	t.Parallel()
	tel := newTelemetry()
	st := openStore(t, dbtestSQLite(t))
	srv, accts := fleetFake(t, st, 2)
	a := accts[0]
	conv, _ := a.AddConversationWithClient(bookingsynctest.ConversationSeed{Subject: "Fleet reply"})
	hostID := a.AddHost("Ann", "Host", "ann@example.com")
	if _, err := st.Enqueue(context.Background(), a.ID(), inboxsync.Outgoing{ConversationID: conv, HostID: hostID, Content: "From the fleet", Key: "f"}); err != nil {
		t.Fatal(err)
	}
	cfg := fleetConfig(srv.URL, srv.Client(), "r1")
	cfg.MeterProvider, cfg.TracerProvider = tel.mp, tel.tp
	startReplica(t, st, cfg)
	testsignal.Eventually(t, "two accounts held and the reply sent", func() bool {
		it, err := st.OutboxItem(context.Background(), a.ID(), "f")
		return err == nil && it.State == inboxsync.OutboxSent && tel.value(t, inboxsync.MetricFleetAccounts) == 2
	})
	if v := tel.value(t, inboxsync.MetricAPIRequests, "method", "POST", "route", "/inbox/messages", "code", "201"); v != 1 {
		t.Errorf("%s{POST /inbox/messages 201} = %v; want 1", inboxsync.MetricAPIRequests, v)
	}
}
