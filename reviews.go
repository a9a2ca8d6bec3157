package bookingsync

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"time"
)

// Review is a guest's review of a stay (a booking). The host's answer, if
// any, is a ReviewReply whose id is in Links.Reply.
type Review struct {
	ID     int64 `json:"id"`
	Rating int   `json:"rating"`
	// RatingAccurate is the unrounded rating ("4.6").
	RatingAccurate Decimal `json:"rating_accurate"`
	Title          string  `json:"title"`
	Comment        string  `json:"comment"`
	// PrivateComment is the guest's note not meant for the public.
	PrivateComment string `json:"private_comment"`
	// Name is the reviewer as shown, the last name cut to its initial.
	Name        string `json:"name"`
	CountryCode string `json:"country_code"`
	Shareable   bool   `json:"shareable"`
	// Criteria rate aspects of the stay ("cleanliness", "communication",
	// "checkin", "location", "facilities", "comfort", "staff",
	// "value_for_money", "accuracy"); a criterion not rated is nil.
	Criteria map[string]*ReviewCriterion `json:"criteria,omitempty"`

	DismissedAt     *time.Time `json:"dismissed_at"`
	DismissedBy     string     `json:"dismissed_by"`
	DismissalReason string     `json:"dismissal_reason"`
	SubmittedAt     *time.Time `json:"submitted_at,omitempty"`
	CreatedAt       time.Time  `json:"created_at"`
	UpdatedAt       time.Time  `json:"updated_at"`

	Links ReviewLinks `json:"links"`
}

// ReviewCriterion is the rating of one aspect of a stay.
type ReviewCriterion struct {
	Rating  Decimal `json:"rating"`
	Comment string  `json:"comment"`
}

// ReviewLinks are a review's associations. Reply is the id of the host's
// ReviewReply, "" when none: the recordings show replies with UUID ids
// (the reference calls it an integer; both are read).
type ReviewLinks struct {
	Account int64  `json:"account"`
	Booking *int64 `json:"booking"`
	Rental  *int64 `json:"rental"`
	Source  *int64 `json:"source"`
	Reply   string `json:"reply"`
}

// UnmarshalJSON reads the reply's id as a string or a number.
func (l *ReviewLinks) UnmarshalJSON(b []byte) error {
	type plain ReviewLinks
	w := struct {
		*plain
		Reply json.RawMessage `json:"reply"`
	}{plain: (*plain)(l)}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	reply, err := stringOrNumber(w.Reply)
	if err != nil {
		return fmt.Errorf("bookingsync: review reply id: %w", err)
	}
	l.Reply = reply
	return nil
}

func (s *ReviewsService) res() resource[Review] {
	// The reference reads reviews with the public scope: a 403 names none.
	return newResource[Review](s.client, "reviews", "reviews")
}

// List returns one page of the account's reviews.
//
// GET /reviews
func (s *ReviewsService) List(ctx context.Context, opts *ListOptions) ([]*Review, *Response, error) {
	return s.res().list(ctx, opts)
}

// All iterates over every review, page after page, fetching lazily.
//
// GET /reviews?page={n}
func (s *ReviewsService) All(ctx context.Context, opts *ListOptions) iter.Seq2[*Review, error] {
	return allPages(ctx, s.client, opts, s.List)
}

// Get returns one review.
//
// GET /reviews/{id}
func (s *ReviewsService) Get(ctx context.Context, id int64) (*Review, *Response, error) {
	return s.res().get(ctx, id, nil)
}

// GetWith is Get with field limiting and sideloading (opts).
//
// GET /reviews/{id}?fields=…
func (s *ReviewsService) GetWith(ctx context.Context, id int64, opts *GetOptions) (*Review, *Response, error) {
	return s.res().get(ctx, id, opts)
}

// GetMany returns the reviews with the given ids, a hundred ids a request,
// each answer read to its last page (the API pages it like a listing,
// rentals 50 a page); unknown ids are absent from the result.
//
// GET /reviews/{id},{id},…
func (s *ReviewsService) GetMany(ctx context.Context, ids []int64) ([]*Review, *Response, error) {
	return s.res().getMany(ctx, ids, nil)
}

// GetManyWith is GetMany with field limiting and sideloading (opts), sent
// with every request.
//
// GET /reviews/{id},{id},…?fields=…
func (s *ReviewsService) GetManyWith(ctx context.Context, ids []int64, opts *GetOptions) ([]*Review, *Response, error) {
	return s.res().getMany(ctx, ids, opts)
}
