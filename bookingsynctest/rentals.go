package bookingsynctest

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

type rental struct {
	base
	name, headline, summary, address1, city, zip string
	country, currency, rentalType                string
	checkin, checkout, sleeps, bedrooms          int
	published                                    int64
}

func init() {
	register(&kind{plural: "rentals", singular: "rental", path: "rentals",
		// Published rentals are public: without rentals_read a token sees
		// them, without the private attributes (the reference's tabs).
		// A client-credentials token reads every account's published rentals.
		read: []string{"rentals_read", "rentals_write"}, reduced: true, acrossAccounts: true,
		links: tmpl("rentals", "account", "accounts/{rentals.account}", "availability", "availabilities/{rentals.availability}",
			"change_over", "change_overs/{rentals.change_over}", "destination", "destinations/{rentals.destination}",
			"payment_gateway", "payment_gateways/{rentals.payment_gateway}", "rates_table", "rates_tables/{rentals.rates_table}",
			"rental_agreement", "rental_agreements/{rentals.rental_agreement}",
			"rental_cancelation_policy", "rental_cancelation_policies/{rentals.rental_cancelation_policy}",
			"nightly_rate_map", "nightly_rate_maps/{rentals.nightly_rate_map}", "photos", "photos/{rentals.photos}",
			"reviews", "reviews/{rentals.reviews}", "special_offers", "special_offers/{rentals.special_offers}",
			"rates", "rates/{rentals.rates}", "rentals_amenities", "rentals_amenities/{rentals.rentals_amenities}",
			"rentals_fees", "rentals_fees/{rentals.rentals_fees}", "bathrooms", "bathrooms/{rentals.bathrooms}",
			"bedrooms", "bedrooms/{rentals.bedrooms}", "living_rooms", "living_rooms/{rentals.living_rooms}",
			"rentals_tags", "rentals_tags/{rentals.rentals_tags}"),
		table: func(d *db) store { return d.rents },
		visibleTo: func(c *apiReq, r record) bool {
			return !c.limited || r.(*rental).published != 0
		},
		remove: removeRow(func(d *db) *table[*rental] { return d.rents }),
		events: events{created: "rental_created", updated: "rental_updated", destroyed: "rental_destroyed"},
		// The reference documents GET; the recordings show POST too.
		routes: []subRoute{{method: "GET", sub: "/search", fn: searchRentals, read: true},
			{method: "POST", sub: "/search", fn: searchRentals, read: true}}})
}

func locales(v string) obj { return obj{{"en", nullStr(v)}} }

// render writes what the recordings of a rental show (their 59 attributes
// and 19 links) and the reference's example adds (management type,
// residency, certifications…); without rentals_read the private ones
// (address, zip, notes, owner, check-in details) are left out, as the
// reference's public tab shows. The associations the fake does not model
// link to nothing: null or []. include=availability,change_over sideloads
// the two calendars as objects, as recorded; a search answers its own
// shape (see searchRentals).
func (r *rental) render(d *db, rc *rctx) obj {
	if rc.stay != nil {
		return r.renderSearch(d, rc.stay)
	}
	pub := obj{
		{"links", obj{
			{"account", rc.account}, {"availability", r.id}, {"change_over", r.id}, {"destination", nil},
			{"payment_gateway", nil}, {"rates_table", nil}, {"rental_agreement", nil}, {"rental_cancelation_policy", nil},
			{"nightly_rate_map", r.id}, {"photos", []int64{}}, {"reviews", ids(reviewsOf(d, r.id))}, {"special_offers", []int64{}},
			{"rates", []int64{}}, {"rentals_amenities", []int64{}}, {"rentals_fees", []int64{}}, {"bathrooms", []int64{}},
			{"bedrooms", []int64{}}, {"living_rooms", []int64{}}, {"rentals_tags", []int64{}},
		}},
		{"id", r.id}, {"name", r.name}, {"headline", locales(r.headline)}, {"summary", locales(r.summary)},
		{"description", locales(r.summary)}, {"rental_type", r.rentalType}, {"downpayment", 30},
		{"bedrooms_count", r.bedrooms}, {"sleeps", r.sleeps}, {"sleeps_max", r.sleeps}, {"bathrooms_count", 1},
		{"surface", 60}, {"surface_unit", "metric"}, {"bookable_online", false}, {"bookable_on_request", false},
		{"min_price", "100.0"}, {"max_price", "300.0"}, {"price_kind", "weekly"},
		{"currency", r.currency}, {"price_public_notes", locales("")}, {"lat", 45.02}, {"lng", 6.6},
		{"city", r.city}, {"state", nil}, {"country_code", r.country}, {"contact_name", "Jan Kowalski"},
		{"reviews_count", len(reviewsOf(d, r.id))}, {"reviews_average_rating", nil},
		{"published_at", tm(r.published)}, {"created_at", tm(r.created)}, {"updated_at", tm(r.updated)},
	}
	private := obj{{"address1", r.address1}, {"address2", nil}, {"zip", r.zip}}
	rest := obj{
		{"checkin_time", r.checkin}, {"checkout_time", r.checkout},
		{"initial_price", nil}, {"final_price", nil}, {"position", 1},
		{"base_rate", "300.0"}, {"base_rate_kind", "weekly"}, {"absolute_min_price", "100.0"},
	}
	private2 := obj{{"notes", ""}}
	rest2 := obj{{"stories_count", 1}, {"floor", nil}, {"damage_deposit", "0.0"}}
	private3 := obj{{"owner_fullname", ""}, {"owner_email", ""}, {"owner_notes", ""},
		{"checkin_details", locales("")}, {"checkout_details", locales("")}}
	rest3 := obj{
		{"balance_due", 30}, {"website_url", locales("")}, {"charge_damage_deposit_on_arrival", true},
		{"full_bathrooms_count", 1}, {"standalone_toilets_count", 0}, {"vr_bathrooms_count", 1},
		{"nightly_rates_managed_externally", false}, {"rounding_kind", "no-rounding"},
		// The reference's example beyond the recordings.
		{"management_type", "professional"}, {"residency_category", "secondary_residence"},
		{"mid_term_pricing_active", false}, {"permit_number", nil}, {"certifications", obj{}},
	}
	o := pub
	for i, part := range []obj{private, rest, private2, rest2, private3, rest3} {
		if i%2 == 1 || !rc.limited {
			o = append(o, part...)
		}
	}
	if rc.inc["availability"] {
		o = append(o, field{"availability", r.calendar(d, rc, availabilityDay)})
	}
	if rc.inc["change_over"] {
		o = append(o, field{"change_over", r.calendar(d, rc, changeOverDay)})
	}
	return o
}

// calendarDays is the length of the availability and change-over maps.
const calendarDays = 1096

// calendar renders the rental's availability or change-over record, as
// sideloaded: {links: {rental}, id, map, start_date, updated_at}. The map
// covers 1096 days from the first of the current month, as the reference
// says; each day is day(booked the night before, booked that night).
// The records share the rental's id (a guess).
func (r *rental) calendar(d *db, rc *rctx, day func(before, night bool) byte) obj {
	now := time.Unix(0, rc.now).UTC()
	start := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	nights := make([]bool, calendarDays+1) // nights[i]: the night starting on day i-1 is booked
	for _, id := range d.books.ids {
		b := d.books.rows[id]
		if b.rental != r.id || b.canceled != 0 {
			continue
		}
		from := int(time.Unix(b.start, 0).UTC().Sub(start).Hours() / 24)
		to := int(time.Unix(b.end, 0).UTC().Sub(start).Hours() / 24)
		for i := max(from, 0); i < min(to, calendarDays); i++ {
			nights[i+1] = true
		}
	}
	m := make([]byte, calendarDays)
	for i := range m {
		m[i] = day(nights[i], nights[i+1])
	}
	return obj{{"links", obj{{"rental", r.id}}}, {"id", r.id}, {"map", string(m)},
		{"start_date", start.Format("2006-01-02")}, {"updated_at", tm(r.updated)}}
}

// availabilityDay is '1' for a booked night, '0' for a free one.
func availabilityDay(_, night bool) byte {
	if night {
		return '1'
	}
	return '0'
}

// changeOverDay is 'C' (check-in and check-out) on a free day, 'O'
// (check-out only) on the last day of a stay followed by another, 'I'
// (check-in only) on the first day of a stay after a free night, and 'X'
// inside a stay.
func changeOverDay(before, night bool) byte {
	switch {
	case before && night:
		return 'X'
	case before:
		return 'O'
	case night:
		return 'I'
	}
	return 'C'
}

// stay is a search's dates, when it names them.
type stay struct {
	from, to int64 // unix seconds; 0 when no dates are given
}

// renderSearch is a search result as the reference and recordings show
// it: the stay's price, not the rental's description. The price is a
// guess: the weekly base rate (300.0) spread over the nights, no taxes or
// fees; without dates it is null.
func (r *rental) renderSearch(_ *db, st *stay) obj {
	var initial, final any
	if st.from != 0 {
		nights := (st.to - st.from + 43200) / 86400
		price := strconv.FormatFloat(float64(nights)*300.0/7, 'f', 2, 64)
		initial, final = price, price
	}
	return obj{
		{"links", obj{{"rentals_fees", []int64{}}}},
		{"id", r.id}, {"currency", r.currency}, {"damage_deposit", "0.0"}, {"updated_at", tm(r.updated)},
		{"initial_price", initial}, {"final_price", final}, {"price_to_pay_now", final},
		{"taxes", []obj{}}, {"price_details", obj{{"taxes", []obj{}}, {"fees", []obj{}}}},
	}
}

// searchRentals answers GET (and, as recorded, POST) /rentals/search: the
// rentals a token sees, filtered by rental_id, city, country_code,
// bedrooms_count (a minimum), guests or adults+children (at most
// sleeps_max) and, with start_at and end_at, free of bookings over the
// stay; paged as any listing. A POST's JSON body object adds its
// parameters to the query's. Other documented filters are accepted and
// ignored (a guess: the fake is never stricter than the API).
func searchRentals(c *apiReq, k *kind) {
	q := c.query()
	var body map[string]any
	if c.r.Method == http.MethodPost && json.Unmarshal(c.body, &body) == nil {
		for key := range body {
			if v, ok := params(body).str(key); ok && !q.Has(key) {
				q.Set(key, v)
			}
		}
	}
	e := verrs{}
	st := &stay{}
	from, hasFrom := parseSearchTime(q, "start_at", e)
	to, hasTo := parseSearchTime(q, "end_at", e)
	if hasFrom != hasTo || (hasFrom && !to.After(from)) {
		e.add("end_at", invalid)
	}
	if hasFrom {
		st.from, st.to = from.Unix(), to.Unix()
	}
	atoi := func(key string) int {
		n, err := strconv.Atoi(q.Get(key))
		if q.Get(key) != "" && (err != nil || n < 0) {
			e.add(key, invalid)
		}
		return n
	}
	guests := max(atoi("guests"), atoi("adults")+atoi("children"))
	bedrooms := atoi("bedrooms_count")
	rentalIDs, _ := idFilter(q, "rental_id", e)
	if len(e) > 0 {
		writeErrors(c.w, e)
		return
	}
	busy := map[int64]bool{} // rentals booked over the stay
	if st.from != 0 {
		for _, h := range c.s.homes(k, c) {
			h.mu.Lock()
			for _, id := range h.d.books.ids {
				if b := h.d.books.rows[id]; b.canceled == 0 && b.start < st.to && b.end > st.from {
					busy[b.rental] = true
				}
			}
			h.mu.Unlock()
		}
	}
	city, country := strings.ToLower(q.Get("city")), strings.ToUpper(q.Get("country_code"))
	sk := *k
	sk.links = tmpl("rentals", "rentals_fees", "rentals_fees/{rentals.rentals_fees}")
	sk.filter = func(*apiReq, url.Values) (func(record) bool, verrs) {
		return func(rec record) bool {
			r := rec.(*rental)
			return (rentalIDs == nil || slices.Contains(rentalIDs, r.id)) &&
				(city == "" || strings.ToLower(r.city) == city) &&
				(country == "" || r.country == country) &&
				r.bedrooms >= bedrooms && r.sleeps >= guests && !busy[r.id]
		}, nil
	}
	c.stay = st
	c.s.list(c, &sk)
}

func parseSearchTime(q url.Values, key string, e verrs) (time.Time, bool) {
	v := q.Get(key)
	if v == "" {
		return time.Time{}, false
	}
	if t, err := time.Parse("20060102", v); err == nil { // the reference's example
		return t, true
	}
	t, ok := parseTimeParam(v)
	if !ok {
		e.add(key, invalid)
	}
	return t, ok
}

// RentalSeed describes a rental for AddRental.
type RentalSeed struct {
	Name, Headline, Address, City, Zip, CountryCode string
	// Unpublished rentals are seen only with rentals_read.
	Unpublished bool
}

// AddRental adds a rental (published unless r.Unpublished) and returns its
// id; a rental_created webhook is delivered.
func (a *Account) AddRental(r RentalSeed) (id int64) {
	var hook []byte
	a.change(func(o op) {
		rt := newRental(0, o.now, r)
		id = o.d.rents.add(rt)
		hook = a.notify("rentals", "rental_created", rt)
	})
	a.deliver("rental_created", hook)
	return id
}

func newRental(id, at int64, r RentalSeed) *rental {
	rt := &rental{base: base{id: id, created: at, updated: at}, name: r.Name, headline: r.Headline,
		summary: r.Headline, address1: r.Address, city: r.City, zip: r.Zip, country: r.CountryCode,
		currency: "EUR", rentalType: "apartment", checkin: 16, checkout: 10, sleeps: 4, bedrooms: 2}
	if !r.Unpublished {
		rt.published = at
	}
	return rt
}
