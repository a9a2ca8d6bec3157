package bookingsync

import (
	"context"
	"fmt"
	"iter"
	"strings"
	"time"
	"unicode/utf8"
)

// Source is where a booking came from ("Airbnb", "Website", …), as the
// account lists them.
type Source struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
	// Position is the source's place in the account's list.
	Position int `json:"position"`
	// Internal sources are read-only for applications: associating a
	// record with one fails with 422.
	Internal  bool      `json:"internal"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`

	Links SourceLinks `json:"links"`
}

// SourceLinks are a source's associations.
type SourceLinks struct {
	Account  int64   `json:"account"`
	Bookings []int64 `json:"bookings"`
}

func (s *SourcesService) res() resource[Source] {
	return newResource[Source](s.client, "sources", "sources").needs(ScopeBookingsRead)
}

// List returns one page of sources.
//
// GET /sources
func (s *SourcesService) List(ctx context.Context, opts *ListOptions) ([]*Source, *Response, error) {
	return s.res().list(ctx, opts)
}

// All iterates over every source, page after page, fetching lazily.
//
// GET /sources?page={n}
func (s *SourcesService) All(ctx context.Context, opts *ListOptions) iter.Seq2[*Source, error] {
	return allPages(ctx, s.client, opts, s.List)
}

// Get returns one source.
//
// GET /sources/{id}
func (s *SourcesService) Get(ctx context.Context, id int64) (*Source, *Response, error) {
	return s.res().get(ctx, id, nil)
}

// GetWith is Get with field limiting (opts.Fields).
//
// GET /sources/{id}?fields=…
func (s *SourcesService) GetWith(ctx context.Context, id int64, opts *GetOptions) (*Source, *Response, error) {
	return s.res().get(ctx, id, opts)
}

// GetMany returns the sources with the given ids, a hundred ids a request,
// each answer read to its last page (the API pages it like a listing,
// rentals 50 a page); unknown ids are absent from the result.
//
// GET /sources/{id},{id},…
func (s *SourcesService) GetMany(ctx context.Context, ids []int64) ([]*Source, *Response, error) {
	return s.res().getMany(ctx, ids, nil)
}

// GetManyWith is GetMany with field limiting (opts.Fields), sent with
// every request.
//
// GET /sources/{id},{id},…?fields=…
func (s *SourcesService) GetManyWith(ctx context.Context, ids []int64, opts *GetOptions) ([]*Source, *Response, error) {
	return s.res().getMany(ctx, ids, opts)
}

// NewSource is the body of Sources.Create: where the application's
// bookings come from, as the account will list it.
type NewSource struct {
	// Name is required, at most 50 characters.
	Name string `json:"name"`
	// Position is the source's place in the account's list; nil: last.
	Position *int `json:"position,omitempty"`
}

// SourceUpdate is what Sources.Update may change; nil fields are left as
// they are.
type SourceUpdate struct {
	Name     *string `json:"name,omitempty"`
	Position *int    `json:"position,omitempty"`
}

func checkSourceName(name string) []string {
	switch n := utf8.RuneCountInString(name); {
	case strings.TrimSpace(name) == "":
		return []string{"Name is required"}
	case n > 50:
		return []string{fmt.Sprintf("Name has %d characters, over 50", n)}
	}
	return nil
}

// Create adds a booking source. It needs bookings_write or
// bookings_write_owned.
//
// POST /sources
func (s *SourcesService) Create(ctx context.Context, src *NewSource) (*Source, *Response, error) {
	if src == nil {
		return nil, nil, invalid("new source", "nil source")
	}
	if err := invalid("new source", checkSourceName(src.Name)...); err != nil {
		return nil, nil, err
	}
	return s.res().create(ctx, src)
}

// Update renames or moves a booking source. It needs bookings_write or
// bookings_write_owned; an internal source (Source.Internal) is refused
// by the API.
//
// PUT /sources/{id}
func (s *SourcesService) Update(ctx context.Context, id int64, u *SourceUpdate) (*Source, *Response, error) {
	if u == nil {
		return nil, nil, invalid("source update", "nil update")
	}
	if u.Name != nil {
		if err := invalid("source update", checkSourceName(*u.Name)...); err != nil {
			return nil, nil, err
		}
	}
	return s.res().update(ctx, id, u)
}
