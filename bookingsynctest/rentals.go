package bookingsynctest

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
		links: tmpl("rentals", "account", "accounts/{rentals.account}"),
		table: func(d *db) store { return d.rents },
		visibleTo: func(c *apiReq, r record) bool {
			return !c.limited || r.(*rental).published != 0
		},
		remove: removeRow(func(d *db) *table[*rental] { return d.rents })})
}

func locales(v string) obj { return obj{{"en", nullStr(v)}} }

// render follows the reference's example, with fewer links; with the
// public scope only the private attributes are left out.
func (r *rental) render(_ *db, rc *rctx) obj {
	o := obj{
		{"links", obj{{"account", rc.account}}},
		{"id", r.id}, {"name", r.name}, {"headline", locales(r.headline)}, {"summary", locales(r.summary)},
		{"description", locales(r.summary)}, {"rental_type", r.rentalType}, {"downpayment", 30},
		{"bedrooms_count", r.bedrooms}, {"sleeps", r.sleeps}, {"sleeps_max", r.sleeps}, {"bathrooms_count", 1},
		{"surface", 60}, {"surface_unit", "metric"}, {"bookable_online", false},
		{"min_price", "100.0"}, {"max_price", "300.0"}, {"base_rate", "300.0"}, {"base_rate_kind", "weekly"},
		{"currency", r.currency}, {"price_public_notes", locales("")}, {"lat", 45.02}, {"lng", 6.6},
		{"city", r.city}, {"state", nil}, {"country_code", r.country}, {"contact_name", "Jan Kowalski"},
		{"reviews_count", 0}, {"reviews_average_rating", nil},
		{"published_at", tm(r.published)}, {"created_at", tm(r.created)}, {"updated_at", tm(r.updated)},
		{"checkin_time", r.checkin}, {"checkout_time", r.checkout},
		{"initial_price", nil}, {"final_price", nil}, {"position", 1},
		{"absolute_min_price", "100.0"}, {"stories_count", 1}, {"floor", nil},
	}
	if !rc.limited {
		o = append(o, field{"address1", r.address1}, field{"address2", nil}, field{"zip", r.zip},
			field{"notes", ""}, field{"checkin_details", locales("")}, field{"checkout_details", locales("")})
	}
	return o
}

// RentalSeed describes a rental for AddRental.
type RentalSeed struct {
	Name, Headline, Address, City, Zip, CountryCode string
	// Unpublished rentals are seen only with rentals_read.
	Unpublished bool
}

// AddRental adds a rental (published unless r.Unpublished) and returns its id.
func (a *Account) AddRental(r RentalSeed) (id int64) {
	a.change(func(o op) {
		id = o.d.rents.add(newRental(0, o.now, r))
	})
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
