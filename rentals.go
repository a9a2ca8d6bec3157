package bookingsync

import (
	"context"
	"iter"
	"time"
)

// Localized is a text in several locales, keyed by locale ("en", "fr"); a
// locale the account left empty maps to "".
type Localized map[string]string

// In returns the text in locale, else in English, else in any locale
// (the smallest key, so that the choice is stable); "" when there is none.
func (l Localized) In(locale string) string {
	if s := l[locale]; s != "" {
		return s
	}
	if s := l["en"]; s != "" {
		return s
	}
	best := ""
	for k, s := range l {
		if s != "" && (best == "" || k < best) {
			best = k
		}
	}
	return l[best]
}

// Rental is a property: what a booking reserves. Published rentals are
// readable with the public scope; the rest, and the private attributes
// (address, notes, owner), need rentals_read.
//
// Prices are exact Decimals in Currency. Times of day (CheckinTime, …) are
// hours, nil when unset.
type Rental struct {
	ID           int64     `json:"id"`
	Name         string    `json:"name"`
	Headline     Localized `json:"headline"`
	Summary      Localized `json:"summary"`
	Description  Localized `json:"description"`
	RentalType   string    `json:"rental_type"`
	ContactName  string    `json:"contact_name"`
	Position     int       `json:"position"`
	Notes        string    `json:"notes"`
	PublicNotes  string    `json:"public_notes"`
	WebsiteURL   Localized `json:"website_url"`
	PermitNumber string    `json:"permit_number"`

	Address1    string   `json:"address1"`
	Address2    string   `json:"address2"`
	City        string   `json:"city"`
	State       string   `json:"state"`
	Zip         string   `json:"zip"`
	CountryCode string   `json:"country_code"`
	Lat         *float64 `json:"lat"`
	Lng         *float64 `json:"lng"`
	Floor       string   `json:"floor"`

	BedroomsCount          int      `json:"bedrooms_count"`
	BathroomsCount         int      `json:"bathrooms_count"`
	FullBathroomsCount     int      `json:"full_bathrooms_count"`
	StandaloneToiletsCount int      `json:"standalone_toilets_count"`
	VRBathroomsCount       *float64 `json:"vr_bathrooms_count"`
	Sleeps                 int      `json:"sleeps"`
	SleepsMax              int      `json:"sleeps_max"`
	StoriesCount           *int     `json:"stories_count"`
	Surface                *int     `json:"surface"`
	// SurfaceUnit is "metric" or "imperial".
	SurfaceUnit string `json:"surface_unit"`

	CheckinType     string    `json:"checkin_type"`
	CheckinTime     *int      `json:"checkin_time"`
	CheckinEndTime  *int      `json:"checkin_end_time"`
	CheckoutTime    *int      `json:"checkout_time"`
	CheckinDetails  Localized `json:"checkin_details"`
	CheckoutDetails Localized `json:"checkout_details"`

	Currency     string  `json:"currency"`
	BaseRate     Decimal `json:"base_rate"`
	BaseRateKind string  `json:"base_rate_kind"`
	// PriceKind is what MinPrice and MaxPrice are per ("weekly", …, as
	// recorded; the reference does not document it); "" when null.
	PriceKind        string    `json:"price_kind"`
	MinPrice         Decimal   `json:"min_price"`
	MaxPrice         Decimal   `json:"max_price"`
	AbsoluteMinPrice Decimal   `json:"absolute_min_price"`
	InitialPrice     Decimal   `json:"initial_price"`
	FinalPrice       Decimal   `json:"final_price"`
	PricePublicNotes Localized `json:"price_public_notes"`
	RoundingKind     string    `json:"rounding_kind"`
	// Downpayment is a percentage; nil means the account's default.
	Downpayment *int `json:"downpayment"`
	// BalanceDue is the number of days after confirmation by which the
	// full price is collected.
	BalanceDue                                *int    `json:"balance_due"`
	DamageDeposit                             Decimal `json:"damage_deposit"`
	ChargeDamageDepositOnArrival              bool    `json:"charge_damage_deposit_on_arrival"`
	DamageDepositCollectionMethod             string  `json:"damage_deposit_collection_method"`
	DamageDepositExternalCollectionMethodName string  `json:"damage_deposit_external_collection_method_name"`
	RefundDamageDepositAfter                  *int    `json:"refund_damage_deposit_after"`
	AbsoluteMinStay                           *int    `json:"absolute_min_stay"`
	MidTermPricingActive                      bool    `json:"mid_term_pricing_active"`
	NightlyRatesManagedExternally             bool    `json:"nightly_rates_managed_externally"`

	BookableOnline    bool `json:"bookable_online"`
	BookableOnRequest bool `json:"bookable_on_request"`
	InstantlyBookable bool `json:"instantly_bookable"`

	ReviewsCount         int     `json:"reviews_count"`
	ReviewsAverageRating Decimal `json:"reviews_average_rating"`

	ResidencyCategory string `json:"residency_category"`
	ManagementType    string `json:"management_type"`
	// Certifications maps a certification to its levels
	// ("meubles_de_tourisme": ["1_etoile", …]).
	Certifications map[string][]string `json:"certifications"`

	// The price of a stay, in a Search with StartAt and EndAt:
	// PriceToPayNow is what booking now would charge, and Taxes and
	// PriceDetails break FinalPrice down.
	PriceToPayNow                  Decimal             `json:"price_to_pay_now"`
	PriceToPayNowWithDamageDeposit Decimal             `json:"price_to_pay_now_with_damage_deposit"`
	Taxes                          []RentalTax         `json:"taxes,omitempty"`
	PriceDetails                   *RentalPriceDetails `json:"price_details,omitempty"`

	OwnerFullname string `json:"owner_fullname"`
	OwnerEmail    string `json:"owner_email"`
	OwnerNotes    string `json:"owner_notes"`

	CreatedAt       time.Time  `json:"created_at"`
	UpdatedAt       time.Time  `json:"updated_at"`
	PublishedAt     *time.Time `json:"published_at"`
	PermitIssueDate *time.Time `json:"permit_issue_date"`

	// Availability and ChangeOver are sideloaded with Include
	// "availability" and "change_over" (nil otherwise); their ids are in
	// Links either way.
	Availability *RentalCalendar `json:"availability,omitempty"`
	ChangeOver   *RentalCalendar `json:"change_over,omitempty"`

	Links RentalLinks `json:"links"`
}

// RentalCalendar is a rental's availability or change-over map, one
// character a day for 1096 days from StartDate (the first of the month it
// was last computed in). In an availability, '0' is a free night and '1'
// a booked one; in a change-over, 'C' allows check-in and check-out, 'O'
// check-out only, 'I' check-in only and 'X' neither.
type RentalCalendar struct {
	ID  int64  `json:"id"`
	Map string `json:"map"`
	// StartDate is the day of Map's first character, "2026-12-01".
	StartDate string     `json:"start_date"`
	CreatedAt *time.Time `json:"created_at,omitempty"`
	UpdatedAt time.Time  `json:"updated_at"`

	Links RentalCalendarLinks `json:"links"`
}

// RentalCalendarLinks are a calendar's associations.
type RentalCalendarLinks struct {
	Rental int64 `json:"rental"`
}

// On returns the map's character for the day day falls on (its date as
// written, whatever its zone), and false when the day is outside the map
// or StartDate does not read.
func (c *RentalCalendar) On(day time.Time) (byte, bool) {
	if c == nil {
		return 0, false
	}
	start, err := time.Parse("2006-01-02", c.StartDate)
	if err != nil {
		return 0, false
	}
	y, m, d := day.Date()
	i := int(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Sub(start).Hours() / 24)
	if i < 0 || i >= len(c.Map) {
		return 0, false
	}
	return c.Map[i], true
}

// RentalTax is a tax on a searched stay's price, summed over what it
// taxes.
type RentalTax struct {
	Name       Localized `json:"name"`
	Percentage Decimal   `json:"percentage"`
	Amount     Decimal   `json:"amount"`
}

// RentalPriceDetails break a searched stay's price down into taxes and
// fees.
type RentalPriceDetails struct {
	Taxes []RentalTaxDetail `json:"taxes"`
	Fees  []RentalFeeDetail `json:"fees"`
}

// RentalTaxDetail is one tax on one taxed item (the rental or a fee).
type RentalTaxDetail struct {
	RentalTax
	// TaxableType is "Rental" or "Fee"; TaxableID its id.
	TaxableType string `json:"taxable_type"`
	TaxableID   int64  `json:"taxable_id"`
	TaxID       int64  `json:"tax_id"`
	// Included reports whether the taxed price includes the tax already.
	Included bool `json:"included"`
}

// RentalFeeDetail is a fee a booking of the searched stay would carry.
type RentalFeeDetail struct {
	ID           int64     `json:"id"`
	RentalsFeeID int64     `json:"rentals_fee_id"`
	Name         Localized `json:"name"`
	Required     bool      `json:"required"`
	Price        Decimal   `json:"price"`
	Quantity     Decimal   `json:"quantity"`
}

// RentalLinks are a rental's associations, by id; nullable ids are
// pointers.
type RentalLinks struct {
	Account                 int64   `json:"account"`
	Availability            *int64  `json:"availability"`
	ChangeOver              *int64  `json:"change_over"`
	Destination             *int64  `json:"destination"`
	PaymentGateway          *int64  `json:"payment_gateway"`
	RatesTable              *int64  `json:"rates_table"`
	RentalAgreement         *int64  `json:"rental_agreement"`
	RentalCancelationPolicy *int64  `json:"rental_cancelation_policy"`
	NightlyRateMap          *int64  `json:"nightly_rate_map"`
	MidTermRateMap          *int64  `json:"mid_term_rate_map"`
	Photos                  []int64 `json:"photos"`
	Reviews                 []int64 `json:"reviews"`
	HostReviews             []int64 `json:"host_reviews"`
	SpecialOffers           []int64 `json:"special_offers"`
	Rates                   []int64 `json:"rates"`
	RentalsAmenities        []int64 `json:"rentals_amenities"`
	RentalsFees             []int64 `json:"rentals_fees"`
	Bathrooms               []int64 `json:"bathrooms"`
	Bedrooms                []int64 `json:"bedrooms"`
	LivingRooms             []int64 `json:"living_rooms"`
	RentalsTags             []int64 `json:"rentals_tags"`
	RentalContacts          []int64 `json:"rental_contacts"`
	Videos                  []int64 `json:"videos"`
}

func (s *RentalsService) res() resource[Rental] {
	return newResource[Rental](s.client, "rentals", "rentals").needs(ScopeRentalsRead)
}

// List returns one page of rentals. Without rentals_read only published
// rentals are listed.
//
// GET /rentals
func (s *RentalsService) List(ctx context.Context, opts *ListOptions) ([]*Rental, *Response, error) {
	return s.res().list(ctx, opts)
}

// All iterates over every rental, page after page, fetching lazily.
//
// GET /rentals?page={n}
func (s *RentalsService) All(ctx context.Context, opts *ListOptions) iter.Seq2[*Rental, error] {
	return allPages(ctx, s.client, opts, s.List)
}

// Get returns one rental.
//
// GET /rentals/{id}
func (s *RentalsService) Get(ctx context.Context, id int64) (*Rental, *Response, error) {
	return s.res().get(ctx, id, nil)
}

// GetWith is Get with field limiting (opts.Fields).
//
// GET /rentals/{id}?fields=…
func (s *RentalsService) GetWith(ctx context.Context, id int64, opts *GetOptions) (*Rental, *Response, error) {
	return s.res().get(ctx, id, opts)
}

// GetMany returns the rentals with the given ids, a hundred ids a request,
// each answer read to its last page (the API pages it like a listing,
// rentals 50 a page); unknown ids are absent from the result.
//
// GET /rentals/{id},{id},…
func (s *RentalsService) GetMany(ctx context.Context, ids []int64) ([]*Rental, *Response, error) {
	return s.res().getMany(ctx, ids, nil)
}

// GetManyWith is GetMany with field limiting (opts.Fields), sent with
// every request.
//
// GET /rentals/{id},{id},…?fields=…
func (s *RentalsService) GetManyWith(ctx context.Context, ids []int64, opts *GetOptions) ([]*Rental, *Response, error) {
	return s.res().getMany(ctx, ids, opts)
}
