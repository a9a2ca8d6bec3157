package bookingsync

import (
	"context"
	"fmt"
	"iter"
	"strings"
	"time"
)

// MemberType is the type of a participant's member. Values the API adds
// later are sent as they are.
type MemberType string

// Member types of a participant.
const (
	// MemberTypeHost is a user of the account, as an Inbox member.
	MemberTypeHost MemberType = "Host"
	// MemberTypeClient is a traveller. Only the channel creates those.
	MemberTypeClient MemberType = "Client"
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
	// Account is the account's id; 0 when the payload lacks it (the
	// reference's examples do, the live API sends it).
	Account      int64 `json:"account"`
	Conversation int64 `json:"conversation"`
	// Member is {ID, Type} with Type "Client" or "Host".
	Member Polymorphic `json:"member"`
}

// IsHost reports whether the participant is a Host.
func (p *Participant) IsHost() bool {
	return strings.EqualFold(p.Links.Member.Type, string(MemberTypeHost))
}

// IsClient reports whether the participant is a Client (a guest).
func (p *Participant) IsClient() bool {
	return isClientType(p.Links.Member.Type)
}

func (s *ParticipantsService) res() resource[Participant] {
	return newResource[Participant](s.client, "inbox/participants", "participants").needs(ScopeInboxRead)
}

// List returns one page of participants.
//
// GET /inbox/participants
func (s *ParticipantsService) List(ctx context.Context, opts *ListOptions) ([]*Participant, *Response, error) {
	return s.client.senders.participants(s.res().list(ctx, opts))
}

// All iterates over every participant, page after page, fetching lazily.
//
// GET /inbox/participants?page={n}
func (s *ParticipantsService) All(ctx context.Context, opts *ListOptions) iter.Seq2[*Participant, error] {
	return allPages(ctx, s.client, opts, s.List)
}

// Get returns one participant.
//
// GET /inbox/participants/{id}
func (s *ParticipantsService) Get(ctx context.Context, id int64) (*Participant, *Response, error) {
	return s.client.senders.participant(s.res().get(ctx, id, nil))
}

// GetMany returns the participants with the given ids, a hundred ids a
// request, each answer read to its last page (the API pages it like a
// listing, rentals 50 a page); unknown ids are absent from the result.
//
// GET /inbox/participants/{id},{id},…
func (s *ParticipantsService) GetMany(ctx context.Context, ids []int64) ([]*Participant, *Response, error) {
	return s.client.senders.participants(s.res().getMany(ctx, ids, nil))
}

// GetWith is Get with field limiting and sideloading (opts).
//
// GET /inbox/participants/{id}?fields=…
func (s *ParticipantsService) GetWith(ctx context.Context, id int64, opts *GetOptions) (*Participant, *Response, error) {
	return s.client.senders.participant(s.res().get(ctx, id, opts))
}

// GetManyWith is GetMany with field limiting and sideloading (opts), sent
// with every request.
//
// GET /inbox/participants/{id},{id},…?fields=…
func (s *ParticipantsService) GetManyWith(ctx context.Context, ids []int64, opts *GetOptions) ([]*Participant, *Response, error) {
	return s.client.senders.participants(s.res().getMany(ctx, ids, opts))
}

// NewParticipant is the body of Participants.Create. All fields are
// required. MemberType must be MemberTypeHost: a Client participant (the
// guest) is created by the channel only, and the client refuses to send
// one (ErrRefused).
type NewParticipant struct {
	ConversationID int64      `json:"conversation_id"`
	MemberID       int64      `json:"member_id"`
	MemberType     MemberType `json:"member_type"`
}

// Create adds a participant to a conversation; use AddHost or EnsureHost
// for the usual case. A member type of Client, in any spelling or case, is
// refused with an error wrapping ErrRefused and nothing is sent: the
// refusal lives in Client.Do, so a hand-built request is refused as well.
// Missing fields fail with ErrInvalidRequest, also before any request.
//
// POST /inbox/participants
func (s *ParticipantsService) Create(ctx context.Context, p *NewParticipant) (*Participant, *Response, error) {
	if err := p.validate(); err != nil {
		return nil, nil, err
	}
	return s.client.senders.participant(s.res().create(ctx, p))
}

// AddHost adds the host as a Host participant of the conversation. It does
// not look for an existing one; EnsureHost does.
//
// POST /inbox/participants
func (s *ParticipantsService) AddHost(ctx context.Context, conversationID, hostID int64) (*Participant, *Response, error) {
	return s.Create(ctx, &NewParticipant{ConversationID: conversationID, MemberID: hostID, MemberType: MemberTypeHost})
}

// MarkRead marks the conversation's last message read for this participant
// (PUT {"read": true}); the API sets ReadAt.
//
// PUT /inbox/participants/{id}
func (s *ParticipantsService) MarkRead(ctx context.Context, id int64) (*Participant, *Response, error) {
	return s.setRead(ctx, id, true)
}

// MarkUnread marks the conversation unread for this participant (PUT
// {"read": false}), as the Inbox's "mark as unread" does.
//
// PUT /inbox/participants/{id}
func (s *ParticipantsService) MarkUnread(ctx context.Context, id int64) (*Participant, *Response, error) {
	return s.setRead(ctx, id, false)
}

// setRead is the one update the API accepts for a participant.
func (s *ParticipantsService) setRead(ctx context.Context, id int64, read bool) (*Participant, *Response, error) {
	return s.res().update(ctx, id, struct {
		Read bool `json:"read"`
	}{read})
}

// hostKey names an EnsureHost call.
type hostKey struct{ conversationID, hostID int64 }

// EnsureHost returns the conversation's Host participant for hostID,
// creating it only when there is none.
//
// The API itself accepts duplicates: it creates a new Host participant for
// the same host each time it is asked, so only the client can prevent
// them. Within one Client, calls for the same conversation and host yield
// one participant: calls at once from many goroutines share one lookup,
// and a participant the client added is remembered. Separate clients
// (other processes, other machines) that both find none can each create
// one; when the conversation already holds several Host participants for
// the host, EnsureHost returns the oldest (lowest CreatedAt, then lowest
// ID), so that every caller settles on the same one.
//
// It reads the conversation with its participants sideloaded (one
// request; a second, Participants.GetMany, only when the server did not
// sideload), and creates the participant with AddHost when absent (one
// more request). The participant it returns is known to be a Host, so
// Messages.Create sends as it without reading it again.
//
// GET /inbox/conversations/{id}?include=participants, POST /inbox/participants (when missing)
func (s *ParticipantsService) EnsureHost(ctx context.Context, conversationID, hostID int64) (*Participant, error) {
	return s.ensureHost(ctx, conversationID, hostID, nil)
}

// EnsureHostFor is EnsureHost for a conversation already in hand. When c
// was read with Include "participants" (as a listing for triage usually
// is), its participants are trusted and no read is made: one request saved
// per conversation. Otherwise it reads them as EnsureHost does. A Host
// participant this client added since c was read is remembered and
// reused; one added elsewhere (another process) is not seen, and the API,
// which accepts duplicates, then gets a second one; EnsureHost afterwards
// settles on the oldest.
//
// GET /inbox/conversations/{id}?include=participants (unless sideloaded), POST /inbox/participants (when missing)
func (s *ParticipantsService) EnsureHostFor(ctx context.Context, c *Conversation, hostID int64) (*Participant, error) {
	if c == nil {
		return nil, fmt.Errorf("%w: EnsureHostFor: nil conversation", ErrInvalidRequest)
	}
	return s.ensureHost(ctx, c.ID, hostID, c.Participants)
}

// ensureHost finds the host among known (read when nil) or adds it.
func (s *ParticipantsService) ensureHost(ctx context.Context, conversationID, hostID int64, known []*Participant) (*Participant, error) {
	if err := checkID("conversations", conversationID); err != nil {
		return nil, err
	}
	if err := checkID("hosts", hostID); err != nil {
		return nil, err
	}
	return s.client.hostFlights.do(ctx, hostKey{conversationID, hostID}, func() (*Participant, error) {
		parts := known
		if parts == nil {
			var err error
			if parts, err = s.ofConversation(ctx, conversationID); err != nil {
				return nil, err
			}
		}
		s.client.senders.participants(parts, nil, nil)
		if p := findHost(parts, conversationID, hostID); p != nil {
			return p, nil
		}
		// known may predate a participant this client added since.
		key := hostKey{conversationID, hostID}
		if p, ok := s.client.hostsAdded.get(key); ok {
			cp := *p
			return &cp, nil
		}
		if lk := s.client.hostLocker; lk != nil {
			unlock, err := lk(conversationID, hostID).Lock(ctx)
			if err != nil {
				return nil, fmt.Errorf("bookingsync: EnsureHost: lock: %w", err)
			}
			defer unlock()
			// Another process may have added it since the read above.
			if parts, err = s.ofConversation(ctx, conversationID); err != nil {
				return nil, err
			}
			s.client.senders.participants(parts, nil, nil)
			if p := findHost(parts, conversationID, hostID); p != nil {
				return p, nil
			}
		}
		p, _, err := s.AddHost(ctx, conversationID, hostID)
		if err == nil {
			cp := *p
			s.client.hostsAdded.put(key, &cp)
		}
		return p, err
	})
}

// findHost returns the host's participant among parts, the oldest when
// the conversation holds duplicates, or nil.
func findHost(parts []*Participant, conversationID, hostID int64) *Participant {
	var oldest *Participant
	for _, p := range parts {
		if p != nil && p.IsHost() && p.Links.Member.ID == hostID &&
			(p.Links.Conversation == 0 || p.Links.Conversation == conversationID) &&
			(oldest == nil || olderThan(p, oldest)) {
			oldest = p
		}
	}
	return oldest
}

// WithHostLocker makes EnsureHost, EnsureHostFor and SendAsHost safe across
// processes: when the host has no participant yet, they take the Locker
// lock(conversationID, hostID) returns, read the conversation's
// participants again and create the participant only if it is still
// missing. The API accepts duplicate Host participants, so without a lock
// shared by every process (inboxsync's Fleet.Client uses one in the
// database), two replicas can each add one. Within one Client, concurrent
// calls already share one execution.
func WithHostLocker(lock func(conversationID, hostID int64) Locker) Option {
	return func(c *Client) error {
		c.hostLocker = lock
		return nil
	}
}

// olderThan orders duplicate Host participants: lowest CreatedAt, then
// lowest ID.
func olderThan(p, q *Participant) bool {
	if !p.CreatedAt.Equal(q.CreatedAt) {
		return p.CreatedAt.Before(q.CreatedAt)
	}
	return p.ID < q.ID
}

// ofConversation returns a conversation's participants.
func (s *ParticipantsService) ofConversation(ctx context.Context, conversationID int64) ([]*Participant, error) {
	c, _, err := s.client.Conversations.GetWith(ctx, conversationID, &ConversationGetOptions{Include: []string{"participants"}})
	if err != nil {
		return nil, err
	}
	if c.Participants != nil || len(c.Links.Participants) == 0 {
		return c.Participants, nil
	}
	parts, _, err := s.GetMany(ctx, c.Links.Participants)
	return parts, err
}
