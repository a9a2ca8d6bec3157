package bookingsync

import (
	"context"
	"iter"
	"strings"
	"time"
)

// Host is a user of the account as an Inbox member.
type Host struct {
	ID                     int64      `json:"id"`
	Firstname              string     `json:"firstname"`
	Lastname               string     `json:"lastname"`
	Email                  string     `json:"email"`
	CreatedAt              time.Time  `json:"created_at"`
	UpdatedAt              time.Time  `json:"updated_at"`
	ForgetMeAt             *time.Time `json:"forget_me_at"`
	ProcessingRestrictedAt *time.Time `json:"processing_restricted_at"`

	Links HostLinks `json:"links"`
}

// HostLinks are a host's associations.
type HostLinks struct {
	Account      int64   `json:"account"`
	User         *int64  `json:"user"`
	Source       *int64  `json:"source"`
	Participants []int64 `json:"participants"`
}

func (s *HostsService) res() resource[Host] {
	return newResource[Host](s.client, "hosts", "hosts").needs(ScopeInboxRead)
}

// List returns one page of hosts.
//
// GET /hosts
func (s *HostsService) List(ctx context.Context, opts *ListOptions) ([]*Host, *Response, error) {
	return s.res().list(ctx, opts)
}

// All iterates over every host, page after page.
//
// GET /hosts?page={n}
func (s *HostsService) All(ctx context.Context, opts *ListOptions) iter.Seq2[*Host, error] {
	return allPages(ctx, s.client, opts, s.List)
}

// Get returns one host.
//
// GET /hosts/{id}
func (s *HostsService) Get(ctx context.Context, id int64) (*Host, *Response, error) {
	return s.res().get(ctx, id, nil)
}

// GetMany returns the hosts with the given ids.
//
// GET /hosts/{id},{id},…
func (s *HostsService) GetMany(ctx context.Context, ids []int64) ([]*Host, *Response, error) {
	return s.res().getMany(ctx, ids, nil)
}

// NewHost is the body of Hosts.Create. Firstname and Lastname are
// required.
type NewHost struct {
	Firstname string `json:"firstname"`
	Lastname  string `json:"lastname"`
	Email     string `json:"email,omitempty"`
	// UserID ties the host to a user of the account.
	UserID   *int64 `json:"user_id,omitempty"`
	SourceID *int64 `json:"source_id,omitempty"`
}

// HostUpdate is what Hosts.Update may change; nil fields are left as they
// are.
type HostUpdate struct {
	Firstname *string `json:"firstname,omitempty"`
	Lastname  *string `json:"lastname,omitempty"`
	Email     *string `json:"email,omitempty"`
	UserID    *int64  `json:"user_id,omitempty"`
	SourceID  *int64  `json:"source_id,omitempty"`
}

// Create creates a host. A missing first or last name fails with
// ErrInvalidRequest before any request.
//
// POST /hosts
func (s *HostsService) Create(ctx context.Context, h *NewHost) (*Host, *Response, error) {
	if h == nil {
		return nil, nil, invalid("new host", "nil")
	}
	var pr []string
	if strings.TrimSpace(h.Firstname) == "" {
		pr = append(pr, "missing firstname")
	}
	if strings.TrimSpace(h.Lastname) == "" {
		pr = append(pr, "missing lastname")
	}
	pr = append(pr, checkOptionalIDs(h.UserID, h.SourceID)...)
	if err := invalid("new host", pr...); err != nil {
		return nil, nil, err
	}
	return s.res().create(ctx, h)
}

// Update changes a host. Blank names fail with ErrInvalidRequest before any
// request.
//
// PUT /hosts/{id}
func (s *HostsService) Update(ctx context.Context, id int64, u *HostUpdate) (*Host, *Response, error) {
	if u == nil {
		u = &HostUpdate{}
	}
	var pr []string
	if u.Firstname != nil && strings.TrimSpace(*u.Firstname) == "" {
		pr = append(pr, "blank firstname")
	}
	if u.Lastname != nil && strings.TrimSpace(*u.Lastname) == "" {
		pr = append(pr, "blank lastname")
	}
	pr = append(pr, checkOptionalIDs(u.UserID, u.SourceID)...)
	if err := invalid("host update", pr...); err != nil {
		return nil, nil, err
	}
	return s.res().update(ctx, id, u)
}

// checkOptionalIDs checks the user and source ids when set.
func checkOptionalIDs(userID, sourceID *int64) []string {
	var pr []string
	if userID != nil && *userID <= 0 {
		pr = append(pr, "user id must be positive")
	}
	if sourceID != nil && *sourceID <= 0 {
		pr = append(pr, "source id must be positive")
	}
	return pr
}
