package bookingsync

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
)

// Origin tells who created a conversation and on which channel it lives.
type Origin struct {
	// CreatorType is the creator's type as the API wrote it
	// ("Doorkeeper::Application", "User", …); "" when the payload names no
	// creator.
	CreatorType string
	// CreatorID is the creator's id; 0 when unknown.
	CreatorID int64
	// Application is the application that created the conversation (for a
	// channel conversation, the channel itself). It is nil when a user
	// created the conversation, or when the application could not be read
	// (403: the token lacks the applications_read scope, as client-credentials
	// tokens do; 404: not visible).
	Application *Application
	// Channel is ChannelAirbnb, ChannelBookingCom or ChannelHomeAway when
	// the creating application's name is one of those channels, else the
	// conversation's DefaultChannel, else "".
	Channel Channel
}

// CreatedByApplication reports whether an application (a channel such as
// Airbnb or Booking.com) created the conversation, and which. It makes no
// request: it reads CreatedBy, whose type is "Doorkeeper::Application" (or
// "Application") for application-created conversations.
func (c *Conversation) CreatedByApplication() (appID int64, ok bool) {
	if c == nil || c.CreatedBy.ID <= 0 {
		return 0, false
	}
	switch strings.ToLower(strings.TrimSpace(c.CreatedBy.Type)) {
	case "doorkeeper::application", "application":
		return c.CreatedBy.ID, true
	}
	return 0, false
}

// Origin resolves who created the conversation and on which channel it
// lives. When an application created it, the application is read through
// the client's application cache (Applications.Cached): resolving the
// origins of any number of conversations costs at most one request per
// distinct application, and none for conversations created by users.
//
// An application the token may not read (403) or cannot see (404) is not
// an error: Origin is returned with Application nil and Channel taken from
// the conversation's default_channel, and the miss is cached too. Other
// failures (network, 5xx, 401, a cancelled ctx) are returned as errors,
// with a nil Origin.
//
// The cache can be cleared with Applications.ClearCache, or turned off for
// a client with WithoutApplicationCache.
func (s *ConversationsService) Origin(ctx context.Context, c *Conversation) (*Origin, error) {
	if c == nil {
		return nil, fmt.Errorf("%w: Origin: nil conversation", ErrInvalidRequest)
	}
	var app *Application
	if id, ok := c.CreatedByApplication(); ok {
		var err error
		app, err = s.client.Applications.Cached(ctx, id)
		if err != nil && !isApplicationMiss(err) {
			return nil, err
		}
	}
	return originOf(c, app), nil
}

// originOf is the Origin of c, given the application that created it (nil
// when a user did, or when the application could not be read).
func originOf(c *Conversation, app *Application) *Origin {
	o := &Origin{CreatorType: c.CreatedBy.Type, CreatorID: c.CreatedBy.ID, Application: app}
	if app != nil {
		o.Channel = ChannelFromApplicationName(app.Name)
	}
	if o.Channel == "" {
		o.Channel = c.DefaultChannel
	}
	return o
}

// ChannelFromApplicationName recognises a channel application by its name,
// ignoring case, spaces and punctuation: "Airbnb" is ChannelAirbnb;
// "Booking.com", "BookingCom" and "booking-com" are ChannelBookingCom;
// "HomeAway", "Vrbo" and "HomeAway/Vrbo" are ChannelHomeAway. Any other
// name returns "": names are matched whole, so that an unrelated
// application whose name merely mentions a channel is not taken for it.
func ChannelFromApplicationName(name string) Channel {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		}
	}
	switch b.String() {
	case "airbnb":
		return ChannelAirbnb
	case "bookingcom":
		return ChannelBookingCom
	case "homeaway", "vrbo", "homeawayvrbo", "vrbohomeaway":
		return ChannelHomeAway
	}
	return ""
}

// isApplicationMiss reports whether reading an application failed for good
// (403 or 404), a result worth caching rather than asking again.
func isApplicationMiss(err error) bool {
	var e *ErrorResponse
	return errors.As(err, &e) && (e.StatusCode == http.StatusForbidden || e.StatusCode == http.StatusNotFound)
}

// WithoutApplicationCache makes Applications.Cached, and so
// Conversations.Origin, read the application from the API on every call.
func WithoutApplicationCache() Option {
	return func(c *Client) error {
		c.apps.disabled = true
		return nil
	}
}

// appCache holds the applications read so far, and the 403/404 misses, per
// client. Its zero value is ready for use.
type appCache struct {
	mu       sync.Mutex
	entries  map[int64]appEntry
	flights  flightGroup[int64, *Application]
	disabled bool
}

type appEntry struct {
	app *Application // nil for a miss
	err error        // the 403/404 of a miss
}

func (c *appCache) lookup(id int64) (appEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[id]
	return e, ok
}

func (c *appCache) store(id int64, e appEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = make(map[int64]appEntry)
	}
	c.entries[id] = e
}

func (c *appCache) clear() {
	c.mu.Lock()
	c.entries = nil
	c.mu.Unlock()
}

// Cached returns the application with the given id from the client's
// cache, reading it with Get on the first call. Concurrent first calls for
// the same id share one request. A 403 or 404 is cached as well and
// returned again, as the same error, until ClearCache; other errors are
// not cached. Each call returns its own copy of the application.
//
// With WithoutApplicationCache every call is a Get.
func (s *ApplicationsService) Cached(ctx context.Context, id int64) (*Application, error) {
	if err := checkID("applications", id); err != nil {
		return nil, err
	}
	c := &s.client.apps
	if c.disabled {
		app, _, err := s.Get(ctx, id)
		return app, err
	}
	if e, ok := c.lookup(id); ok {
		return e.copy()
	}
	app, err := c.flights.do(ctx, id, func() (*Application, error) {
		// A flight that ended between our lookup and this one has
		// already stored the answer.
		if e, ok := c.lookup(id); ok {
			return e.app, e.err
		}
		app, _, err := s.Get(ctx, id)
		if err == nil || isApplicationMiss(err) {
			c.store(id, appEntry{app: app, err: err})
		}
		return app, err
	})
	return appEntry{app, err}.copy()
}

func (e appEntry) copy() (*Application, error) {
	if e.app == nil {
		return nil, e.err
	}
	a := *e.app
	return &a, e.err
}

// Preload lists every application the token may read, in as few requests
// as the listing's pages, and stores them in the cache. Listing needs the
// applications_read scope and fails with 403 for client-credentials
// tokens; Cached and Origin then still work one application at a time.
func (s *ApplicationsService) Preload(ctx context.Context) error {
	for app, err := range s.All(ctx, nil) {
		if err != nil {
			return err
		}
		if app != nil && app.ID > 0 {
			s.client.apps.store(app.ID, appEntry{app: app})
		}
	}
	return nil
}

// ClearCache forgets every cached application and miss, so that the next
// Cached or Origin reads them again.
func (s *ApplicationsService) ClearCache() { s.client.apps.clear() }

// flightGroup lets concurrent calls for the same key share one execution:
// the first caller runs fn, the others wait for its result. Its zero value
// is ready for use.
type flightGroup[K comparable, V any] struct {
	mu    sync.Mutex
	calls map[K]*flightCall[V]
}

type flightCall[V any] struct {
	done chan struct{}
	val  V
	err  error
}

// do runs fn for key unless a call for key is already running, in which
// case it waits for that call's result or for ctx to end. fn runs with the
// first caller's context: when that context ends the flight fails, and a
// waiter whose own context is still live runs again rather than inherit
// someone else's cancellation.
func (g *flightGroup[K, V]) do(ctx context.Context, key K, fn func() (V, error)) (V, error) {
	for {
		g.mu.Lock()
		if g.calls == nil {
			g.calls = make(map[K]*flightCall[V])
		}
		c, running := g.calls[key]
		if !running {
			c = &flightCall[V]{done: make(chan struct{})}
			g.calls[key] = c
			g.mu.Unlock()
			g.run(key, c, fn)
			return c.val, c.err
		}
		g.mu.Unlock()
		select {
		case <-c.done:
		case <-ctx.Done():
			var zero V
			return zero, ctx.Err()
		}
		if c.err != nil && ctx.Err() == nil && (errors.Is(c.err, context.Canceled) || errors.Is(c.err, context.DeadlineExceeded)) {
			continue
		}
		return c.val, c.err
	}
}

// run calls fn for c and releases the waiters even if fn panics.
func (g *flightGroup[K, V]) run(key K, c *flightCall[V], fn func() (V, error)) {
	defer func() {
		g.mu.Lock()
		delete(g.calls, key)
		g.mu.Unlock()
		close(c.done)
	}()
	c.err = errFlightAborted
	c.val, c.err = fn()
}

var errFlightAborted = errors.New("bookingsync: concurrent call aborted")
