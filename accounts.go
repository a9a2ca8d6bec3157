package bookingsync

import (
	"context"
	"iter"
	"time"
)

// Account is a BookingSync account: the property manager whose Inbox a
// token reads. With an authorization-code token the accounts listing holds
// that one account; with a client-credentials token it holds every account
// that installed the application, and with ListOptions.UpdatedSince also
// the ones that cancelled, were suspended or uninstalled it since then.
// The reference does not say how those come: look at both Status and
// Response.Meta.DeletedIDs (where bookingsynctest puts an uninstalled
// account).
type Account struct {
	ID           int64  `json:"id"`
	BusinessName string `json:"business_name"`
	Email        string `json:"email"`
	// InboxEmail is the account's Inbox address; it needs inbox_read.
	InboxEmail string `json:"inbox_email"`
	// Status is "trial", "active", "suspended", "canceled", … as the API
	// writes it.
	Status          string   `json:"status"`
	DefaultLocale   string   `json:"default_locale"`
	SelectedLocales []string `json:"selected_locales"`
	// Demo and Test mark accounts that are not real production ones.
	Demo bool `json:"demo"`
	Test bool `json:"test"`

	Address1    string `json:"address1"`
	Address2    string `json:"address2"`
	City        string `json:"city"`
	State       string `json:"state"`
	Zip         string `json:"zip"`
	CountryCode string `json:"country_code"`
	Website     string `json:"website"`

	Phones      AccountPhones      `json:"phones"`
	Preferences AccountPreferences `json:"preferences"`

	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// AccountPhones are an account's phone numbers.
type AccountPhones struct {
	Phone  string `json:"phone"`
	Mobile string `json:"mobile"`
	Fax    string `json:"fax"`
}

// AccountPreferences are an account's settings.
type AccountPreferences struct {
	Bookings AccountBookingPreferences `json:"bookings"`
	// PrivacyPolicy is the account's privacy policy by locale.
	PrivacyPolicy Localized `json:"privacy_policy"`
}

// AccountBookingPreferences are an account's booking defaults; times are
// hours of the day, nil when unset.
type AccountBookingPreferences struct {
	DefaultArrivalTime         *int   `json:"default_arrival_time"`
	DefaultArrivalEndTime      *int   `json:"default_arrival_end_time"`
	DefaultDepartureTime       *int   `json:"default_departure_time"`
	DefaultCommunicationLocale string `json:"default_communication_locale"`
}

func (s *AccountsService) res() resource[Account] {
	// Accounts need only the public scope, which every token has: a 403
	// here says nothing about scopes.
	return newResource[Account](s.client, "accounts", "accounts")
}

// List returns one page of accounts: the token's own, or with a
// client-credentials token every account that installed the application.
//
// GET /accounts
func (s *AccountsService) List(ctx context.Context, opts *ListOptions) ([]*Account, *Response, error) {
	return s.res().list(ctx, opts)
}

// All iterates over every account, page after page, fetching lazily.
//
// GET /accounts?page={n}
func (s *AccountsService) All(ctx context.Context, opts *ListOptions) iter.Seq2[*Account, error] {
	return allPages(ctx, s.client, opts, s.List)
}

// Get returns one account.
//
// GET /accounts/{id}
func (s *AccountsService) Get(ctx context.Context, id int64) (*Account, *Response, error) {
	return s.res().get(ctx, id, nil)
}

// GetWith is Get with field limiting (opts.Fields).
//
// GET /accounts/{id}?fields=…
func (s *AccountsService) GetWith(ctx context.Context, id int64, opts *GetOptions) (*Account, *Response, error) {
	return s.res().get(ctx, id, opts)
}

// GetMany returns the accounts with the given ids, a hundred ids a
// request, each answer read to its last page (the API pages it like a
// listing, rentals 50 a page); unknown ids are absent from the result.
//
// GET /accounts/{id},{id},…
func (s *AccountsService) GetMany(ctx context.Context, ids []int64) ([]*Account, *Response, error) {
	return s.res().getMany(ctx, ids, nil)
}

// GetManyWith is GetMany with field limiting (opts.Fields), sent with
// every request.
//
// GET /accounts/{id},{id},…?fields=…
func (s *AccountsService) GetManyWith(ctx context.Context, ids []int64, opts *GetOptions) ([]*Account, *Response, error) {
	return s.res().getMany(ctx, ids, opts)
}
