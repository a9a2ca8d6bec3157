package bookingsync

import (
	"context"
	"iter"
	"strings"
	"time"
)

// Member types of a participant.
const (
	// MemberTypeHost is a user of the account, as an Inbox member.
	MemberTypeHost = "Host"
	// MemberTypeClient is a traveller. Only the channel creates those.
	MemberTypeClient = "Client"
)

// Participant is a member of a conversation: the guest (a Client) or one of
// the account's hosts (a Host). Only Host participants can send messages.
type Participant struct {
	ID                int64      `json:"id"`
	CreatedAt         time.Time  `json:"created_at"`
	UpdatedAt         time.Time  `json:"updated_at"`
	LastMessageSentAt *time.Time `json:"last_message_sent_at"`
	ReadAt            *time.Time `json:"read_at"`

	Links ParticipantLinks `json:"links"`
}

// ParticipantLinks are a participant's associations.
type ParticipantLinks struct {
	Conversation int64 `json:"conversation"`
	// Member is {ID, Type} with Type "Client" or "Host".
	Member Polymorphic `json:"member"`
}

// IsHost reports whether the participant is a Host.
func (p *Participant) IsHost() bool { return strings.EqualFold(p.Links.Member.Type, MemberTypeHost) }

// IsClient reports whether the participant is a Client (a guest).
func (p *Participant) IsClient() bool {
	return isClientType(p.Links.Member.Type)
}

func (s *ParticipantsService) res() resource[Participant] {
	return newResource[Participant](s.client, "inbox/participants", "participants")
}

// List returns one page of participants.
func (s *ParticipantsService) List(ctx context.Context, opts *ListOptions) ([]*Participant, *Response, error) {
	return s.res().list(ctx, opts)
}

// All iterates over every participant, page after page.
func (s *ParticipantsService) All(ctx context.Context, opts *ListOptions) iter.Seq2[*Participant, error] {
	return allPages(ctx, s.client, opts, s.List)
}

// Get returns one participant.
func (s *ParticipantsService) Get(ctx context.Context, id int64) (*Participant, *Response, error) {
	return s.res().get(ctx, id, nil)
}

// GetMany returns the participants with the given ids.
func (s *ParticipantsService) GetMany(ctx context.Context, ids []int64) ([]*Participant, *Response, error) {
	return s.res().getMany(ctx, ids, nil)
}
