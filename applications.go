package bookingsync

import (
	"context"
	"errors"
	"iter"
	"net/http"
	"sync"
	"time"
)

// Application is an OAuth application. Channels (Airbnb, Booking.com) are
// applications, and the conversations they create name them as creator.
type Application struct {
	ID                   int64   `json:"id"`
	Name                 string  `json:"name"`
	DefaultPriceIncrease Decimal `json:"default_price_increase"`
	// CreatedAt and UpdatedAt are zero when the payload lacks them (the
	// reference's example does; the live API sends them).
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

func (s *ApplicationsService) res() resource[Application] {
	return newResource[Application](s.client, "applications", "applications").needs(ScopeApplicationsRead)
}

// List returns one page of applications.
//
// GET /applications
func (s *ApplicationsService) List(ctx context.Context, opts *ListOptions) ([]*Application, *Response, error) {
	return s.res().list(ctx, opts)
}

// All iterates over every application, page after page, fetching lazily.
//
// GET /applications?page={n}
func (s *ApplicationsService) All(ctx context.Context, opts *ListOptions) iter.Seq2[*Application, error] {
	return allPages(ctx, s.client, opts, s.List)
}

// Get returns one application.
//
// GET /applications/{id}
func (s *ApplicationsService) Get(ctx context.Context, id int64) (*Application, *Response, error) {
	return s.res().get(ctx, id, nil)
}

// GetMany returns the applications with the given ids, a hundred ids a
// request, each answer read to its last page (the API pages it like a
// listing, rentals 50 a page); unknown ids are absent from the result.
//
// GET /applications/{id},{id},…
func (s *ApplicationsService) GetMany(ctx context.Context, ids []int64) ([]*Application, *Response, error) {
	return s.res().getMany(ctx, ids, nil)
}

// GetWith is Get with field limiting and sideloading (opts).
//
// GET /applications/{id}?fields=…
func (s *ApplicationsService) GetWith(ctx context.Context, id int64, opts *GetOptions) (*Application, *Response, error) {
	return s.res().get(ctx, id, opts)
}

// GetManyWith is GetMany with field limiting and sideloading (opts), sent
// with every request.
//
// GET /applications/{id},{id},…?fields=…
func (s *ApplicationsService) GetManyWith(ctx context.Context, ids []int64, opts *GetOptions) ([]*Application, *Response, error) {
	return s.res().getMany(ctx, ids, opts)
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
//
// GET /applications/{id} (once per id)
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
//
// GET /applications?page={n}
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

// isApplicationMiss reports whether reading an application failed for good
// (403 or 404), a result worth caching rather than asking again.
func isApplicationMiss(err error) bool {
	var e *ErrorResponse
	return errors.As(err, &e) && (e.StatusCode == http.StatusForbidden || e.StatusCode == http.StatusNotFound)
}
