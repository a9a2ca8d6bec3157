package bookingsync

import (
	"context"
	"encoding/json"
	"iter"
	"time"
)

// MessageOrigin is where a message came from. Values the API adds later
// decode as they come.
type MessageOrigin string

// The documented message origins.
const (
	OriginBookingSyncInbox MessageOrigin = "bookingsync_inbox"
	OriginAirbnbMessage    MessageOrigin = "airbnb_message"
	OriginAirbnbEmail      MessageOrigin = "airbnb_email"
	OriginBookingCom       MessageOrigin = "booking-com"
	OriginHomeAway         MessageOrigin = "homeaway"
	OriginTripAdvisor      MessageOrigin = "tripadvisor"
	OriginEmail            MessageOrigin = "email"
	OriginMessenger        MessageOrigin = "messenger"
	OriginWhatsApp         MessageOrigin = "whatsapp"
	OriginInquiry          MessageOrigin = "inquiry"
	OriginSMS              MessageOrigin = "sms"
)

// Visibility says who sees a message. Values the API adds later decode as
// they come.
type Visibility string

// Message visibilities.
const (
	// VisibilityInternal is seen by the account's hosts only; it cannot go
	// on a channel nor come from a Client.
	VisibilityInternal Visibility = "internal"
	// VisibilityExternal reaches the guest.
	VisibilityExternal Visibility = "external"
	// VisibilityAll is seen in real payloads, undocumented.
	VisibilityAll Visibility = "all"
)

// Message is a message in a conversation.
type Message struct {
	ID         int64         `json:"id"`
	Content    string        `json:"content"`
	Origin     MessageOrigin `json:"origin"`
	Visibility Visibility    `json:"visibility"`
	Channel    Channel       `json:"channel"`
	SentAt     *time.Time    `json:"sent_at"`
	CreatedAt  time.Time     `json:"created_at"`
	UpdatedAt  time.Time     `json:"updated_at"`
	// CreatedBy names the creator, from either wire form; zero when absent.
	CreatedBy Polymorphic `json:"created_by"`

	Links MessageLinks `json:"links"`
}

// MessageLinks are a message's associations.
type MessageLinks struct {
	// Account is the account's id; 0 when the payload lacks it (the
	// reference's examples do, the live API sends it).
	Account      int64 `json:"account"`
	Conversation int64 `json:"conversation"`
	// Sender is the sending participant's id.
	Sender      *int64       `json:"sender"`
	Attachments []int64      `json:"attachments"`
	CreatedBy   *Polymorphic `json:"created_by,omitempty"`
}

// UnmarshalJSON fills CreatedBy from either wire form.
func (m *Message) UnmarshalJSON(b []byte) error {
	return unmarshalWire(b, m, (*messageWire).fold)
}

// decodeTypedPage is the typed page of messages (see typedPage).
func (*Message) decodeTypedPage(body []byte) ([]*Message, Meta, error) {
	var root struct {
		Messages []*messageWire `json:"messages"`
		Meta     Meta           `json:"meta"`
	}
	if err := json.Unmarshal(body, &root); err != nil {
		return nil, Meta{}, err
	}
	items, err := foldAll("messages", root.Messages, (*messageWire).fold)
	return items, root.Meta, err
}

// messageWire is a Message as the wire has it.
type messageWire struct {
	messageFields
	creatorAttrs
}

// messageFields is Message without its methods.
type messageFields Message

func (w *messageWire) fold() (*Message, error) {
	m := (*Message)(&w.messageFields)
	m.CreatedBy = w.resolve(m.CreatedBy, m.Links.CreatedBy)
	return m, nil
}

func (s *MessagesService) res() resource[Message] {
	return newResource[Message](s.client, "inbox/messages", "messages").needs(ScopeInboxRead)
}

// List returns one page of messages.
//
// GET /inbox/messages
func (s *MessagesService) List(ctx context.Context, opts *ListOptions) ([]*Message, *Response, error) {
	return s.res().list(ctx, opts)
}

// All iterates over every message, page after page, fetching lazily.
//
// GET /inbox/messages?page={n}
func (s *MessagesService) All(ctx context.Context, opts *ListOptions) iter.Seq2[*Message, error] {
	return allPages(ctx, s.client, opts, s.List)
}

// Get returns one message.
//
// GET /inbox/messages/{id}
func (s *MessagesService) Get(ctx context.Context, id int64) (*Message, *Response, error) {
	return s.res().get(ctx, id, nil)
}

// GetMany returns the messages with the given ids, a hundred ids a
// request, each answer read to its last page (the API pages it like a
// listing, rentals 50 a page); unknown ids are absent from the result.
//
// GET /inbox/messages/{id},{id},…
func (s *MessagesService) GetMany(ctx context.Context, ids []int64) ([]*Message, *Response, error) {
	return s.res().getMany(ctx, ids, nil)
}

// GetWith is Get with field limiting and sideloading (opts).
//
// GET /inbox/messages/{id}?fields=…
func (s *MessagesService) GetWith(ctx context.Context, id int64, opts *GetOptions) (*Message, *Response, error) {
	return s.res().get(ctx, id, opts)
}

// GetManyWith is GetMany with field limiting and sideloading (opts), sent
// with every request.
//
// GET /inbox/messages/{id},{id},…?fields=…
func (s *MessagesService) GetManyWith(ctx context.Context, ids []int64, opts *GetOptions) ([]*Message, *Response, error) {
	return s.res().getMany(ctx, ids, opts)
}

// NewMessage is the body of Messages.Create.
//
// ConversationID, SenderID (a Host participant's id), Content, Origin and
// Visibility are required; VisibilityInternal cannot go with a Channel.
// A zero SentAt is sent as the current time. SentAt is sent in UTC, to the
// second.
type NewMessage struct {
	ConversationID int64         `json:"conversation_id"`
	SenderID       int64         `json:"sender_id"`
	Content        string        `json:"content"`
	Origin         MessageOrigin `json:"origin"`
	Visibility     Visibility    `json:"visibility"`
	// Channel sends the message out on that channel; "" leaves it to the
	// API.
	Channel       Channel   `json:"channel,omitempty"`
	SentAt        time.Time `json:"sent_at"`
	AttachmentIDs []int64   `json:"attachment_ids,omitempty"`
}

// MarshalJSON writes SentAt in UTC to the second, as the API expects, and
// omits it when zero.
func (m NewMessage) MarshalJSON() ([]byte, error) {
	type plain NewMessage
	return json.Marshal(struct {
		plain
		SentAt string `json:"sent_at,omitempty"`
	}{plain(m), formatTime(m.SentAt)})
}

// Create sends a message. It is validated first (see NewMessage); an
// invalid message fails with an error wrapping ErrInvalidRequest and
// nothing is sent. m is not modified.
//
// Only Host participants send messages. A sender that is a Client
// participant (the guest) is refused with a *RefusedError wrapping
// ErrRefused, and nothing is sent; send as a host with SendAsHost or a
// participant from Participants.EnsureHost. To know the sender's member
// type the client reads the participant once (GET
// /inbox/participants/{id}) and remembers it: a participant's member never
// changes. Participants this client has already read, seen sideloaded
// with their conversation, or created or found as hosts (AddHost,
// EnsureHost, SendAsHost) cost no read. When the read fails (an unknown
// sender: ErrNotFound) nothing is sent either.
//
// GET /inbox/participants/{id} (a sender not yet known), POST /inbox/messages
func (s *MessagesService) Create(ctx context.Context, m *NewMessage) (*Message, *Response, error) {
	if err := m.validate(true); err != nil {
		return nil, nil, err
	}
	body := *m
	if body.SentAt.IsZero() {
		body.SentAt = s.client.now()
	}
	return s.res().create(ctx, body)
}

// SendAsHost sends m in the conversation as the host: it finds or creates
// the host's participant (Participants.EnsureHost) and sends with that
// participant as sender. ConversationID and SenderID of m are ignored and
// m is not modified. An empty Origin defaults to OriginBookingSyncInbox and
// an empty Visibility to VisibilityExternal (the guest sees it).
//
// The message is validated before any request. It costs one request to
// read the conversation's participants, one more when the host has no
// participant yet, and one to send: the sender is known to be a Host, so
// the check Create makes costs no read.
//
// GET /inbox/conversations/{id}?include=participants, POST /inbox/participants (when missing), POST /inbox/messages
func (s *MessagesService) SendAsHost(ctx context.Context, conversationID, hostID int64, m *NewMessage) (*Message, error) {
	if m == nil {
		return nil, invalid("new message", "nil")
	}
	body := *m
	body.ConversationID = conversationID
	if body.Origin == "" {
		body.Origin = OriginBookingSyncInbox
	}
	if body.Visibility == "" {
		body.Visibility = VisibilityExternal
	}
	if err := body.validate(false); err != nil {
		return nil, err
	}
	if err := checkID("hosts", hostID); err != nil {
		return nil, err
	}
	p, err := s.client.Participants.EnsureHost(ctx, conversationID, hostID)
	if err != nil {
		return nil, err
	}
	body.SenderID = p.ID
	msg, _, err := s.Create(ctx, &body)
	return msg, err
}

// MessageUpdate is what Messages.Update may change; nil and empty fields
// are left as they are.
type MessageUpdate struct {
	Content       *string        `json:"content,omitempty"`
	Origin        *MessageOrigin `json:"origin,omitempty"`
	Visibility    *Visibility    `json:"visibility,omitempty"`
	Channel       *Channel       `json:"channel,omitempty"`
	AttachmentIDs []int64        `json:"attachment_ids,omitempty"`
}

// Update changes a message. Setting VisibilityInternal together with a
// Channel, or an empty content, fails with ErrInvalidRequest before any
// request.
//
// PUT /inbox/messages/{id}
func (s *MessagesService) Update(ctx context.Context, id int64, u *MessageUpdate) (*Message, *Response, error) {
	if u == nil {
		u = &MessageUpdate{}
	}
	if err := u.validate(); err != nil {
		return nil, nil, err
	}
	return s.res().update(ctx, id, u)
}

// AddAttachment attaches an uploaded attachment (Attachments.Create) to
// the message.
//
// PUT /inbox/messages/{id}/add_attachment
func (s *MessagesService) AddAttachment(ctx context.Context, messageID, attachmentID int64) (*Message, *Response, error) {
	return s.res().action(ctx, messageID, "add_attachment", "attachments", attachmentID)
}
