package bookingsync

import (
	"context"
	"encoding/json"
	"iter"
	"time"
)

// Channel is the channel a conversation or message travels on. Values the
// API adds later decode as they come.
type Channel string

// The documented channels.
const (
	ChannelAirbnb     Channel = "airbnb"
	ChannelBookingCom Channel = "booking-com"
	ChannelHomeAway   Channel = "homeaway"
	ChannelEmail      Channel = "email"
)

// Conversation is an Inbox conversation. Channels (Booking.com, Airbnb)
// create one for each booking made through them; see Origin.
type Conversation struct {
	ID             int64   `json:"id"`
	Subject        string  `json:"subject"`
	DefaultChannel Channel `json:"default_channel"`

	CreatedAt          time.Time  `json:"created_at"`
	UpdatedAt          time.Time  `json:"updated_at"`
	ClosedAt           *time.Time `json:"closed_at"`
	DeadlineResponseAt *time.Time `json:"deadline_response_at"`
	LastMessageAt      *time.Time `json:"last_message_at"`
	MarkedAsSpamAt     *time.Time `json:"marked_as_spam_at"`
	ReadAt             *time.Time `json:"read_at"`

	// CreatedBy names the creator: for a channel-created conversation
	// {Type: "Doorkeeper::Application", ID: <application id>}, else a User.
	// It is filled from the created_by_id/created_by_type attributes or
	// from a created_by link, whichever the payload has; zero when neither.
	CreatedBy Polymorphic `json:"created_by"`

	Links ConversationLinks `json:"links"`

	// Participants holds the participants when the listing asked for
	// Include: []string{"participants"}; nil otherwise.
	Participants []*Participant `json:"participants,omitempty"`
	// Messages holds the messages when the listing asked for
	// Include: []string{"messages"}; nil otherwise.
	Messages []*Message `json:"messages,omitempty"`
}

// ConversationLinks are a conversation's associations, by id.
type ConversationLinks struct {
	Account      int64        `json:"account"`
	Assignee     *int64       `json:"assignee"` // a Host id
	Source       *int64       `json:"source"`
	Bookings     []int64      `json:"bookings"`
	Inquiries    []int64      `json:"inquiries"`
	Messages     []int64      `json:"messages"`
	Participants []int64      `json:"participants"`
	CreatedBy    *Polymorphic `json:"created_by,omitempty"`
}

// IsClosed reports whether the conversation has been closed.
func (c *Conversation) IsClosed() bool { return c.ClosedAt != nil }

// UnmarshalJSON fills CreatedBy from either wire form.
func (c *Conversation) UnmarshalJSON(b []byte) error {
	return unmarshalWire(b, c, (*conversationWire).fold)
}

// decodeTypedPage is the typed page of conversations (see typedPage).
func (*Conversation) decodeTypedPage(body []byte) ([]*Conversation, Meta, error) {
	var root struct {
		Conversations []*conversationWire `json:"conversations"`
		Meta          Meta                `json:"meta"`
	}
	if err := json.Unmarshal(body, &root); err != nil {
		return nil, Meta{}, err
	}
	items, err := foldAll("conversations", root.Conversations, (*conversationWire).fold)
	return items, root.Meta, err
}

// conversationWire is a Conversation as the wire has it.
type conversationWire struct {
	conversationFields
	creatorAttrs
}

// conversationFields is Conversation without its methods.
type conversationFields Conversation

func (w *conversationWire) fold() (*Conversation, error) {
	c := (*Conversation)(&w.conversationFields)
	c.CreatedBy = w.resolve(c.CreatedBy, c.Links.CreatedBy)
	if err := noNull("participants", c.Participants); err != nil {
		return nil, err
	}
	return c, noNull("messages", c.Messages)
}

// ConversationListOptions filter a conversations listing.
type ConversationListOptions struct {
	ListOptions
	// Include sideloads associations: "participants", "messages".
	Include []string `url:"include,comma,omitempty"`
}

// ConversationGetOptions are the options of Get and GetMany.
type ConversationGetOptions struct {
	Fields  []string `url:"fields,comma,omitempty"`
	Include []string `url:"include,comma,omitempty"`
}

// ConversationUpdate is what an update may change; nil fields are left as
// they are.
type ConversationUpdate struct {
	// AssigneeID assigns the conversation to a Host.
	AssigneeID *int64 `json:"assignee_id,omitempty"`
	// Unassign clears the assignee (sends assignee_id null).
	Unassign bool `json:"-"`
	// Closed closes (true) or reopens (false) the conversation.
	Closed         *bool    `json:"closed,omitempty"`
	DefaultChannel *Channel `json:"default_channel,omitempty"`
	MarkedAsSpam   *bool    `json:"marked_as_spam,omitempty"`
}

// MarshalJSON writes assignee_id null when Unassign is set.
func (u ConversationUpdate) MarshalJSON() ([]byte, error) {
	type plain ConversationUpdate
	if !u.Unassign {
		return json.Marshal(plain(u))
	}
	return json.Marshal(struct {
		plain
		AssigneeID *int64 `json:"assignee_id"`
	}{plain: plain(u)})
}

func (s *ConversationsService) res() resource[Conversation] {
	return newResource[Conversation](s.client, "inbox/conversations", "conversations").needs(ScopeInboxRead)
}

// List returns one page of conversations.
//
// GET /inbox/conversations
func (s *ConversationsService) List(ctx context.Context, opts *ConversationListOptions) ([]*Conversation, *Response, error) {
	return s.client.senders.conversations(s.res().list(ctx, opts))
}

// All iterates over every conversation, page after page, fetching lazily.
//
// GET /inbox/conversations?page={n}
func (s *ConversationsService) All(ctx context.Context, opts *ConversationListOptions) iter.Seq2[*Conversation, error] {
	return allPages(ctx, s.client, opts, s.List)
}

// Get returns one conversation.
//
// GET /inbox/conversations/{id}
func (s *ConversationsService) Get(ctx context.Context, id int64) (*Conversation, *Response, error) {
	return s.res().get(ctx, id, nil)
}

// GetWith returns one conversation with field limiting or sideloading.
//
// GET /inbox/conversations/{id}?fields=…&include=…
func (s *ConversationsService) GetWith(ctx context.Context, id int64, opts *ConversationGetOptions) (*Conversation, *Response, error) {
	return s.client.senders.conversation(s.res().get(ctx, id, opts))
}

// GetMany returns the conversations with the given ids, a hundred ids a
// request, each answer read to its last page (the API pages it like a
// listing, rentals 50 a page); unknown ids are absent from the result.
//
// GET /inbox/conversations/{id},{id},…
func (s *ConversationsService) GetMany(ctx context.Context, ids []int64) ([]*Conversation, *Response, error) {
	return s.res().getMany(ctx, ids, nil)
}

// GetManyWith is GetMany with field limiting or sideloading, the options
// GetWith takes; the options go with every request.
//
// GET /inbox/conversations/{id},{id},…?fields=…&include=…
func (s *ConversationsService) GetManyWith(ctx context.Context, ids []int64, opts *ConversationGetOptions) ([]*Conversation, *Response, error) {
	return s.client.senders.conversations(s.res().getMany(ctx, ids, opts))
}

// Update changes a conversation's assignee, state, default channel or spam
// mark.
//
// PUT /inbox/conversations/{id}
func (s *ConversationsService) Update(ctx context.Context, id int64, u *ConversationUpdate) (*Conversation, *Response, error) {
	if u == nil {
		u = &ConversationUpdate{}
	}
	return s.res().update(ctx, id, u)
}

// ConnectBooking links a booking to the conversation.
//
// PUT /inbox/conversations/{id}/connect_booking
func (s *ConversationsService) ConnectBooking(ctx context.Context, id, bookingID int64) (*Conversation, *Response, error) {
	return s.res().action(ctx, id, "connect_booking", "bookings", bookingID)
}

// DisconnectBooking unlinks a booking from the conversation.
//
// PUT /inbox/conversations/{id}/disconnect_booking
func (s *ConversationsService) DisconnectBooking(ctx context.Context, id, bookingID int64) (*Conversation, *Response, error) {
	return s.res().action(ctx, id, "disconnect_booking", "bookings", bookingID)
}
