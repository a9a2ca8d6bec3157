package bookingsync

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// ReviewReply is the host's public answer to a guest's Review (or to a
// host review). The reference does not document the resource; the
// recordings of the live API show it, with UUIDs for ids (so it has no
// GetMany: the API's id lists are of integers).
type ReviewReply struct {
	ID          string     `json:"id"`
	Message     string     `json:"message"`
	SubmittedAt *time.Time `json:"submitted_at"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`

	Links ReviewReplyLinks `json:"links"`
}

// ReviewReplyLinks are a reply's associations: the guest's review it
// answers, or the host review ("" when none).
type ReviewReplyLinks struct {
	GuestReview *int64 `json:"guest_review"`
	HostReview  string `json:"host_review"`
}

// UnmarshalJSON reads the id as a string or, as the reference writes
// review ids, a number.
func (r *ReviewReply) UnmarshalJSON(b []byte) error {
	type plain ReviewReply
	w := struct {
		*plain
		ID json.RawMessage `json:"id"`
	}{plain: (*plain)(r)}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	id, err := stringOrNumber(w.ID)
	if err != nil {
		return fmt.Errorf("bookingsync: review reply id: %w", err)
	}
	r.ID = id
	return nil
}

func (s *ReviewRepliesService) res() resource[ReviewReply] {
	return newResource[ReviewReply](s.client, "review_replies", "review_replies")
}

// checkReplyIDs refuses ids that would not stay one path segment each.
func checkReplyIDs(ids ...string) error {
	if len(ids) == 0 {
		return invalid("review replies", "no ids")
	}
	for _, id := range ids {
		if id == "" || strings.ContainsAny(id, ",/?#") {
			return invalid("review replies", fmt.Sprintf("id %q is not a reply id", truncate(id, 40)))
		}
	}
	return nil
}

// List returns one page of the account's review replies.
//
// GET /review_replies
func (s *ReviewRepliesService) List(ctx context.Context, opts *ListOptions) ([]*ReviewReply, *Response, error) {
	return s.res().list(ctx, opts)
}

// All iterates over every review reply, page after page, fetching lazily.
//
// GET /review_replies?page={n}
func (s *ReviewRepliesService) All(ctx context.Context, opts *ListOptions) iter.Seq2[*ReviewReply, error] {
	return allPages(ctx, s.client, opts, s.List)
}

// Get returns one review reply by its id (Review.Links.Reply).
//
// GET /review_replies/{id}
func (s *ReviewRepliesService) Get(ctx context.Context, id string) (*ReviewReply, *Response, error) {
	if err := checkReplyIDs(id); err != nil {
		return nil, nil, err
	}
	return s.res().one(ctx, http.MethodGet, "review_replies/"+url.PathEscape(id), nil)
}

// OfReview returns the host's reply to a review, or nil (and no request)
// when it has none.
//
// GET /review_replies/{id}
func (s *ReviewRepliesService) OfReview(ctx context.Context, r *Review) (*ReviewReply, *Response, error) {
	if r == nil {
		return nil, nil, invalid("review reply", "nil review")
	}
	if r.Links.Reply == "" {
		return nil, nil, nil
	}
	return s.Get(ctx, r.Links.Reply)
}
