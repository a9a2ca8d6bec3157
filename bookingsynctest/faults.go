package bookingsynctest

import (
	"bufio"
	"fmt"
	mrand "math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"time"
)

// FaultKind selects what a Fault does to a matching request.
type FaultKind int

// The fault kinds. Unless stated otherwise the request is NOT processed:
// no state changes and no rate-limit budget is used.
const (
	// FaultStatus answers Status (default 502) with a proxy's HTML page.
	FaultStatus FaultKind = iota
	// FaultStatusAfterProcessing processes the request (a POST creates its
	// record) and then answers Status (default 502) with the HTML page, as
	// a proxy timing out after the application acted would.
	FaultStatusAfterProcessing
	// FaultReset reads the whole request, then closes the connection
	// without a response.
	FaultReset
	// FaultResetBeforeRead closes the connection before reading the body.
	FaultResetBeforeRead
	// FaultTruncate processes the request, then sends the headers with the
	// full Content-Length and only half the body before closing.
	FaultTruncate
	// Fault429 answers 429 with rate-limit headers; X-RateLimit-Reset is
	// Fault.Reset verbatim when set (future, past or garbage).
	Fault429
	// FaultSlowBody processes the request and sends half the body, waits
	// Fault.Delay (default 50ms), then sends the rest.
	FaultSlowBody
)

// Fault makes matching requests misbehave.
type Fault struct {
	Method     string // "" matches any method
	PathPrefix string // matched against the URL path; "" matches all
	// AccountID, when set, matches only requests carrying a token of that
	// account.
	AccountID int64
	// Rate, when in (0, 1), is the probability that a matching request
	// gets the fault (a random draw per request); otherwise every one does.
	Rate float64
	Kind FaultKind
	// Count is how many matching requests get the fault; 0 means every one
	// until ClearFaults.
	Count int
	// Status for FaultStatus / FaultStatusAfterProcessing (default 502).
	Status int
	// RetryAfter, when positive, is sent as a Retry-After header (seconds).
	RetryAfter time.Duration
	// Reset is the raw X-RateLimit-Reset of a Fault429 (default: the
	// server's current reset time).
	Reset string
	// Delay is the pause of FaultSlowBody.
	Delay time.Duration
}

// AddFault installs a fault. Faults are tried in the order added.
func (s *Server) AddFault(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &f)
}

// ClearFaults removes all faults.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// takeFault returns the first fault matching r and uses one of its counts.
func (s *Server) takeFault(r *http.Request) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.faults) == 0 {
		return nil
	}
	var acct int64
	if a := r.Header.Get("Authorization"); len(a) > 7 {
		if t := s.tokens[strings.TrimSpace(a[7:])]; t != nil && t.acct != nil {
			acct = t.acct.id
		}
	}
	for i, f := range s.faults {
		if (f.Method != "" && !strings.EqualFold(f.Method, r.Method)) || !strings.HasPrefix(r.URL.Path, f.PathPrefix) ||
			(f.AccountID != 0 && f.AccountID != acct) || (f.Rate > 0 && f.Rate < 1 && mrand.Float64() >= f.Rate) {
			continue
		}
		c := *f
		if f.Count > 0 {
			f.Count--
			if f.Count == 0 {
				s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
			}
		}
		return &c
	}
	return nil
}

func hijackClose(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if c, _, err := hj.Hijack(); err == nil {
			_ = c.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

func proxyPage(w http.ResponseWriter, status int) {
	body := fmt.Sprintf("<html><body><h1>%d %s</h1></body></html>\n", status, http.StatusText(status))
	w.Header().Set("Content-Type", "text/html")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}

func (s *Server) applyFault(f *Fault, w http.ResponseWriter, r *http.Request, h http.HandlerFunc) {
	if f.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int((f.RetryAfter+time.Second-1)/time.Second)))
	}
	status := f.Status
	if status == 0 {
		status = http.StatusBadGateway
	}
	// record runs the real handler; its response is what the fault mangles.
	record := func() *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		h(rec, r)
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		return rec
	}
	switch f.Kind {
	case FaultStatus:
		proxyPage(w, status)
	case FaultStatusAfterProcessing:
		record()
		for _, k := range []string{"Link", "X-Total-Pages", "X-Total-Count", "X-Per-Page"} {
			w.Header().Del(k)
		}
		proxyPage(w, status)
	case FaultReset, FaultResetBeforeRead:
		hijackClose(w)
	case Fault429:
		b := &s.anon
		if _, a := s.authenticate(r, s.now()); a != nil {
			b = &a.budget
		}
		limit, resetAt := b.state()
		reset := strconv.FormatInt(resetAt, 10)
		if f.Reset != "" {
			reset = f.Reset
		}
		w.Header().Set("X-RateLimit-Limit", strconv.Itoa(limit))
		w.Header().Set("X-RateLimit-Remaining", "0")
		w.Header().Set("X-RateLimit-Reset", reset)
		rateLimited(w)
	case FaultTruncate:
		rec := record()
		b := rec.Body.Bytes()
		hj, ok := w.(http.Hijacker)
		if !ok {
			panic(http.ErrAbortHandler)
		}
		conn, buf, err := hj.Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		hdr := w.Header().Clone()
		hdr.Set("Content-Length", strconv.Itoa(len(b)+1)) // promise more than is sent
		writeRaw(buf, rec.Code, hdr, b[:len(b)/2])
	case FaultSlowBody:
		rec := record()
		b := rec.Body.Bytes()
		w.WriteHeader(rec.Code)
		_, _ = w.Write(b[:len(b)/2])
		if fl, ok := w.(http.Flusher); ok {
			fl.Flush()
		}
		d := f.Delay
		if d <= 0 {
			d = 50 * time.Millisecond
		}
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			return
		}
		_, _ = w.Write(b[len(b)/2:])
	}
}

func writeRaw(buf *bufio.ReadWriter, code int, hdr http.Header, body []byte) {
	fmt.Fprintf(buf, "HTTP/1.1 %d %s\r\n", code, http.StatusText(code))
	_ = hdr.Write(buf)
	_, _ = buf.WriteString("\r\n")
	_, _ = buf.Write(body)
	_ = buf.Flush()
}
