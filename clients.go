package bookingsync

import (
	"context"
	"fmt"
	"iter"
	"strings"
	"time"
	"unicode/utf8"
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

// NewGuest is the body of Clients.Create: a traveller the channel knows
// before BookingSync does. A name is required: Fullname, or Firstname and
// Lastname (at most 150 characters each).
type NewGuest struct {
	Fullname        string `json:"fullname,omitempty"`
	Firstname       string `json:"firstname,omitempty"`
	Lastname        string `json:"lastname,omitempty"`
	Company         string `json:"company,omitempty"`
	Notes           string `json:"notes,omitempty"`
	Passport        string `json:"passport,omitempty"`
	PreferredLocale string `json:"preferred_locale,omitempty"`
	VATNumber       string `json:"vat_number,omitempty"`
	// Each element needs its Label and its value.
	Emails    []GuestEmailInput   `json:"emails,omitempty"`
	Phones    []GuestPhoneInput   `json:"phones,omitempty"`
	Addresses []GuestAddressInput `json:"addresses,omitempty"`
}

// GuestUpdate is what Clients.Update may change; nil fields are left as
// they are. A list replaces the guest's whole list (the reference: send
// every element, or lose the others).
type GuestUpdate struct {
	Fullname        *string             `json:"fullname,omitempty"`
	Firstname       *string             `json:"firstname,omitempty"`
	Lastname        *string             `json:"lastname,omitempty"`
	Company         *string             `json:"company,omitempty"`
	Notes           *string             `json:"notes,omitempty"`
	Passport        *string             `json:"passport,omitempty"`
	PreferredLocale *string             `json:"preferred_locale,omitempty"`
	VATNumber       *string             `json:"vat_number,omitempty"`
	Emails          []GuestEmailInput   `json:"emails,omitempty"`
	Phones          []GuestPhoneInput   `json:"phones,omitempty"`
	Addresses       []GuestAddressInput `json:"addresses,omitempty"`
}

// GuestEmailInput is an e-mail address as a write sends it.
type GuestEmailInput struct {
	Label string `json:"label"`
	Email string `json:"email"`
}

// GuestPhoneInput is a phone number as a write sends it.
type GuestPhoneInput struct {
	Label  string `json:"label"`
	Number string `json:"number"`
}

// GuestAddressInput is a postal address as a write sends it.
type GuestAddressInput struct {
	Label       string `json:"label"`
	Address1    string `json:"address1,omitempty"`
	Address2    string `json:"address2,omitempty"`
	City        string `json:"city,omitempty"`
	State       string `json:"state,omitempty"`
	Zip         string `json:"zip,omitempty"`
	CountryCode string `json:"country_code,omitempty"`
}

// checkGuest is what the reference's constraints let the client check:
// the lengths, and each list element's label and value.
func checkGuest(names [3]string, notes, passport string, emails []GuestEmailInput, phones []GuestPhoneInput, addrs []GuestAddressInput) []string {
	var pr []string
	for i, n := range names {
		if utf8.RuneCountInString(n) > 150 {
			pr = append(pr, fmt.Sprintf("%s is over 150 characters", [3]string{"Fullname", "Firstname", "Lastname"}[i]))
		}
	}
	if utf8.RuneCountInString(notes) > 5000 {
		pr = append(pr, "Notes is over 5000 characters")
	}
	if utf8.RuneCountInString(passport) > 50 {
		pr = append(pr, "Passport is over 50 characters")
	}
	for i, e := range emails {
		if e.Label == "" || !strings.Contains(e.Email, "@") {
			pr = append(pr, fmt.Sprintf("Emails[%d] needs a label and an address", i))
		}
	}
	for i, p := range phones {
		if p.Label == "" || p.Number == "" {
			pr = append(pr, fmt.Sprintf("Phones[%d] needs a label and a number", i))
		}
	}
	for i, a := range addrs {
		if a.Label == "" {
			pr = append(pr, fmt.Sprintf("Addresses[%d] needs a label", i))
		}
	}
	return pr
}

// Create adds a guest. It needs clients_write. A guest without a name, or
// whatever else the reference's constraints rule out, fails with
// ErrInvalidRequest before any request.
//
// POST /clients
func (s *ClientsService) Create(ctx context.Context, g *NewGuest) (*Guest, *Response, error) {
	if g == nil {
		return nil, nil, invalid("new guest", "nil guest")
	}
	pr := checkGuest([3]string{g.Fullname, g.Firstname, g.Lastname}, g.Notes, g.Passport, g.Emails, g.Phones, g.Addresses)
	if strings.TrimSpace(g.Fullname) == "" && (strings.TrimSpace(g.Firstname) == "" || strings.TrimSpace(g.Lastname) == "") {
		pr = append([]string{"a name is required: Fullname, or Firstname and Lastname"}, pr...)
	}
	if err := invalid("new guest", pr...); err != nil {
		return nil, nil, err
	}
	return s.res().create(ctx, g)
}

// Update changes a guest. It needs clients_write.
//
// PUT /clients/{id}
func (s *ClientsService) Update(ctx context.Context, id int64, u *GuestUpdate) (*Guest, *Response, error) {
	if u == nil {
		return nil, nil, invalid("guest update", "nil update")
	}
	str := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	if err := invalid("guest update", checkGuest([3]string{str(u.Fullname), str(u.Firstname), str(u.Lastname)},
		str(u.Notes), str(u.Passport), u.Emails, u.Phones, u.Addresses)...); err != nil {
		return nil, nil, err
	}
	return s.res().update(ctx, id, u)
}
