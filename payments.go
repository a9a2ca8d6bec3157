package bookingsync

import (
	"context"
	"iter"
	"time"
)

// Payment is money received for one or more bookings: recorded by hand
// (cash, cheque, bank transfer…) or taken online. Amounts are in cents of
// Currency. A booking lists its payments in Links.Payments; "has the guest
// paid?" is the sum of its paid payments (PaidAt set, CanceledAt and
// RejectedAt not) against its price, or BookingsPayment records.
type Payment struct {
	ID            int64  `json:"id"`
	AmountInCents int64  `json:"amount_in_cents"`
	Currency      string `json:"currency"`
	// Kind is "cash", "cheque", "credits", "bank_transfer", "online",
	// "bookingsync", "instant-booking", … as the API writes it.
	Kind          string `json:"kind"`
	OrderID       string `json:"order_id"`
	TransactionID string `json:"transaction_id"`
	// Card is the card's last digits as the API masks them
	// ("XXXX-XXXX-XXXX-1234"); "" when none.
	Card        string `json:"card"`
	Description string `json:"description"`
	Notes       string `json:"notes"`
	// Test is nil when the API sends null.
	Test   *bool  `json:"test"`
	Locked string `json:"locked"`
	// Chargeable is nil when the API did not say.
	Chargeable     *bool `json:"chargeable,omitempty"`
	OffsitePayment *bool `json:"offsite_payment,omitempty"`

	// The payer, as entered.
	Fullname    string `json:"fullname"`
	Email       string `json:"email"`
	Locale      string `json:"locale"`
	IP          string `json:"ip"`
	Address1    string `json:"address1"`
	Address2    string `json:"address2"`
	City        string `json:"city"`
	State       string `json:"state"`
	Zip         string `json:"zip"`
	CountryCode string `json:"country_code"`

	PaidAt                 *time.Time `json:"paid_at"`
	AuthorizedAt           *time.Time `json:"authorized_at,omitempty"`
	RejectedAt             *time.Time `json:"rejected_at"`
	CanceledAt             *time.Time `json:"canceled_at"`
	ForgetMeAt             *time.Time `json:"forget_me_at"`
	ProcessingRestrictedAt *time.Time `json:"processing_restricted_at"`
	// CapturableFrom and EscrowDate are dates ("2026-07-01"); "" when null.
	CapturableFrom string    `json:"capturable_from,omitempty"`
	EscrowDate     string    `json:"escrow_date,omitempty"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`

	Links PaymentLinks `json:"links"`
}

// PaymentLinks are a payment's associations. PaymentGateway needs the
// preferences_payments_read scope.
type PaymentLinks struct {
	Account          int64   `json:"account"`
	PaymentGateway   *int64  `json:"payment_gateway"`
	Bookings         []int64 `json:"bookings"`
	BookingsPayments []int64 `json:"bookings_payments"`
}

// Paid reports whether the payment counts as received: paid, neither
// canceled nor rejected.
func (p *Payment) Paid() bool {
	return p != nil && p.PaidAt != nil && p.CanceledAt == nil && p.RejectedAt == nil
}

// PaymentListOptions are the filters of Payments.List.
type PaymentListOptions struct {
	ListOptions
	// OrderIDs keeps the payments of these orders (the reference's
	// search parameter order_id).
	OrderIDs []string `url:"order_id,comma,omitempty"`
}

func (s *PaymentsService) res() resource[Payment] {
	return newResource[Payment](s.client, "payments", "payments").needs(ScopePaymentsRead)
}

// List returns one page of the account's payments.
//
// GET /payments
func (s *PaymentsService) List(ctx context.Context, opts *PaymentListOptions) ([]*Payment, *Response, error) {
	return s.res().list(ctx, opts)
}

// All iterates over every payment that matches opts, page after page,
// fetching lazily.
//
// GET /payments?page={n}
func (s *PaymentsService) All(ctx context.Context, opts *PaymentListOptions) iter.Seq2[*Payment, error] {
	return allPages(ctx, s.client, opts, s.List)
}

// Get returns one payment.
//
// GET /payments/{id}
func (s *PaymentsService) Get(ctx context.Context, id int64) (*Payment, *Response, error) {
	return s.res().get(ctx, id, nil)
}

// GetWith is Get with field limiting and sideloading (opts).
//
// GET /payments/{id}?fields=…
func (s *PaymentsService) GetWith(ctx context.Context, id int64, opts *GetOptions) (*Payment, *Response, error) {
	return s.res().get(ctx, id, opts)
}

// GetMany returns the payments with the given ids, a hundred ids a
// request, each answer read to its last page (the API pages it like a
// listing, rentals 50 a page); unknown ids are absent from the result.
//
// GET /payments/{id},{id},…
func (s *PaymentsService) GetMany(ctx context.Context, ids []int64) ([]*Payment, *Response, error) {
	return s.res().getMany(ctx, ids, nil)
}

// GetManyWith is GetMany with field limiting and sideloading (opts), sent
// with every request.
//
// GET /payments/{id},{id},…?fields=…
func (s *PaymentsService) GetManyWith(ctx context.Context, ids []int64, opts *GetOptions) ([]*Payment, *Response, error) {
	return s.res().getMany(ctx, ids, opts)
}

// OfBooking returns the payments of a booking: those its Links.Payments
// name, read with GetMany (none, and no request, when it has none). The
// booking must have been read with bookings_read, which carries the link.
//
// GET /payments/{id},{id},…
func (s *PaymentsService) OfBooking(ctx context.Context, b *Booking) ([]*Payment, *Response, error) {
	if b == nil {
		return nil, nil, invalid("payments of a booking", "nil booking")
	}
	if len(b.Links.Payments) == 0 {
		return nil, nil, nil
	}
	return s.GetMany(ctx, b.Links.Payments)
}
