package bookingsync

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Rate is the application's rate-limit budget as the last response stated
// it: Limit requests per hour, Remaining of them left until Reset.
type Rate struct {
	Limit     int
	Remaining int
	Reset     time.Time
}

// known reports whether the headers were present.
func (r Rate) known() bool { return r.Limit > 0 || !r.Reset.IsZero() }

// parseRate reads X-RateLimit-Limit, -Remaining and -Reset (Unix seconds).
// Missing or garbage values leave the field zero.
func parseRate(h http.Header) Rate {
	var r Rate
	r.Limit = headerInt(h, "X-RateLimit-Limit")
	if v := strings.TrimSpace(h.Get("X-RateLimit-Remaining")); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n >= 0 {
			r.Remaining = n
		}
	}
	if v := strings.TrimSpace(h.Get("X-RateLimit-Reset")); v != "" {
		if secs, err := strconv.ParseInt(v, 10, 64); err == nil && secs > 0 && secs < 1<<40 {
			r.Reset = time.Unix(secs, 0).UTC()
		}
	}
	return r
}
