package bookingsync

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
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
func checkReads[T any](t *testing.T, c *Client, s *inboxServer, path, fixture string, svc readService[T], check func(t *testing.T, v *T)) {
	t.Helper()
	s.handle("GET /"+path, serveInboxFixture(t, 200, fixture))
	s.handle("GET /"+path+"/{ids}", serveInboxFixture(t, 200, fixture))

	since := time.Date(2024, 3, 1, 12, 0, 0, 0, time.FixedZone("CET", 3600))
	list, _, err := svc.list(inboxCtx, &ListOptions{PerPage: 50, Fields: []string{"id", "name"}, UpdatedSince: since})
	require.NoError(t, err)
	require.Len(t, list, 1)
	check(t, list[0])
	q := s.last("GET", path).Query
	assert.Contains(t, q, "fields=id,name")
	assert.Contains(t, q, "updated_since=2024-03-01T11%3A00%3A00Z")
	assert.Contains(t, q, "per_page=50")

	one, _, err := svc.get(inboxCtx, 7)
	require.NoError(t, err)
	check(t, one)
	assert.Equal(t, path+"/7", s.last("GET", path+"/").Path)

	many, _, err := svc.getMany(inboxCtx, []int64{7, 3})
	require.NoError(t, err)
	require.Len(t, many, 1)
	assert.Equal(t, path+"/7,3", s.last("GET", path+"/").Path)

	_, _, err = svc.getWith(inboxCtx, 7, &GetOptions{Fields: []string{"id", "name"}})
	require.NoError(t, err)
	assert.Equal(t, "fields=id,name", s.last("GET", path+"/").Query)
	_, _, err = svc.getManyWith(inboxCtx, []int64{7, 3}, &GetOptions{Fields: []string{"name"}})
	require.NoError(t, err)
	r := s.last("GET", path+"/")
	assert.Equal(t, path+"/7,3", r.Path)
	assert.Equal(t, "fields=name", r.Query)

	b, err := json.Marshal(list[0])
	require.NoError(t, err)
	var again T
	require.NoError(t, json.Unmarshal(b, &again))
	assert.Equal(t, list[0], &again, "%s survives a JSON round trip", path)
}

func TestGuestsReadTheReferenceFixture(t *testing.T) {
	s, c := newInboxServer(t)
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
	assert.Equal(t, "Ann Lee", (&Guest{Firstname: "Ann", Lastname: "Lee"}).Name())
	assert.Equal(t, "Lee", (&Guest{Lastname: "Lee"}).Name())
	assert.Equal(t, "Ann", (&Guest{Firstname: "Ann"}).Name())
	assert.Equal(t, "Ann B. Lee", (&Guest{Fullname: "Ann B. Lee", Firstname: "Ann"}).Name())
	assert.Equal(t, "", (*Guest)(nil).Name())
}

func TestRentalsReadTheReferenceFixture(t *testing.T) {
	s, c := newInboxServer(t)
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
	l := Localized{"fr": "Villa", "en": "House", "de": ""}
	assert.Equal(t, "Villa", l.In("fr"))
	assert.Equal(t, "House", l.In("de"))
	assert.Equal(t, "Casa", Localized{"it": "Casa", "es": ""}.In("fr"))
	assert.Equal(t, "Haus", Localized{"fr": "", "de": "Haus", "nl": "Huis"}.In("pt"), "the smallest locale with a text")
	assert.Equal(t, "", Localized(nil).In("en"))
}

func TestAccountsReadTheReferenceFixture(t *testing.T) {
	s, c := newInboxServer(t)
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
	s, c := newInboxServer(t)
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
	s, c := newInboxServer(t)
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
	for raw, want := range map[string]string{`"+33 6 12"`: "+33 6 12", `null`: "", `612345`: "612345"} {
		var q Inquiry
		require.NoError(t, json.Unmarshal([]byte(`{"id":1,"phone":`+raw+`}`), &q), raw)
		assert.Equal(t, want, q.Phone, raw)
	}
	var q Inquiry
	assert.Error(t, json.Unmarshal([]byte(`{"phone":true}`), &q))
}

func TestMeReadsTheAccountOfTheToken(t *testing.T) {
	s, c := newInboxServer(t)
	s.handle("GET /me", serveInboxFixture(t, 200, "me/public-scope-response.json"))
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
	s, c := newInboxServer(t)
	forbidden := func(w http.ResponseWriter, r *http.Request) {
		writeInboxJSON(w, http.StatusForbidden, `{"error":"Forbidden"}`)
	}
	s.handle("GET /", forbidden)
	s.handle("POST /", forbidden)
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
		assert.NotContains(t, err.Error(), inboxToken)
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
	err := error(&ScopeError{Scope: ScopeBookingsRead})
	assert.ErrorIs(t, err, ErrForbidden)
	assert.Equal(t, "bookingsync: the token lacks the bookings_read scope: authorize the application with it (oauth2.Config.Scopes)", err.Error())
}
