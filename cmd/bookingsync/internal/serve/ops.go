package serve

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// healthz is GET /healthz: the process serves.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintln(w, "ok")
}

// readyz is GET /readyz: 200 when this replica should get traffic (the
// database answers with the schema this build expects, and the fleet's
// heartbeat is fresh), else 503 with the reason on one line.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	reason := ""
	select {
	case <-s.closing:
		reason = "stopping"
	default:
		if err := s.st.CheckSchema(ctx); err != nil {
			reason = "database: " + err.Error()
		} else if alive, err := s.fleet.Alive(ctx); err != nil {
			reason = "fleet: " + err.Error()
		} else if !alive {
			reason = "fleet: no fresh heartbeat"
		}
	}
	if reason != "" {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, "not ready: "+reason)
		return
	}
	fmt.Fprintln(w, "ready")
}

// serveMetrics is GET /metrics: the series of the fleet, its syncers
// and its API clients in this replica, in Prometheus' text format.
func (s *Server) serveMetrics(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	if err := s.metrics.write(r.Context(), w); err != nil {
		s.log.Warn("metrics", "error", err.Error())
	}
}

// pageTimeout bounds the work of one page.
const pageTimeout = 15 * time.Second

// Request body bounds: forms are small; webhook deliveries carry one
// record.
const (
	maxFormBody    = 64 << 10
	maxWebhookBody = 1 << 20
)

// guarded adds what every answer carries (security headers) and every
// request gets (a bounded body, a bounded time for pages).
func (s *Server) guarded(next http.Handler) http.Handler {
	csp := "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
		"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		if s.secure {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		if !strings.HasPrefix(r.URL.Path, "/static/") {
			h.Set("Cache-Control", "no-store")
		}
		limit := int64(maxFormBody)
		if r.URL.Path == "/webhooks" {
			limit = maxWebhookBody
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		if r.URL.Path != "/events" && r.URL.Path != "/webhooks" {
			ctx, cancel := context.WithTimeout(r.Context(), pageTimeout)
			defer cancel()
			r = r.WithContext(ctx)
		}
		next.ServeHTTP(w, r)
	})
}

// statusWriter remembers the status of an answer, for the log.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection (Flush).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// logged logs each request: the route (never the query, which can carry
// an OAuth code or state), the status and the time taken.
func (s *Server) logged(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		route := r.Pattern
		if route == "" {
			route = "unmatched"
		}
		s.log.Info("request", "method", r.Method, "route", route, "status", sw.status,
			"duration_ms", time.Since(start).Milliseconds())
	})
}
