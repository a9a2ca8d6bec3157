package bookingsync

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"
)

// Attempt is one HTTP exchange of a request as an Observer sees it: a
// request the client resends (a retry, the 401 refresh, a 429 wait) makes
// one Attempt per send.
type Attempt struct {
	// Method is the HTTP method.
	Method string
	// Route is the request's path under the API root with its ids
	// replaced, so that it names the endpoint and never a record:
	// "/inbox/messages/{id}", "/inbox/conversations/{ids}" for several
	// ids, "/inbox/conversations/{id}/connect_booking". A path outside
	// the API root is "other". It holds no query string.
	Route string
	// Status is the response's status code; 0 when none came (Err says
	// why).
	Status int
	// Duration is the exchange's time, from sending to the body read.
	Duration time.Duration
	// N is the send's number for this request, from 1; Retry is N > 1.
	N     int
	Retry bool
	// RateLimited reports a 429.
	RateLimited bool
	// Rate is the budget the response stated; zero when it stated none.
	Rate Rate
	// Err is the transport error of an exchange without a response, or of
	// a body that could not be read; nil otherwise (a non-2xx status is
	// not an error here).
	Err error
}

// Observer is told of every attempt the client makes, when it is over, on
// the goroutine that made it (see WithObserver). ctx is the request's
// context, which carries the caller's values (a trace's span, say).
type Observer func(ctx context.Context, a Attempt)

// WithObserver makes the client call o once per HTTP exchange, after it:
// a dependency-free hook for metrics and traces (inboxsync turns it into
// OpenTelemetry series and spans). Given more than once, every observer is
// called, in the order given. An observer must be quick and safe for
// concurrent use; it never sees a token or a query string.
func WithObserver(o Observer) Option {
	return func(c *Client) error {
		if o == nil {
			return errors.New("bookingsync: WithObserver: nil observer")
		}
		c.observers = append(c.observers, o)
		return nil
	}
}

// observe reports one exchange to the observers.
func (c *Client) observe(req *http.Request, resp *Response, n int, start time.Time, err error) {
	if len(c.observers) == 0 {
		return
	}
	a := Attempt{Method: req.Method, Route: c.route(req.URL.Path), Duration: time.Since(start), N: n, Retry: n > 1, Err: err}
	if resp != nil {
		a.Status, a.Rate, a.RateLimited = resp.StatusCode, resp.Rate, resp.StatusCode == http.StatusTooManyRequests
	}
	for _, o := range c.observers {
		o(req.Context(), a)
	}
}

// route is the template of path under the API root: a segment of digits
// is {id}, one of digits and commas {ids}.
func (c *Client) route(path string) string {
	rest, ok := strings.CutPrefix(path, c.apiURL.Path)
	if !ok {
		return "other"
	}
	segs := strings.Split(strings.Trim(rest, "/"), "/")
	for i, s := range segs {
		switch {
		case s == "":
		case strings.Trim(s, "0123456789") == "":
			segs[i] = "{id}"
		case strings.Trim(s, "0123456789,") == "":
			segs[i] = "{ids}"
		}
	}
	return "/" + strings.Join(segs, "/")
}
