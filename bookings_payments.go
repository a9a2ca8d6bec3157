package bookingsync

import (
	"context"
	"iter"
	"time"
)

// BookingsPayment is the share of a Payment that went to one booking (one
// payment may pay several bookings). A booking lists them in
// Links.BookingsPayments.
type BookingsPayment struct {
	ID            int64     `json:"id"`
	AmountInCents int64     `json:"amount_in_cents"`
	Currency      string    `json:"currency"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`

	Links BookingsPaymentLinks `json:"links"`
}

// BookingsPaymentLinks are a bookings payment's associations.
type BookingsPaymentLinks struct {
	Account int64  `json:"account"`
	Booking int64  `json:"booking"`
	Payment int64  `json:"payment"`
	Rental  *int64 `json:"rental"`
}

func (s *BookingsPaymentsService) res() resource[BookingsPayment] {
	return newResource[BookingsPayment](s.client, "bookings_payments", "bookings_payments").needs(ScopePaymentsRead)
}

// List returns one page of the account's bookings payments.
//
// GET /bookings_payments
func (s *BookingsPaymentsService) List(ctx context.Context, opts *ListOptions) ([]*BookingsPayment, *Response, error) {
	return s.res().list(ctx, opts)
}

// All iterates over every bookings payment, page after page, fetching
// lazily.
//
// GET /bookings_payments?page={n}
func (s *BookingsPaymentsService) All(ctx context.Context, opts *ListOptions) iter.Seq2[*BookingsPayment, error] {
	return allPages(ctx, s.client, opts, s.List)
}

// Get returns one bookings payment.
//
// GET /bookings_payments/{id}
func (s *BookingsPaymentsService) Get(ctx context.Context, id int64) (*BookingsPayment, *Response, error) {
	return s.res().get(ctx, id, nil)
}

// GetWith is Get with field limiting and sideloading (opts).
//
// GET /bookings_payments/{id}?fields=…
func (s *BookingsPaymentsService) GetWith(ctx context.Context, id int64, opts *GetOptions) (*BookingsPayment, *Response, error) {
	return s.res().get(ctx, id, opts)
}

// GetMany returns the bookings payments with the given ids in one request
// per hundred ids; unknown ids are absent from the result.
//
// GET /bookings_payments/{id},{id},…
func (s *BookingsPaymentsService) GetMany(ctx context.Context, ids []int64) ([]*BookingsPayment, *Response, error) {
	return s.res().getMany(ctx, ids, nil)
}

// GetManyWith is GetMany with field limiting and sideloading (opts), sent
// with every request.
//
// GET /bookings_payments/{id},{id},…?fields=…
func (s *BookingsPaymentsService) GetManyWith(ctx context.Context, ids []int64, opts *GetOptions) ([]*BookingsPayment, *Response, error) {
	return s.res().getMany(ctx, ids, opts)
}
