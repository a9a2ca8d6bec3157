package inboxsync

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/go-bookingsync/bookingsync"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
)

// The OpenTelemetry series inboxsync records, named as a Prometheus
// exporter exposes them. Their labels are bounded: never an account id,
// a conversation id or a raw path.
const (
	// MetricAPIRequests counts API requests, each send of one (method,
	// route: the path's template, code: the status, or "error" when no
	// response came).
	MetricAPIRequests = "bookingsync_api_requests_total"
	// MetricAPIRequestDuration is their duration in seconds (method, route).
	MetricAPIRequestDuration = "bookingsync_api_request_duration_seconds"
	// MetricAPIRetries counts the sends that were resends.
	MetricAPIRetries = "bookingsync_api_retries_total"
	// MetricAPIRateLimited counts the 429 answers.
	MetricAPIRateLimited = "bookingsync_api_rate_limited_total"
	// MetricSyncPasses counts passes (result: ok, error).
	MetricSyncPasses = "inboxsync_sync_passes_total"
	// MetricSyncLag is the age of the oldest cursor over the store's
	// installed accounts and their resources, in seconds: how stale the
	// copy may be.
	MetricSyncLag = "inboxsync_sync_lag_seconds"
	// MetricRecordsApplied counts records written or removed (resource).
	MetricRecordsApplied = "inboxsync_records_applied_total"
	// MetricWebhookDeliveries counts webhook deliveries (outcome: acted,
	// duplicate, rejected).
	MetricWebhookDeliveries = "inboxsync_webhook_deliveries_total"
	// MetricFleetAccounts is the number of accounts this replica syncs.
	MetricFleetAccounts = "inboxsync_fleet_accounts"
	// MetricOutboxItems is the number of outbox items in the store (state).
	MetricOutboxItems = "inboxsync_outbox_items"
	// MetricSetAsideRecords is the number of records (and deleted ids) the
	// store holds set aside, over its accounts (resource): what passes
	// could not store and retry (Store.SetAsideRecords).
	MetricSetAsideRecords = "inboxsync_set_aside_records"
)

// instrumentation is the scope name of inboxsync's meters and tracers.
const instrumentation = "github.com/go-bookingsync/bookingsync/inboxsync"

// WithMeterProvider records the syncer's series (see the Metric
// constants) through mp; default: the global provider (otel.GetMeterProvider).
func WithMeterProvider(mp metric.MeterProvider) Option {
	return func(s *Syncer) {
		if mp != nil {
			s.mp = mp
		}
	}
}

// WithTracerProvider traces the syncer's passes through tp: a span per
// pass, a child per resource walk, a child of that per page; the API
// requests are children of the page when the client has the APIObserver.
// Default: the global provider (otel.GetTracerProvider).
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(s *Syncer) {
		if tp != nil {
			s.tp = tp
		}
	}
}

// telemetry is the instruments of a meter provider and the tracer of a
// tracer provider.
type telemetry struct {
	tracer   trace.Tracer
	passes   metric.Int64Counter
	applied  metric.Int64Counter
	webhooks metric.Int64Counter
}

func newTelemetry(mp metric.MeterProvider, tp trace.TracerProvider) *telemetry {
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	m := mp.Meter(instrumentation)
	t := &telemetry{tracer: tp.Tracer(instrumentation)}
	// An instrument that cannot be made is a no-op: metrics never fail a
	// sync.
	t.passes, _ = m.Int64Counter(MetricSyncPasses, metric.WithDescription("Sync passes, by result (ok, error)."))
	t.applied, _ = m.Int64Counter(MetricRecordsApplied, metric.WithDescription("Records written or removed in the local copy, by resource."))
	t.webhooks, _ = m.Int64Counter(MetricWebhookDeliveries, metric.WithDescription("Webhook deliveries, by outcome (acted, duplicate, rejected)."))
	return t
}

// startPass starts a pass's span; the func returned ends it and counts
// the pass's result.
func (t *telemetry) startPass(ctx context.Context, acct int64) (context.Context, func(error)) {
	ctx, span := t.tracer.Start(ctx, "inboxsync.pass", trace.WithAttributes(attribute.Int64("inboxsync.account_id", acct)))
	return ctx, func(err error) {
		result := "ok"
		if err != nil {
			result = "error"
			span.RecordError(err)
			span.SetStatus(codes.Error, err.Error())
		}
		span.End()
		t.passes.Add(ctx, 1, metric.WithAttributes(attribute.String("result", result)))
	}
}

// startWalk starts the span of a resource's walk.
func (t *telemetry) startWalk(ctx context.Context, resource string) (context.Context, trace.Span) {
	return t.tracer.Start(ctx, "inboxsync.walk", trace.WithAttributes(attribute.String("inboxsync.resource", resource)))
}

// startPage starts the span of a walk's page.
func (t *telemetry) startPage(ctx context.Context, page int) (context.Context, trace.Span) {
	return t.tracer.Start(ctx, "inboxsync.page", trace.WithAttributes(attribute.Int("inboxsync.page", page)))
}

// webhook counts a delivery's outcome.
func (t *telemetry) webhook(ctx context.Context, outcome string) {
	t.webhooks.Add(ctx, 1, metric.WithAttributes(attribute.String("outcome", outcome)))
}

// record counts n records applied to resource.
func (t *telemetry) record(ctx context.Context, resource string, n int) {
	if n > 0 {
		t.applied.Add(ctx, int64(n), metric.WithAttributes(attribute.String("resource", resource)))
	}
}

// rejecting counts the deliveries h answers with a client error (a bad
// signature, a body that does not parse) as rejected.
func (t *telemetry) rejecting(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(sw, r)
		if sw.status >= 400 && sw.status < 500 {
			t.webhook(r.Context(), "rejected")
		}
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// APIObserver returns the client hook (bookingsync.WithObserver) that
// records the bookingsync_api_* series through mp and a span per API
// request through tp, a child of the span in the request's context (a
// pass's page, say); nil providers are the global ones. A Fleet's clients
// have it already; give it to the client of a Syncer you build:
//
//	c, err := bookingsync.NewClient(…, bookingsync.WithObserver(inboxsync.APIObserver(nil, nil)))
func APIObserver(mp metric.MeterProvider, tp trace.TracerProvider) bookingsync.Observer {
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	m := mp.Meter(instrumentation)
	tracer := tp.Tracer(instrumentation)
	requests, _ := m.Int64Counter(MetricAPIRequests, metric.WithDescription("BookingSync API requests, each send, by method, route and status code."))
	duration, _ := m.Float64Histogram(MetricAPIRequestDuration, metric.WithUnit("s"),
		metric.WithDescription("BookingSync API request duration, by method and route."))
	retries, _ := m.Int64Counter(MetricAPIRetries, metric.WithDescription("BookingSync API requests that were resends."))
	limited, _ := m.Int64Counter(MetricAPIRateLimited, metric.WithDescription("BookingSync API requests answered 429."))
	return func(ctx context.Context, a bookingsync.Attempt) {
		code := "error"
		if a.Status != 0 {
			code = strconv.Itoa(a.Status)
		}
		route := attribute.String("route", a.Route)
		method := attribute.String("method", a.Method)
		requests.Add(ctx, 1, metric.WithAttributes(method, route, attribute.String("code", code)))
		duration.Record(ctx, a.Duration.Seconds(), metric.WithAttributes(method, route))
		if a.Retry {
			retries.Add(ctx, 1)
		}
		if a.RateLimited {
			limited.Add(ctx, 1)
		}
		end := time.Now()
		_, span := tracer.Start(ctx, a.Method+" "+a.Route, trace.WithSpanKind(trace.SpanKindClient),
			trace.WithTimestamp(end.Add(-a.Duration)), trace.WithAttributes(
				attribute.String("http.request.method", a.Method), attribute.String("url.template", a.Route),
				attribute.Int("http.request.resend_count", a.N-1)))
		if a.Status != 0 {
			span.SetAttributes(attribute.Int("http.response.status_code", a.Status))
		}
		if a.Err != nil {
			span.RecordError(a.Err)
		}
		span.End(trace.WithTimestamp(end))
	}
}

// storeGauges are the store's observable series (lag, outbox items,
// set-aside records),
// registered once per meter provider while a Syncer.Run or Fleet.Run uses
// it.
type storeGauges struct {
	mu   sync.Mutex
	regs map[metric.MeterProvider]*gaugeReg
}

type gaugeReg struct {
	reg  metric.Registration
	refs int
}

// observe registers the store's gauges with mp (the global provider when
// nil) until the returned func is called.
func (s *Store) observe(mp metric.MeterProvider) func() {
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	g := &s.gauges
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.regs == nil {
		g.regs = map[metric.MeterProvider]*gaugeReg{}
	}
	if r := g.regs[mp]; r != nil {
		r.refs++
		return func() { s.unobserve(mp) }
	}
	m := mp.Meter(instrumentation)
	lag, err1 := m.Float64ObservableGauge(MetricSyncLag, metric.WithUnit("s"),
		metric.WithDescription("Age of the oldest sync cursor over the installed accounts and their resources."))
	items, err2 := m.Int64ObservableGauge(MetricOutboxItems, metric.WithDescription("Outbox items in the store, by state."))
	aside, err3 := m.Int64ObservableGauge(MetricSetAsideRecords,
		metric.WithDescription("Records and deleted ids the store holds set aside, by resource."))
	if err := errors.Join(err1, err2, err3); err != nil {
		return func() {}
	}
	reg, err := m.RegisterCallback(func(ctx context.Context, o metric.Observer) error {
		if oldest, err := s.oldestCursor(ctx); err == nil && !oldest.IsZero() {
			o.ObserveFloat64(lag, time.Since(oldest).Seconds())
		}
		counts, err := s.countsBy(ctx, "SELECT state, COUNT(*) FROM outbox GROUP BY state")
		if err != nil {
			return err
		}
		for _, st := range []string{OutboxQueued, OutboxSending, OutboxSent, OutboxFailed} {
			o.ObserveInt64(items, counts[st], metric.WithAttributes(attribute.String("state", st)))
		}
		if counts, err = s.countsBy(ctx, "SELECT resource, COUNT(*) FROM sync_set_aside GROUP BY resource"); err != nil {
			return err
		}
		for _, r := range append(slices.Clone(walked), resApplications) {
			o.ObserveInt64(aside, counts[r.name], metric.WithAttributes(attribute.String("resource", r.name)))
		}
		return nil
	}, lag, items, aside)
	if err != nil {
		return func() {}
	}
	g.regs[mp] = &gaugeReg{reg: reg, refs: 1}
	return func() { s.unobserve(mp) }
}

func (s *Store) unobserve(mp metric.MeterProvider) {
	g := &s.gauges
	g.mu.Lock()
	defer g.mu.Unlock()
	if r := g.regs[mp]; r != nil {
		if r.refs--; r.refs == 0 {
			r.reg.Unregister()
			delete(g.regs, mp)
		}
	}
}

// oldestCursor is the oldest cursor of the accounts not uninstalled.
func (s *Store) oldestCursor(ctx context.Context) (time.Time, error) {
	var v any
	err := s.queryRow(ctx, s.db, `SELECT MIN(c.synced_at) FROM sync_cursors c
WHERE NOT EXISTS (SELECT 1 FROM accounts a WHERE a.account_id = c.account_id AND a.token IS NULL)`).Scan(&v)
	if err != nil {
		return time.Time{}, err
	}
	return scanTime(v)
}

// countsBy runs query, a SELECT of a name and a COUNT(*) grouped by it,
// and returns the counts by name (those of no row are missing: 0).
func (s *Store) countsBy(ctx context.Context, query string) (map[string]int64, error) {
	rows, err := s.query(ctx, s.db, query)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var name string
		var n int64
		if err := rows.Scan(&name, &n); err != nil {
			return nil, err
		}
		out[name] = n
	}
	return out, rows.Err()
}

// observe reports the accounts this replica syncs (MetricFleetAccounts)
// until the returned func is called.
func (f *Fleet) observe() func() {
	mp := f.cfg.MeterProvider
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	m := mp.Meter(instrumentation)
	held, err := m.Int64ObservableGauge(MetricFleetAccounts, metric.WithDescription("Accounts this replica syncs."))
	if err != nil {
		return func() {}
	}
	reg, err := m.RegisterCallback(func(ctx context.Context, o metric.Observer) error {
		f.mu.Lock()
		n := len(f.running)
		f.mu.Unlock()
		o.ObserveInt64(held, int64(n))
		return nil
	}, held)
	if err != nil {
		return func() {}
	}
	return func() { reg.Unregister() }
}
