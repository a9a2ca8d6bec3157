package bookingsync

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"time"
)

// RentalSearchOptions are the filters of Rentals.Search, the rentals
// page's search parameters. Zero fields are not sent.
type RentalSearchOptions struct {
	ListOptions
	// StartAt and EndAt keep the rentals available over the stay; with
	// them the results carry its price (Rental.FinalPrice, PriceDetails).
	// They are sent in UTC.
	StartAt time.Time `url:"-"`
	EndAt   time.Time `url:"-"`
	// Adults and Children count in the price; Guests drops the rentals
	// that sleep fewer.
	Adults   int `url:"adults,omitempty"`
	Children int `url:"children,omitempty"`
	Guests   int `url:"guests,omitempty"`
	// BedroomsCount and FullBathroomsCount are minimums.
	BedroomsCount      int `url:"bedrooms_count,omitempty"`
	FullBathroomsCount int `url:"full_bathrooms_count,omitempty"`
	// MinPrice and MaxPrice bound the price (the stay's when computed).
	MinPrice int `url:"min_price,omitempty"`
	MaxPrice int `url:"max_price,omitempty"`

	City         string   `url:"city,omitempty"`
	CountryCode  string   `url:"country_code,omitempty"`
	Destinations []string `url:"destination,comma,omitempty"`
	// SouthWest and NorthEast, together, keep the rentals inside the box.
	SouthWest *LatLng `url:"-"`
	NorthEast *LatLng `url:"-"`

	RentalIDs   []int64  `url:"rental_id,comma,omitempty"`
	RentalTypes []string `url:"rental_type,comma,omitempty"`
	RentalsTags []string `url:"rentals_tags,comma,omitempty"`
	// Amenities and RejectAmenities name amenities to have and not to
	// have; IncludedAmenities and ExcludedAmenities do the same by id.
	Amenities         []string `url:"amenities,comma,omitempty"`
	RejectAmenities   []string `url:"reject_amenities,comma,omitempty"`
	IncludedAmenities []int64  `url:"included_amenities,brackets,omitempty"`
	ExcludedAmenities []int64  `url:"excluded_amenities,brackets,omitempty"`

	// BookableOnline and InstantlyBookable filter when set.
	BookableOnline      *bool `url:"bookable_online,omitempty"`
	InstantlyBookable   *bool `url:"instantly_bookable,omitempty"`
	IncludeNotAvailable bool  `url:"include_not_available,omitempty"`
	// IncludeTentative treats tentative periods as available.
	IncludeTentative bool `url:"include_tentative,omitempty"`
	PublishedOnly    bool `url:"published_only,omitempty"`
	SpecialOffers    bool `url:"special_offers,omitempty"`

	// Sort is "price", "sleeps", "sleeps_max" or "bedrooms_count";
	// Direction "asc" or "desc".
	Sort      string `url:"sort,omitempty"`
	Direction string `url:"direction,omitempty"`
	// ExchangeToCurrency converts the amounts ("EUR", "USD", …).
	ExchangeToCurrency string `url:"exchange_to_currency,omitempty"`
}

// LatLng is a point on the map, in degrees.
type LatLng struct{ Lat, Lng float64 }

// String writes p as the API's "lat,lng".
func (p LatLng) String() string {
	return strconv.FormatFloat(p.Lat, 'f', -1, 64) + "," + strconv.FormatFloat(p.Lng, 'f', -1, 64)
}

// encodeExtra writes the stay in UTC and the box as "lat,lng", and rejects
// what the API would misread.
func (o *RentalSearchOptions) encodeExtra(v url.Values) error {
	var pr []string
	for _, c := range []struct {
		name string
		n    int
	}{{"adults", o.Adults}, {"children", o.Children}, {"guests", o.Guests}, {"bedrooms count", o.BedroomsCount},
		{"full bathrooms count", o.FullBathroomsCount}, {"min price", o.MinPrice}, {"max price", o.MaxPrice}} {
		if c.n < 0 {
			pr = append(pr, fmt.Sprintf("%s %d is negative", c.name, c.n))
		}
	}
	if !o.StartAt.IsZero() && !o.EndAt.IsZero() && !o.EndAt.After(o.StartAt) {
		pr = append(pr, "EndAt is not after StartAt")
	}
	if (o.SouthWest == nil) != (o.NorthEast == nil) {
		pr = append(pr, "SouthWest and NorthEast go together")
	}
	if o.Direction != "" && o.Direction != "asc" && o.Direction != "desc" {
		pr = append(pr, fmt.Sprintf("direction %q is neither asc nor desc", truncate(o.Direction, 20)))
	}
	pr = append(pr, checkIDs("rental", o.RentalIDs)...)
	pr = append(pr, checkIDs("amenity", slices.Concat(o.IncludedAmenities, o.ExcludedAmenities))...)
	if err := invalid("rentals search", pr...); err != nil {
		return err
	}
	if !o.StartAt.IsZero() {
		v.Set("start_at", formatTime(o.StartAt))
	}
	if !o.EndAt.IsZero() {
		v.Set("end_at", formatTime(o.EndAt))
	}
	if o.SouthWest != nil {
		v.Set("bb_sw", o.SouthWest.String())
		v.Set("bb_ne", o.NorthEast.String())
	}
	return nil
}

// Search returns one page of the rentals that match opts; with a stay
// (StartAt, EndAt) each carries its price for it. Published rentals are
// searchable with the public scope.
//
// GET /rentals/search
func (s *RentalsService) Search(ctx context.Context, opts *RentalSearchOptions) ([]*Rental, *Response, error) {
	// The search needs only the public scope: a 403 names none.
	return newResource[Rental](s.client, "rentals/search", "rentals").list(ctx, opts)
}
