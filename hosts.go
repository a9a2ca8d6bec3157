package bookingsync

import (
	"context"
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
	return newResource[Host](s.client, "hosts", "hosts")
}

// List returns one page of hosts.
func (s *HostsService) List(ctx context.Context, opts *ListOptions) ([]*Host, *Response, error) {
	return s.res().list(ctx, opts)
}

// All iterates over every host, page after page.
func (s *HostsService) All(ctx context.Context, opts *ListOptions) iter.Seq2[*Host, error] {
	return allPages(ctx, s.client, opts, s.List)
}

// Get returns one host.
func (s *HostsService) Get(ctx context.Context, id int64) (*Host, *Response, error) {
	return s.res().get(ctx, id, nil)
}

// GetMany returns the hosts with the given ids.
func (s *HostsService) GetMany(ctx context.Context, ids []int64) ([]*Host, *Response, error) {
	return s.res().getMany(ctx, ids, nil)
}
