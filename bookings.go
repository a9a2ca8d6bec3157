package bookingsync

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/url"
	"strings"
	"time"
)

// BookingStatus is a booking's state as the API writes it ("Booked").
// Values the API adds later decode as they come.
type BookingStatus string

// The documented booking statuses.
const (
	BookingStatusBooked      BookingStatus = "Booked"
	BookingStatusTentative   BookingStatus = "Tentative"
	BookingStatusUnavailable BookingStatus = "Unavailable"
	BookingStatusCanceled    BookingStatus = "Canceled"
)

// Booking is a reservation of a rental, or a period blocked as unavailable.
// A booking made on a channel (Booking.com, Airbnb) gets an Inbox
// Conversation, listed in Links.Conversations once it exists; see
// BookingsService.Conversations and WaitForConversations.
//
// Prices are exact Decimals in Currency; a null price is the zero Decimal.
// Nullable times, counts and ids are pointers.
type Booking struct {
	ID        int64         `json:"id"`
	Reference string        `json:"reference"`
	Status    BookingStatus `json:"status"`
	// Booked and Unavailable repeat Status as flags.
	Booked      bool `json:"booked"`
	Unavailable bool `json:"unavailable"`

	StartAt            time.Time  `json:"start_at"`
	EndAt              time.Time  `json:"end_at"`
	CreatedAt          time.Time  `json:"created_at"`
	UpdatedAt          time.Time  `json:"updated_at"`
	CanceledAt         *time.Time `json:"canceled_at"`
	TentativeExpiresAt *time.Time `json:"tentative_expires_at"`
	BalanceDueAt       *time.Time `json:"balance_due_at"`
	ContractUpdatedAt  *time.Time `json:"contract_updated_at"`

	// ExpectedCheckinTime and ExpectedCheckoutTime are local times of day
	// as written ("14:45"); "" when unknown.
	ExpectedCheckinTime  string `json:"expected_checkin_time"`
	ExpectedCheckoutTime string `json:"expected_checkout_time"`

	Adults   *int `json:"adults"`
	Children *int `json:"children"`

	Currency             string  `json:"currency"`
	InitialPrice         Decimal `json:"initial_price"`
	InitialRentalPrice   Decimal `json:"initial_rental_price"`
	ChannelPrice         Decimal `json:"channel_price"`
	FinalPrice           Decimal `json:"final_price"`
	FinalRentalPrice     Decimal `json:"final_rental_price"`
	Downpayment          Decimal `json:"downpayment"`
	PaidAmount           Decimal `json:"paid_amount"`
	PaymentLeftToCollect Decimal `json:"payment_left_to_collect"`
	DamageDeposit        Decimal `json:"damage_deposit"`
	RentalPaybackToOwner Decimal `json:"rental_payback_to_owner"`
	FinalPaybackToOwner  Decimal `json:"final_payback_to_owner"`
	Commission           Decimal `json:"commission"`
	// Discount is written as the API does: "10%" or an amount.
	Discount string `json:"discount"`

	ChargeDamageDepositOnArrival bool `json:"charge_damage_deposit_on_arrival"`
	BookingsPaymentsCount        int  `json:"bookings_payments_count"`
	ReviewRequestsCount          int  `json:"review_requests_count"`

	Notes             string  `json:"notes"`
	PaymentURL        *string `json:"payment_url"`
	ExternalReference *string `json:"external_reference"`
	// OwnedByApp reports whether the calling application created the
	// booking.
	OwnedByApp bool `json:"owned_by_app"`
	// Locked names what holds the booking locked, such as
	// "doorkeeper/application-17"; "" when null. A JSON boolean is kept as
	// "true" or "false".
	Locked string `json:"locked"`
	// Imported reports whether the booking was imported from another
	// system.
	Imported bool `json:"imported"`

	// CancelationReason is the API's reason code for a cancelation; the
	// messages are what the guest and the channel were told. "" when null.
	CancelationReason           string `json:"cancelation_reason"`
	CancelationMessageToGuest   string `json:"cancelation_message_to_guest"`
	CancelationMessageToChannel string `json:"cancelation_message_to_channel"`

	// DamageDepositCollectionMethod says how the damage deposit is
	// collected; DamageDepositExternalCollectionMethodName names the
	// external method when it is one. "" when null.
	DamageDepositCollectionMethod             string `json:"damage_deposit_collection_method"`
	DamageDepositExternalCollectionMethodName string `json:"damage_deposit_external_collection_method_name"`
	// DoorKeyCode is the code given to the guest, "" when null.
	DoorKeyCode string `json:"door_key_code"`

	AuthorizedAmount       Decimal `json:"authorized_amount"`
	PaidOrAuthorizedAmount Decimal `json:"paid_or_authorized_amount"`
	PaybackToOwner         Decimal `json:"payback_to_owner"`
	// Reconciliation is kept as the JSON the API sent (null when absent):
	// recordings show the attribute but not its shape.
	Reconciliation json.RawMessage `json:"reconciliation"`

	// CreatedBy names the creator, filled from the created_by_id and
	// created_by_type attributes or a created_by link, whichever the
	// payload has; zero when neither.
	CreatedBy Polymorphic `json:"created_by"`

	Links BookingLinks `json:"links"`

	// BookingsFees and BookingsTaxes hold the booking's fees and taxes
	// when the request sideloaded them (include=bookings_fees,bookings_taxes);
	// nil otherwise.
	BookingsFees  []*BookingFee `json:"bookings_fees,omitempty"`
	BookingsTaxes []*BookingTax `json:"bookings_taxes,omitempty"`
}

// BookingFee is a fee charged with a booking, as sideloaded with it.
type BookingFee struct {
	ID int64 `json:"id"`
	// Name is the fee's name by locale ("en": "Cleaning").
	Name            map[string]string `json:"name"`
	Price           Decimal           `json:"price"`
	Required        *bool             `json:"required"`
	IncludedInPrice bool              `json:"included_in_price"`
	TimesBooked     int               `json:"times_booked"`
	CreatedAt       time.Time         `json:"created_at"`
	UpdatedAt       time.Time         `json:"updated_at"`
	Links           struct {
		Account       int64   `json:"account"`
		Booking       int64   `json:"booking"`
		Fee           *int64  `json:"fee"`
		RentalsFee    *int64  `json:"rentals_fee"`
		BookingsTaxes []int64 `json:"bookings_taxes"`
	} `json:"links"`
}

// BookingTax is a tax charged with a booking, as sideloaded with it.
type BookingTax struct {
	ID int64 `json:"id"`
	// Name is the tax's name by locale.
	Name               map[string]string `json:"name"`
	Percentage         Decimal           `json:"percentage"`
	Amount             Decimal           `json:"amount"`
	TaxIncludedInPrice bool              `json:"tax_included_in_price"`
	Links              struct {
		Account int64  `json:"account"`
		Booking int64  `json:"booking"`
		Tax     *int64 `json:"tax"`
		// Taxable is what the tax applies to: {ID, Type: "Rental"}, …
		Taxable Polymorphic `json:"taxable"`
	} `json:"links"`
}

// BookingLinks are a booking's associations, by id. Nullable ids are
// pointers; a list is empty when the booking has none and nil when the
// payload did not carry it.
type BookingLinks struct {
	Account           int64  `json:"account"`
	Rental            *int64 `json:"rental"`
	Client            *int64 `json:"client"`
	Source            *int64 `json:"source"`
	Inquiry           *int64 `json:"inquiry"`
	RentalAgreement   *int64 `json:"rental_agreement"`
	DiscountCodeUsage *int64 `json:"discount_code_usage"`
	// Conversations are the booking's Inbox Conversations; a channel's
	// conversation may appear some time after the booking. Empty means it
	// has none yet; nil means the payload had no conversations link at
	// all, which is what a token without the bookings_read scope gets (see
	// ConversationsKnown). Both survive a JSON round trip.
	Conversations    []int64      `json:"conversations"`
	BookingComments  []int64      `json:"booking_comments"`
	BookingsFees     []int64      `json:"bookings_fees"`
	BookingsTaxes    []int64      `json:"bookings_taxes"`
	BookingsPayments []int64      `json:"bookings_payments"`
	BookingsTags     []int64      `json:"bookings_tags"`
	RentalsTags      []int64      `json:"rentals_tags"`
	Payments         []int64      `json:"payments"`
	CreatedBy        *Polymorphic `json:"created_by,omitempty"`
}

// ConversationsKnown reports whether the booking came with its
// conversations link. The API leaves the link out, rather than sending an
// empty list, when the token lacks the bookings_read scope (or when the
// request limited the fields): Links.Conversations is then unknown, not
// empty.
func (b *Booking) ConversationsKnown() bool { return b.Links.Conversations != nil }

// IsCanceled reports whether the booking has been canceled.
func (b *Booking) IsCanceled() bool {
	return b.CanceledAt != nil || b.Status == BookingStatusCanceled
}

// UnmarshalJSON fills CreatedBy from either wire form, Locked from a
// string, a boolean or null, and keeps Reconciliation compact (nil when
// null or absent).
func (b *Booking) UnmarshalJSON(data []byte) error {
	return unmarshalWire(data, b, (*bookingWire).fold)
}

// bookingWire is a Booking as the wire has it.
type bookingWire struct {
	bookingFields
	creatorAttrs
	Locked lockState `json:"locked"`
}

// bookingFields is Booking without its methods.
type bookingFields Booking

func (w *bookingWire) fold() (*Booking, error) {
	b := (*Booking)(&w.bookingFields)
	b.CreatedBy = w.resolve(b.CreatedBy, b.Links.CreatedBy)
	b.Locked = string(w.Locked)
	if raw := bytes.TrimSpace(b.Reconciliation); len(raw) == 0 || string(raw) == "null" {
		b.Reconciliation = nil
	} else {
		var buf bytes.Buffer
		json.Compact(&buf, raw) // raw is valid JSON: encoding/json checked it
		b.Reconciliation = buf.Bytes()
	}
	if err := noNull("bookings_fees", b.BookingsFees); err != nil {
		return nil, err
	}
	return b, noNull("bookings_taxes", b.BookingsTaxes)
}

// lockState reads a booking's locked attribute: a string, a boolean (kept
// as "true" or "false") or null ("").
type lockState string

func (l *lockState) UnmarshalJSON(raw []byte) error {
	switch raw = bytes.TrimSpace(raw); {
	case string(raw) == "null":
		*l = ""
	case len(raw) > 0 && raw[0] == '"':
		return json.Unmarshal(raw, (*string)(l))
	case string(raw) == "true" || string(raw) == "false":
		*l = lockState(raw)
	default:
		return fmt.Errorf("bookingsync: booking locked: %q is neither a string nor a boolean", truncate(string(raw), 40))
	}
	return nil
}

// BookingListOptions filter a bookings listing. Without filters the API
// returns only future, non-canceled bookings.
type BookingListOptions struct {
	ListOptions
	// From and Until bound the bookings' period; zero means unbounded.
	// They are sent in UTC.
	From  time.Time `url:"-"`
	Until time.Time `url:"-"`
	// Months is the length of the period from From, in months.
	Months int `url:"months,omitempty"`
	// Status keeps only bookings in these states: Booked, Tentative,
	// Unavailable. Canceled bookings are asked for with IncludeCanceled.
	Status []BookingStatus `url:"-"`
	// IncludeCanceled adds canceled bookings.
	IncludeCanceled bool `url:"include_canceled,omitempty"`
	// RentalIDs and ClientIDs keep only the bookings of these rentals or
	// clients.
	RentalIDs []int64 `url:"rental_id,comma,omitempty"`
	ClientIDs []int64 `url:"client_id,comma,omitempty"`
}

// encodeExtra writes the times in UTC and the statuses lower-cased, and
// rejects what the API would misread.
func (o *BookingListOptions) encodeExtra(v url.Values) error {
	var pr []string
	if o.Months < 0 {
		pr = append(pr, fmt.Sprintf("Months %d is negative", o.Months))
	}
	if !o.From.IsZero() && !o.Until.IsZero() && o.Until.Before(o.From) {
		pr = append(pr, "Until is before From")
	}
	pr = append(pr, checkIDs("rental", o.RentalIDs)...)
	pr = append(pr, checkIDs("client", o.ClientIDs)...)
	names := make([]string, len(o.Status))
	for i, s := range o.Status {
		switch {
		case strings.EqualFold(string(s), string(BookingStatusCanceled)):
			pr = append(pr, "filter on canceled bookings with IncludeCanceled, not Status")
		case strings.TrimSpace(string(s)) == "" || strings.Contains(string(s), ","):
			pr = append(pr, fmt.Sprintf("status %q", truncate(string(s), 40)))
		}
		names[i] = strings.ToLower(string(s))
	}
	if err := invalid("bookings", pr...); err != nil {
		return err
	}
	if !o.From.IsZero() {
		v.Set("from", formatTime(o.From))
	}
	if !o.Until.IsZero() {
		v.Set("until", formatTime(o.Until))
	}
	if len(names) > 0 {
		v.Set("status", strings.Join(names, ","))
	}
	return nil
}

func (s *BookingsService) res() resource[Booking] {
	return newResource[Booking](s.client, "bookings", "bookings").needs(ScopeBookingsRead)
}

// List returns one page of bookings.
//
// GET /bookings
func (s *BookingsService) List(ctx context.Context, opts *BookingListOptions) ([]*Booking, *Response, error) {
	return s.res().list(ctx, opts)
}

// All iterates over every booking, page after page, fetching lazily.
//
// GET /bookings?page={n}
func (s *BookingsService) All(ctx context.Context, opts *BookingListOptions) iter.Seq2[*Booking, error] {
	return allPages(ctx, s.client, opts, s.List)
}

// Get returns one booking.
//
// GET /bookings/{id}
func (s *BookingsService) Get(ctx context.Context, id int64) (*Booking, *Response, error) {
	return s.res().get(ctx, id, nil)
}

// GetMany returns the bookings with the given ids, a hundred ids a
// request, each answer read to its last page (the API pages it like a
// listing, rentals 50 a page); unknown ids are absent from the result.
//
// GET /bookings/{id},{id},…
func (s *BookingsService) GetMany(ctx context.Context, ids []int64) ([]*Booking, *Response, error) {
	return s.res().getMany(ctx, ids, nil)
}

// GetWith is Get with field limiting and sideloading (opts).
//
// GET /bookings/{id}?fields=…
func (s *BookingsService) GetWith(ctx context.Context, id int64, opts *GetOptions) (*Booking, *Response, error) {
	return s.res().get(ctx, id, opts)
}

// GetManyWith is GetMany with field limiting and sideloading (opts), sent
// with every request.
//
// GET /bookings/{id},{id},…?fields=…
func (s *BookingsService) GetManyWith(ctx context.Context, ids []int64, opts *GetOptions) ([]*Booking, *Response, error) {
	return s.res().getMany(ctx, ids, opts)
}

// Conversations returns the booking's Inbox Conversations in at most two
// requests: the booking, then one GetMany of its Links.Conversations (a
// booking with more than a hundred conversations would take more). It
// returns an empty slice, after one request, when the booking has none
// yet: a channel's conversation may appear some time after the booking,
// see WaitForConversations.
//
// A token without the bookings_read scope reads a reduced booking, without
// its conversations link: then, after that one request, it returns a
// *ScopeError naming ScopeBookingsRead, which matches ErrForbidden.
//
// GET /bookings/{id}, then GET /inbox/conversations/{id},{id},…
func (s *BookingsService) Conversations(ctx context.Context, bookingID int64) ([]*Conversation, error) {
	convs, _, err := s.conversations(ctx, bookingID)
	return convs, err
}

// conversations is Conversations with the last response, for its rate.
func (s *BookingsService) conversations(ctx context.Context, bookingID int64) ([]*Conversation, *Response, error) {
	b, resp, err := s.Get(ctx, bookingID)
	if err != nil {
		return nil, resp, err
	}
	if !b.ConversationsKnown() {
		return nil, resp, fmt.Errorf("bookingsync: booking %d came without its conversations link: %w", bookingID, &ScopeError{Scope: ScopeBookingsRead})
	}
	if len(b.Links.Conversations) == 0 {
		return []*Conversation{}, resp, nil
	}
	convs, resp, err := s.client.Conversations.GetMany(ctx, b.Links.Conversations)
	if err != nil {
		return nil, resp, err
	}
	return convs, resp, nil
}

// Budget kept back by WaitForConversations for the rest of the program:
// once no more than this share of the hour's requests (and at least
// waitReserveFloor) remains, it waits for the reset instead of polling.
const (
	waitReservePercent = 5
	waitReserveFloor   = 5
)

// WaitForConversations polls Conversations every interval until the
// booking has at least one, and returns them. A channel creates a
// booking's conversation some time after the booking; the
// inbox_conversation_created webhook is the cheaper cue when available.
//
// It spares the application's hourly rate budget: once the remaining
// requests fall to 5% of the limit (or 5 requests), it waits for the reset
// instead of polling, and when the reset lies beyond ctx's deadline it
// returns at once an error wrapping ErrRateLimited rather than sleep in
// vain. A 429 is treated the same way. It ends with ctx, returning an
// error wrapping ctx's error, and at the first other error (an unknown
// booking: ErrNotFound; a token without bookings_read, which would never
// see the conversations: a *ScopeError matching ErrForbidden, after the
// first request).
//
// GET /bookings/{id}, then GET /inbox/conversations/{id},{id},… (repeatedly)
func (s *BookingsService) WaitForConversations(ctx context.Context, bookingID int64, every time.Duration) ([]*Conversation, error) {
	if every <= 0 {
		return nil, invalid("WaitForConversations", fmt.Sprintf("interval %v is not positive", every))
	}
	if err := checkID("bookings", bookingID); err != nil {
		return nil, err
	}
	for {
		if err := ctx.Err(); err != nil {
			return nil, waitEnded(ctx, bookingID)
		}
		convs, resp, err := s.conversations(ctx, bookingID)
		rate := s.client.Rate()
		if resp != nil && resp.Rate.known() {
			rate = resp.Rate
		}
		var rl *RateLimitError
		switch {
		case errors.As(err, &rl):
			if rl.Rate.known() {
				rate = rl.Rate
			}
			rate.Remaining = 0
		case err != nil:
			if ctx.Err() != nil {
				return nil, waitEnded(ctx, bookingID)
			}
			return nil, err
		case len(convs) > 0:
			return convs, nil
		}
		wait, err := pollWait(ctx, rate, every, s.client.now())
		if err != nil {
			return nil, fmt.Errorf("bookingsync: waiting for the conversations of booking %d: %w", bookingID, err)
		}
		if err := s.client.sleep(ctx, wait); err != nil {
			return nil, waitEnded(ctx, bookingID)
		}
	}
}

// pollWait is the pause before the next poll: every, or until the rate
// budget resets when it runs low. It fails, wrapping ErrRateLimited, when
// the budget is low and resets only after ctx's deadline.
func pollWait(ctx context.Context, rate Rate, every time.Duration, now time.Time) (time.Duration, error) {
	reserve := max(rate.Limit*waitReservePercent/100, waitReserveFloor)
	low := (rate.Limit > 0 || rate.Remaining == 0) && rate.Remaining <= reserve
	if !low || !rate.Reset.After(now) {
		return every, nil
	}
	if deadline, ok := ctx.Deadline(); ok && deadline.Before(rate.Reset) {
		return 0, fmt.Errorf("%w: %d of %d requests left until %s, after the deadline",
			ErrRateLimited, rate.Remaining, rate.Limit, rate.Reset.UTC().Format(time.RFC3339))
	}
	return max(rate.Reset.Sub(now), every), nil
}

func waitEnded(ctx context.Context, bookingID int64) error {
	return fmt.Errorf("bookingsync: waiting for the conversations of booking %d: %w", bookingID, context.Cause(ctx))
}
