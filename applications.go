package bookingsync

import (
	"context"
	"iter"
)

// Application is an OAuth application. Channels (Airbnb, Booking.com) are
// applications, and the conversations they create name them as creator.
type Application struct {
	ID                   int64   `json:"id"`
	Name                 string  `json:"name"`
	DefaultPriceIncrease Decimal `json:"default_price_increase"`
}

func (s *ApplicationsService) res() resource[Application] {
	return newResource[Application](s.client, "applications", "applications").needs(ScopeApplicationsRead)
}

// List returns one page of applications.
func (s *ApplicationsService) List(ctx context.Context, opts *ListOptions) ([]*Application, *Response, error) {
	return s.res().list(ctx, opts)
}

// All iterates over every application, page after page.
func (s *ApplicationsService) All(ctx context.Context, opts *ListOptions) iter.Seq2[*Application, error] {
	return allPages(ctx, s.client, opts, s.List)
}

// Get returns one application.
func (s *ApplicationsService) Get(ctx context.Context, id int64) (*Application, *Response, error) {
	return s.res().get(ctx, id, nil)
}

// GetMany returns the applications with the given ids.
func (s *ApplicationsService) GetMany(ctx context.Context, ids []int64) ([]*Application, *Response, error) {
	return s.res().getMany(ctx, ids, nil)
}
