package bookingsync

import (
	"context"
	"encoding/json"
	"iter"
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

// All iterates over every host, page after page, fetching lazily.
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

// GetMany returns the hosts with the given ids, a hundred ids a request,
// each answer read to its last page (the API pages it like a listing,
// rentals 50 a page); unknown ids are absent from the result.
//
// GET /hosts/{id},{id},…
func (s *HostsService) GetMany(ctx context.Context, ids []int64) ([]*Host, *Response, error) {
	return s.res().getMany(ctx, ids, nil)
}

// GetWith is Get with field limiting and sideloading (opts).
//
// GET /hosts/{id}?fields=…
func (s *HostsService) GetWith(ctx context.Context, id int64, opts *GetOptions) (*Host, *Response, error) {
	return s.res().get(ctx, id, opts)
}

// GetManyWith is GetMany with field limiting and sideloading (opts), sent
// with every request.
//
// GET /hosts/{id},{id},…?fields=…
func (s *HostsService) GetManyWith(ctx context.Context, ids []int64, opts *GetOptions) ([]*Host, *Response, error) {
	return s.res().getMany(ctx, ids, opts)
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
	// ClearEmail and ClearUserID remove the host's email or user (send
	// null); they cannot go with Email or UserID.
	ClearEmail  bool `json:"-"`
	ClearUserID bool `json:"-"`
}

// MarshalJSON writes email and user_id null when ClearEmail and
// ClearUserID are set, as ConversationUpdate does for Unassign.
func (u HostUpdate) MarshalJSON() ([]byte, error) {
	type plain HostUpdate
	// An outer nil pointer is left out; a pointer to nil is written null.
	w := struct {
		plain
		Email  **string `json:"email,omitempty"`
		UserID **int64  `json:"user_id,omitempty"`
	}{plain: plain(u)}
	if u.Email != nil {
		w.Email = &u.Email
	}
	if u.UserID != nil {
		w.UserID = &u.UserID
	}
	if u.ClearEmail {
		w.Email = new(*string)
	}
	if u.ClearUserID {
		w.UserID = new(*int64)
	}
	return json.Marshal(w)
}

// Create creates a host. A missing first or last name fails with
// ErrInvalidRequest before any request.
//
// POST /hosts
func (s *HostsService) Create(ctx context.Context, h *NewHost) (*Host, *Response, error) {
	if err := h.validate(); err != nil {
		return nil, nil, err
	}
	return s.res().create(ctx, h)
}

// Update changes a host; ClearEmail and ClearUserID remove its email and
// user. Blank names, or a field both set and cleared, fail with
// ErrInvalidRequest before any request.
//
// PUT /hosts/{id}
func (s *HostsService) Update(ctx context.Context, id int64, u *HostUpdate) (*Host, *Response, error) {
	if u == nil {
		u = &HostUpdate{}
	}
	if err := u.validate(); err != nil {
		return nil, nil, err
	}
	return s.res().update(ctx, id, u)
}
