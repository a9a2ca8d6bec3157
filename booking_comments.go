package bookingsync

import (
	"context"
	"fmt"
	"iter"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"
)

// BookingComment is an internal note about a booking, written by the
// account's users (or an application) for each other; the guest never sees
// it. A booking lists its comments in Links.BookingComments.
type BookingComment struct {
	ID      int64  `json:"id"`
	Content string `json:"content"`
	// Editable reports whether this token may change the comment.
	Editable bool `json:"editable"`
	// VisibleForAllAccountUsers is false for a comment hidden from users
	// with a restricted role (cleaners); nil when the API did not say.
	VisibleForAllAccountUsers *bool `json:"visible_for_all_account_users,omitempty"`

	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`

	Links BookingCommentLinks `json:"links"`
}

// BookingCommentLinks are a comment's associations.
type BookingCommentLinks struct {
	Account int64 `json:"account"`
	Booking int64 `json:"booking"`
}

// NewBookingComment is the body of BookingComments.Create.
type NewBookingComment struct {
	// BookingID is the booking the note is about (required).
	BookingID int64 `json:"-"`
	// Content is the note (required, at most 6000 characters).
	Content string `json:"content"`
	// VisibleForAllAccountUsers hides the note from restricted users when
	// false; nil leaves the account's default.
	VisibleForAllAccountUsers *bool `json:"visible_for_all_account_users,omitempty"`
}

// BookingCommentUpdate is what BookingComments.Update may change; nil
// fields are left as they are.
type BookingCommentUpdate struct {
	Content                   *string `json:"content,omitempty"`
	VisibleForAllAccountUsers *bool   `json:"visible_for_all_account_users,omitempty"`
}

// maxCommentLength is the reference's limit on a comment's content.
const maxCommentLength = 6000

func checkCommentContent(content string, required bool) []string {
	switch n := utf8.RuneCountInString(content); {
	case n == 0 && required:
		return []string{"Content is required"}
	case strings.TrimSpace(content) == "" && n > 0:
		return []string{"Content is blank"}
	case n > maxCommentLength:
		return []string{fmt.Sprintf("Content has %d characters, over %d", n, maxCommentLength)}
	}
	return nil
}

func (s *BookingCommentsService) res() resource[BookingComment] {
	return newResource[BookingComment](s.client, "booking_comments", "booking_comments").needs(ScopeBookingsRead)
}

// List returns one page of the account's booking comments, of every
// booking (the API has no booking filter: a booking's own are its
// Links.BookingComments, read with GetMany).
//
// GET /booking_comments
func (s *BookingCommentsService) List(ctx context.Context, opts *ListOptions) ([]*BookingComment, *Response, error) {
	return s.res().list(ctx, opts)
}

// All iterates over every booking comment, page after page, fetching
// lazily.
//
// GET /booking_comments?page={n}
func (s *BookingCommentsService) All(ctx context.Context, opts *ListOptions) iter.Seq2[*BookingComment, error] {
	return allPages(ctx, s.client, opts, s.List)
}

// Get returns one booking comment.
//
// GET /booking_comments/{id}
func (s *BookingCommentsService) Get(ctx context.Context, id int64) (*BookingComment, *Response, error) {
	return s.res().get(ctx, id, nil)
}

// GetWith is Get with field limiting and sideloading (opts).
//
// GET /booking_comments/{id}?fields=…
func (s *BookingCommentsService) GetWith(ctx context.Context, id int64, opts *GetOptions) (*BookingComment, *Response, error) {
	return s.res().get(ctx, id, opts)
}

// GetMany returns the booking comments with the given ids in one request
// per hundred ids; unknown ids are absent from the result.
//
// GET /booking_comments/{id},{id},…
func (s *BookingCommentsService) GetMany(ctx context.Context, ids []int64) ([]*BookingComment, *Response, error) {
	return s.res().getMany(ctx, ids, nil)
}

// GetManyWith is GetMany with field limiting and sideloading (opts), sent
// with every request.
//
// GET /booking_comments/{id},{id},…?fields=…
func (s *BookingCommentsService) GetManyWith(ctx context.Context, ids []int64, opts *GetOptions) ([]*BookingComment, *Response, error) {
	return s.res().getMany(ctx, ids, opts)
}

// Create adds a note to a booking. It needs bookings_write (or
// bookings_write_owned, for the application's own bookings). The booking
// id goes beside the record, {"booking_id": 7, "booking_comments":
// [{…}]}, as the reference and the recordings send it. A missing booking
// id or content fails with ErrInvalidRequest before any request.
//
// POST /booking_comments
func (s *BookingCommentsService) Create(ctx context.Context, c *NewBookingComment) (*BookingComment, *Response, error) {
	if c == nil {
		return nil, nil, invalid("booking comment", "nil comment")
	}
	pr := checkCommentContent(c.Content, true)
	if c.BookingID <= 0 {
		pr = append([]string{"BookingID is required"}, pr...)
	}
	if err := invalid("booking comment", pr...); err != nil {
		return nil, nil, err
	}
	body := newCommentBody{BookingID: c.BookingID, Comments: []*NewBookingComment{c}}
	return s.res().one(ctx, http.MethodPost, "booking_comments", body)
}

// newCommentBody is Create's request body.
type newCommentBody struct {
	BookingID int64                `json:"booking_id"`
	Comments  []*NewBookingComment `json:"booking_comments"`
}

// Update changes a booking comment's content or visibility.
//
// PUT /booking_comments/{id}
func (s *BookingCommentsService) Update(ctx context.Context, id int64, u *BookingCommentUpdate) (*BookingComment, *Response, error) {
	if u == nil {
		return nil, nil, invalid("booking comment update", "nil update")
	}
	if u.Content != nil {
		if err := invalid("booking comment update", checkCommentContent(*u.Content, true)...); err != nil {
			return nil, nil, err
		}
	}
	return s.res().update(ctx, id, u)
}

// Delete removes a booking comment; the API answers 204.
//
// DELETE /booking_comments/{id}
func (s *BookingCommentsService) Delete(ctx context.Context, id int64) (*Response, error) {
	return s.res().delete(ctx, id)
}
