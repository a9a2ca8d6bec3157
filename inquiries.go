package bookingsync

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"time"
)

// Inquiry is a request for a stay sent before any booking (from a website
// widget, say); a conversation lists its inquiries in Links.Inquiries. The
// Firstname, Lastname, Email and Phone are the enquirer's as typed, not a
// Guest's.
type Inquiry struct {
	ID          int64  `json:"id"`
	Firstname   string `json:"firstname"`
	Lastname    string `json:"lastname"`
	Email       string `json:"email"`
	CountryCode string `json:"country_code"`
	// Phone is kept as written; the API also sends it as a JSON number.
	Phone   string `json:"phone"`
	Message string `json:"message"`
	// Locked is the API's lock state; "" when null.
	Locked string `json:"locked"`

	StartAt  *time.Time `json:"start_at"`
	EndAt    *time.Time `json:"end_at"`
	Adults   *int       `json:"adults"`
	Children *int       `json:"children"`

	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`

	Links InquiryLinks `json:"links"`
}

// InquiryLinks are an inquiry's associations; nullable ids are pointers.
type InquiryLinks struct {
	Account      int64  `json:"account"`
	Rental       *int64 `json:"rental"`
	Source       *int64 `json:"source"`
	Booking      *int64 `json:"booking"`
	Conversation *int64 `json:"conversation"`
}

// UnmarshalJSON accepts the phone number written as a string, a number or
// null.
func (q *Inquiry) UnmarshalJSON(data []byte) error {
	type plain Inquiry
	w := struct {
		*plain
		Phone json.RawMessage `json:"phone"`
	}{plain: (*plain)(q)}
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	phone, err := stringOrNumber(w.Phone)
	if err != nil {
		return fmt.Errorf("bookingsync: inquiry phone: %w", err)
	}
	q.Phone = phone
	return nil
}

func (s *InquiriesService) res() resource[Inquiry] {
	return newResource[Inquiry](s.client, "inquiries", "inquiries").needs(ScopeInquiriesRead)
}

// List returns one page of inquiries (with inquiries_write_owned, only
// those the application created).
//
// GET /inquiries
func (s *InquiriesService) List(ctx context.Context, opts *ListOptions) ([]*Inquiry, *Response, error) {
	return s.res().list(ctx, opts)
}

// All iterates over every inquiry, page after page, fetching lazily.
//
// GET /inquiries?page={n}
func (s *InquiriesService) All(ctx context.Context, opts *ListOptions) iter.Seq2[*Inquiry, error] {
	return allPages(ctx, s.client, opts, s.List)
}

// Get returns one inquiry.
//
// GET /inquiries/{id}
func (s *InquiriesService) Get(ctx context.Context, id int64) (*Inquiry, *Response, error) {
	return s.res().get(ctx, id, nil)
}

// GetWith is Get with field limiting (opts.Fields).
//
// GET /inquiries/{id}?fields=…
func (s *InquiriesService) GetWith(ctx context.Context, id int64, opts *GetOptions) (*Inquiry, *Response, error) {
	return s.res().get(ctx, id, opts)
}

// GetMany returns the inquiries with the given ids, a hundred ids a
// request, each answer read to its last page (the API pages it like a
// listing, rentals 50 a page); unknown ids are absent from the result.
//
// GET /inquiries/{id},{id},…
func (s *InquiriesService) GetMany(ctx context.Context, ids []int64) ([]*Inquiry, *Response, error) {
	return s.res().getMany(ctx, ids, nil)
}

// GetManyWith is GetMany with field limiting (opts.Fields), sent with
// every request.
//
// GET /inquiries/{id},{id},…?fields=…
func (s *InquiriesService) GetManyWith(ctx context.Context, ids []int64, opts *GetOptions) ([]*Inquiry, *Response, error) {
	return s.res().getMany(ctx, ids, opts)
}
