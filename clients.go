package bookingsync

import (
	"context"
	"iter"
	"time"
)

// Guest is a traveller: what the API calls a client (/clients). The Go
// name is Guest because Client is this package's API client, and because
// "client" means the guest only in the API's own vocabulary. A Client
// participant's Links.Member.ID and a booking's Links.Client are Guest
// ids; read guests with client.Clients.
//
// The first of Emails, Phones and Addresses is the default one.
type Guest struct {
	ID              int64  `json:"id"`
	Fullname        string `json:"fullname"`
	Firstname       string `json:"firstname"`
	Lastname        string `json:"lastname"`
	Company         string `json:"company"`
	Notes           string `json:"notes"`
	Passport        string `json:"passport"`
	PreferredLocale string `json:"preferred_locale"`
	VATNumber       string `json:"vat_number"`

	Emails    []GuestEmail   `json:"emails"`
	Phones    []GuestPhone   `json:"phones"`
	Addresses []GuestAddress `json:"addresses"`

	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	// ForgetMeAt and ProcessingRestrictedAt are the GDPR requests' times.
	ForgetMeAt             *time.Time `json:"forget_me_at"`
	ProcessingRestrictedAt *time.Time `json:"processing_restricted_at"`
	CanceledAt             *time.Time `json:"canceled_at"`

	Links GuestLinks `json:"links"`
}

// GuestLinks are a guest's associations.
type GuestLinks struct {
	Account int64 `json:"account"`
}

// Name is the guest's name for display: Fullname, else the first and last
// names joined.
func (g *Guest) Name() string {
	if g == nil {
		return ""
	}
	if g.Fullname != "" {
		return g.Fullname
	}
	switch {
	case g.Firstname == "":
		return g.Lastname
	case g.Lastname == "":
		return g.Firstname
	}
	return g.Firstname + " " + g.Lastname
}

// GuestContact is what a guest's emails, phones and addresses share.
type GuestContact struct {
	ID int64 `json:"id"`
	// GuestID is the guest's id (client_id on the wire).
	GuestID int64 `json:"client_id"`
	// Label is "default", "mobile", "phone", "fax", … as the account wrote it.
	Label      string     `json:"label"`
	Primary    bool       `json:"primary"`
	CreatedAt  time.Time  `json:"created_at"`
	UpdatedAt  time.Time  `json:"updated_at"`
	CanceledAt *time.Time `json:"canceled_at"`
}

// GuestEmail is one of a guest's e-mail addresses.
type GuestEmail struct {
	GuestContact
	Email string `json:"email"`
	// Locked is the API's lock state; "" when null.
	Locked string `json:"locked"`
}

// GuestPhone is one of a guest's phone numbers.
type GuestPhone struct {
	GuestContact
	Number      string `json:"number"`
	CountryCode string `json:"country_code"`
	// Locked is the API's lock state; "" when null.
	Locked string `json:"locked"`
}

// GuestAddress is one of a guest's postal addresses.
type GuestAddress struct {
	GuestContact
	Address1    string `json:"address1"`
	Address2    string `json:"address2"`
	City        string `json:"city"`
	State       string `json:"state"`
	Zip         string `json:"zip"`
	CountryCode string `json:"country_code"`
}

func (s *ClientsService) res() resource[Guest] {
	return newResource[Guest](s.client, "clients", "clients").needs(ScopeClientsRead)
}

// List returns one page of guests.
//
// GET /clients
func (s *ClientsService) List(ctx context.Context, opts *ListOptions) ([]*Guest, *Response, error) {
	return s.res().list(ctx, opts)
}

// All iterates over every guest, page after page, fetching lazily.
//
// GET /clients?page={n}
func (s *ClientsService) All(ctx context.Context, opts *ListOptions) iter.Seq2[*Guest, error] {
	return allPages(ctx, s.client, opts, s.List)
}

// Get returns one guest.
//
// GET /clients/{id}
func (s *ClientsService) Get(ctx context.Context, id int64) (*Guest, *Response, error) {
	return s.res().get(ctx, id, nil)
}

// GetWith is Get with field limiting (opts.Fields).
//
// GET /clients/{id}?fields=…
func (s *ClientsService) GetWith(ctx context.Context, id int64, opts *GetOptions) (*Guest, *Response, error) {
	return s.res().get(ctx, id, opts)
}

// GetMany returns the guests with the given ids, a hundred ids a request,
// each answer read to its last page (the API pages it like a listing,
// rentals 50 a page); unknown ids are absent from the result.
//
// GET /clients/{id},{id},…
func (s *ClientsService) GetMany(ctx context.Context, ids []int64) ([]*Guest, *Response, error) {
	return s.res().getMany(ctx, ids, nil)
}

// GetManyWith is GetMany with field limiting (opts.Fields), sent with
// every request.
//
// GET /clients/{id},{id},…?fields=…
func (s *ClientsService) GetManyWith(ctx context.Context, ids []int64, opts *GetOptions) ([]*Guest, *Response, error) {
	return s.res().getMany(ctx, ids, opts)
}
