package bookingsync

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// readService is the read shape every resource service has.
type readService[T any] struct {
	list        func(context.Context, *ListOptions) ([]*T, *Response, error)
	get         func(context.Context, int64) (*T, *Response, error)
	getWith     func(context.Context, int64, *GetOptions) (*T, *Response, error)
	getMany     func(context.Context, []int64) ([]*T, *Response, error)
	getManyWith func(context.Context, []int64, *GetOptions) ([]*T, *Response, error)
}

// checkReads serves fixture (a reference response) on path, and checks
// that List sends fields and updated_since, Get and GetMany their paths,
// that check accepts the decoded record, and that the record survives a
// JSON round trip.
func checkReads[T any](t *testing.T, c *Client, s *testServer, path, fixture string, svc readService[T], check func(t *testing.T, v *T)) {
	t.Helper()
	s.mux.HandleFunc("GET /"+path, serveFixture(t, 200, fixture))
	s.mux.HandleFunc("GET /"+path+"/{ids}", serveFixture(t, 200, fixture))

	since := time.Date(2024, 3, 1, 12, 0, 0, 0, time.FixedZone("CET", 3600))
	list, _, err := svc.list(inboxCtx, &ListOptions{PerPage: 50, Fields: []string{"id", "name"}, UpdatedSince: since})
	require.NoError(t, err)
	require.Len(t, list, 1)
	check(t, list[0])
	q := s.last("GET", path).RawQuery
	assert.Contains(t, q, "fields=id,name")
	assert.Contains(t, q, "updated_since=2024-03-01T11%3A00%3A00Z")
	assert.Contains(t, q, "per_page=50")

	one, _, err := svc.get(inboxCtx, 7)
	require.NoError(t, err)
	check(t, one)
	assert.Equal(t, apiPath+path+"/7", s.last("GET", path+"/").Path)

	many, _, err := svc.getMany(inboxCtx, []int64{7, 3})
	require.NoError(t, err)
	require.Len(t, many, 1)
	assert.Equal(t, apiPath+path+"/7,3", s.last("GET", path+"/").Path)

	_, _, err = svc.getWith(inboxCtx, 7, &GetOptions{Fields: []string{"id", "name"}})
	require.NoError(t, err)
	assert.Equal(t, "fields=id,name", s.last("GET", path+"/").RawQuery)
	_, _, err = svc.getManyWith(inboxCtx, []int64{7, 3}, &GetOptions{Fields: []string{"name"}})
	require.NoError(t, err)
	r := s.last("GET", path+"/")
	assert.Equal(t, apiPath+path+"/7,3", r.Path)
	assert.Equal(t, "fields=name", r.RawQuery)

	b, err := json.Marshal(list[0])
	require.NoError(t, err)
	var again T
	require.NoError(t, json.Unmarshal(b, &again))
	assert.Equal(t, list[0], &again, "%s survives a JSON round trip", path)
}

func TestGuestsReadTheReferenceFixture(t *testing.T) {
	t.Parallel()
	c, _, s := setup(t)
	checkReads(t, c, s, "clients", "clients/clients_read-clients_write-scope-response.json",
		readService[Guest]{c.Clients.List, c.Clients.Get, c.Clients.GetWith, c.Clients.GetMany, c.Clients.GetManyWith},
		func(t *testing.T, g *Guest) {
			assert.Equal(t, int64(1), g.ID)
			assert.Equal(t, "Clementina Kling", g.Name())
			assert.Equal(t, "AHJ4678956", g.Passport)
			assert.Equal(t, "ES65465465", g.VATNumber)
			assert.Equal(t, "en", g.PreferredLocale)
			assert.Equal(t, int64(1), g.Links.Account)
			require.Len(t, g.Emails, 1)
			assert.Equal(t, "clementina_kling@example.com", g.Emails[0].Email)
			assert.Equal(t, int64(1), g.Emails[0].GuestID)
			assert.True(t, g.Emails[0].Primary)
			require.Len(t, g.Phones, 3)
			assert.Equal(t, "mobile", g.Phones[1].Label)
			assert.Equal(t, "(153)070-6106", g.Phones[1].Number)
			require.Len(t, g.Addresses, 1)
			assert.Equal(t, "North Jacey", g.Addresses[0].City)
			assert.Equal(t, "US", g.Addresses[0].CountryCode)
			assert.Nil(t, g.ForgetMeAt)
		})
}

func TestGuestName(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "Ann Lee", (&Guest{Firstname: "Ann", Lastname: "Lee"}).Name())
	assert.Equal(t, "Lee", (&Guest{Lastname: "Lee"}).Name())
	assert.Equal(t, "Ann", (&Guest{Firstname: "Ann"}).Name())
	assert.Equal(t, "Ann B. Lee", (&Guest{Fullname: "Ann B. Lee", Firstname: "Ann"}).Name())
	assert.Equal(t, "", (*Guest)(nil).Name())
}

func TestRentalsReadTheReferenceFixture(t *testing.T) {
	t.Parallel()
	c, _, s := setup(t)
	checkReads(t, c, s, "rentals", "rentals/public-scope-response.json",
		readService[Rental]{c.Rentals.List, c.Rentals.Get, c.Rentals.GetWith, c.Rentals.GetMany, c.Rentals.GetManyWith},
		func(t *testing.T, r *Rental) {
			assert.Equal(t, "Cottage 1", r.Name)
			assert.Equal(t, "Villa in Nevache, France", r.Headline.In("fr"))
			assert.Equal(t, "villa", r.RentalType)
			assert.Equal(t, 4, r.BedroomsCount)
			assert.Equal(t, "600.0", r.BaseRate.String())
			assert.False(t, r.InitialPrice.Valid())
			assert.Equal(t, 45.02, *r.Lat)
			assert.Equal(t, 16, *r.CheckinTime)
			assert.Equal(t, 10, *r.CheckoutTime)
			assert.Equal(t, "4.0", r.ReviewsAverageRating.String())
			assert.Equal(t, []string{"1_etoile", "2_etoiles", "3_etoiles", "4_etoiles"}, r.Certifications["meubles_de_tourisme"])
			assert.Equal(t, []int64{8, 9, 10, 11}, r.Links.Bedrooms)
			assert.Equal(t, int64(134), *r.Links.Destination)
			assert.Equal(t, "", r.PricePublicNotes["en"], "a null translation")
			require.NotNil(t, r.PublishedAt)
		})
}

func TestLocalizedIn(t *testing.T) {
	t.Parallel()
	l := Localized{"fr": "Villa", "en": "House", "de": ""}
	assert.Equal(t, "Villa", l.In("fr"))
	assert.Equal(t, "House", l.In("de"))
	assert.Equal(t, "Casa", Localized{"it": "Casa", "es": ""}.In("fr"))
	assert.Equal(t, "Haus", Localized{"fr": "", "de": "Haus", "nl": "Huis"}.In("pt"), "the smallest locale with a text")
	assert.Equal(t, "", Localized(nil).In("en"))
}

func TestAccountsReadTheReferenceFixture(t *testing.T) {
	t.Parallel()
	c, _, s := setup(t)
	checkReads(t, c, s, "accounts", "accounts/public-scope-response.json",
		readService[Account]{c.Accounts.List, c.Accounts.Get, c.Accounts.GetWith, c.Accounts.GetMany, c.Accounts.GetManyWith},
		func(t *testing.T, a *Account) {
			assert.Equal(t, int64(7), a.ID)
			assert.Equal(t, "Business Name", a.BusinessName)
			assert.Equal(t, "trial", a.Status)
			assert.Equal(t, []string{"en", "fr"}, a.SelectedLocales)
			assert.Equal(t, "1234567890", a.Phones.Mobile)
			assert.Equal(t, 16, *a.Preferences.Bookings.DefaultArrivalTime)
			assert.Equal(t, "en", a.Preferences.Bookings.DefaultCommunicationLocale)
			assert.Nil(t, a.Preferences.Bookings.DefaultArrivalEndTime)
		})
}

func TestSourcesReadTheReferenceFixture(t *testing.T) {
	t.Parallel()
	c, _, s := setup(t)
	checkReads(t, c, s, "sources", "sources/bookings_read-bookings_write-bookings_write_owned-scope-response.json",
		readService[Source]{c.Sources.List, c.Sources.Get, c.Sources.GetWith, c.Sources.GetMany, c.Sources.GetManyWith},
		func(t *testing.T, src *Source) {
			assert.Equal(t, "Airbnb", src.Name)
			assert.Equal(t, 1, src.Position)
			assert.False(t, src.Internal)
			assert.Equal(t, []int64{1, 3}, src.Links.Bookings)
		})
}

func TestInquiriesReadTheReferenceFixture(t *testing.T) {
	t.Parallel()
	c, _, s := setup(t)
	checkReads(t, c, s, "inquiries", "inquiries/inquiries_read-inquiries_write-inquiries_write_owned-scope-response.json",
		readService[Inquiry]{c.Inquiries.List, c.Inquiries.Get, c.Inquiries.GetWith, c.Inquiries.GetMany, c.Inquiries.GetManyWith},
		func(t *testing.T, q *Inquiry) {
			assert.Equal(t, "John", q.Firstname)
			assert.Equal(t, "7273647616", q.Phone, "a JSON number, kept as written")
			assert.Equal(t, 4, *q.Adults)
			assert.Equal(t, int64(2), *q.Links.Rental)
			assert.Nil(t, q.Links.Booking)
			assert.Equal(t, "", q.Locked)
			require.NotNil(t, q.StartAt)
		})
}

func TestInquiryPhoneForms(t *testing.T) {
	t.Parallel()
	for raw, want := range map[string]string{`"+33 6 12"`: "+33 6 12", `null`: "", `612345`: "612345"} {
		var q Inquiry
		require.NoError(t, json.Unmarshal([]byte(`{"id":1,"phone":`+raw+`}`), &q), raw)
		assert.Equal(t, want, q.Phone, raw)
	}
	var q Inquiry
	assert.Error(t, json.Unmarshal([]byte(`{"phone":true}`), &q))
}

func TestMeReadsTheAccountOfTheToken(t *testing.T) {
	t.Parallel()
	c, _, s := setup(t)
	s.mux.HandleFunc("GET /me", serveFixture(t, 200, "me/public-scope-response.json"))
	me, resp, err := c.Me(inboxCtx)
	require.NoError(t, err)
	assert.Equal(t, int64(1), me.AccountID)
	assert.Equal(t, "account", me.PartnershipInvoiceRecipient)
	assert.Equal(t, 1, resp.TotalCount)

	b, err := json.Marshal(me)
	require.NoError(t, err)
	var again Me
	require.NoError(t, json.Unmarshal(b, &again))
	assert.Equal(t, *me, again)

	require.NoError(t, json.Unmarshal([]byte(`{"account":"42"}`), &again))
	assert.Equal(t, int64(42), again.AccountID, "an account attribute")
}

// A 403 on a resource whose read scope is known names the scope, and still
// matches ErrForbidden and unwraps to the *ErrorResponse.
func TestForbiddenNamesTheMissingScope(t *testing.T) {
	t.Parallel()
	c, _, s := setup(t)
	forbidden := func(w http.ResponseWriter, r *http.Request) {
		answer(w, http.StatusForbidden, `{"error":"Forbidden"}`)
	}
	s.mux.HandleFunc("GET /", forbidden)
	s.mux.HandleFunc("POST /", forbidden)
	for scope, call := range map[string]func() error{
		ScopeClientsRead:   func() error { _, _, err := c.Clients.GetMany(inboxCtx, []int64{1, 2}); return err },
		ScopeRentalsRead:   func() error { _, _, err := c.Rentals.List(inboxCtx, nil); return err },
		ScopeInquiriesRead: func() error { _, _, err := c.Inquiries.Get(inboxCtx, 1); return err },
		ScopeBookingsRead:  func() error { _, _, err := c.Sources.List(inboxCtx, nil); return err },
	} {
		err := call()
		require.Error(t, err, scope)
		assert.ErrorIs(t, err, ErrForbidden, scope)
		var se *ScopeError
		require.ErrorAs(t, err, &se, scope)
		assert.Equal(t, scope, se.Scope)
		assert.Contains(t, err.Error(), "lacks the "+scope+" scope")
		assert.Contains(t, err.Error(), "403 Forbidden")
		var er *ErrorResponse
		require.ErrorAs(t, err, &er, scope)
		assert.Equal(t, http.StatusForbidden, er.StatusCode)
		assert.NotContains(t, err.Error(), testToken)
	}

	// Accounts and /me need only the public scope: a 403 there is not
	// about scopes.
	_, _, err := c.Accounts.List(inboxCtx, nil)
	assert.ErrorIs(t, err, ErrForbidden)
	var se *ScopeError
	assert.False(t, errors.As(err, &se), "accounts: %v", err)

	// A refused write is not blamed on a read scope.
	_, _, err = c.Hosts.Create(inboxCtx, &NewHost{Firstname: "A", Lastname: "B"})
	assert.ErrorIs(t, err, ErrForbidden)
	assert.False(t, errors.As(err, &se), "write: %v", err)
	assert.False(t, strings.Contains(err.Error(), "scope"), err.Error())
}

func TestScopeErrorWithoutAResponse(t *testing.T) {
	t.Parallel()
	err := error(&ScopeError{Scope: ScopeBookingsRead})
	assert.ErrorIs(t, err, ErrForbidden)
	assert.Equal(t, "bookingsync: the token lacks the bookings_read scope: authorize the application with it (oauth2.Config.Scopes)", err.Error())
}

func TestRentalsSearchSendsTheFiltersAndReadsThePrice(t *testing.T) {
	t.Parallel()
	c, mux, s := setup(t)
	mux.HandleFunc("GET /rentals/search", func(w http.ResponseWriter, r *http.Request) {
		answer(w, 200, inboxEnvelope("rentals", `{"links":{"rentals_fees":[12]},"id":1,"currency":"EUR","damage_deposit":35.5,
			"updated_at":"2014-01-21T11:46:15Z","initial_price":700.0,"final_price":858.33,"price_to_pay_now":858.33,
			"taxes":[{"name":{"en":"VAT"},"percentage":"10.0","amount":"58.33"}],
			"price_details":{"taxes":[{"name":{"en":"VAT"},"percentage":"10.0","amount":"58.33","taxable_type":"Rental","taxable_id":2,"tax_id":1,"included":false}],
			"fees":[{"name":{"en":"some fee"},"required":true,"price":"100.0","quantity":1,"id":10,"rentals_fee_id":12}]}}`))
	})
	rentals, _, err := c.Rentals.Search(inboxCtx, &RentalSearchOptions{
		ListOptions: ListOptions{PerPage: 10},
		StartAt:     time.Date(2014, 3, 24, 16, 0, 0, 0, time.UTC), EndAt: time.Date(2014, 3, 30, 10, 0, 0, 0, time.UTC),
		Adults: 2, Children: 1, Guests: 3, BedroomsCount: 2, MaxPrice: 1000,
		City: "Nevache", Destinations: []string{"alps", "lakes"}, RentalIDs: []int64{1, 2},
		SouthWest: &LatLng{44.9, 6.5}, NorthEast: &LatLng{45.1, 6.75},
		IncludedAmenities: []int64{4, 5}, BookableOnline: Ptr(false), PublishedOnly: true,
		Sort: "price", Direction: "desc", ExchangeToCurrency: "USD",
	})
	require.NoError(t, err)
	q, err := url.ParseQuery(s.last("GET", "rentals/search").RawQuery)
	require.NoError(t, err)
	for k, want := range map[string][]string{
		"start_at": {"2014-03-24T16:00:00Z"}, "end_at": {"2014-03-30T10:00:00Z"}, "adults": {"2"}, "children": {"1"},
		"guests": {"3"}, "bedrooms_count": {"2"}, "max_price": {"1000"}, "city": {"Nevache"}, "destination": {"alps,lakes"},
		"rental_id": {"1,2"}, "bb_sw": {"44.9,6.5"}, "bb_ne": {"45.1,6.75"}, "included_amenities[]": {"4", "5"},
		"bookable_online": {"false"}, "published_only": {"true"}, "sort": {"price"}, "direction": {"desc"},
		"exchange_to_currency": {"USD"}, "per_page": {"10"},
	} {
		assert.Equal(t, want, q[k], k)
	}
	assert.NotContains(t, q, "min_price")
	assert.NotContains(t, q, "instantly_bookable")
	require.Len(t, rentals, 1)
	r := rentals[0]
	assert.Equal(t, "858.33", r.FinalPrice.String())
	assert.Equal(t, "700.0", r.InitialPrice.String())
	assert.Equal(t, "35.5", r.DamageDeposit.String())
	assert.Equal(t, "VAT", r.Taxes[0].Name.In("fr"))
	require.NotNil(t, r.PriceDetails)
	assert.Equal(t, "Rental", r.PriceDetails.Taxes[0].TaxableType)
	assert.Equal(t, "1", r.PriceDetails.Fees[0].Quantity.String())
	assert.Equal(t, int64(12), r.PriceDetails.Fees[0].RentalsFeeID)

	for name, o := range map[string]*RentalSearchOptions{
		"negative adults":  {Adults: -1},
		"end before start": {StartAt: time.Now(), EndAt: time.Now().Add(-time.Hour)},
		"half a box":       {SouthWest: &LatLng{1, 2}},
		"direction":        {Direction: "up"},
		"rental id":        {RentalIDs: []int64{0}},
	} {
		before := s.total()
		_, _, err := c.Rentals.Search(inboxCtx, o)
		assert.ErrorIs(t, err, ErrInvalidRequest, name)
		assert.Equal(t, before, s.total(), "%s: nothing sent", name)
	}
}
