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
	Conversation int64 `json:"conversation"`
	// Sender is the sending participant's id.
	Sender      *int64       `json:"sender"`
	Attachments []int64      `json:"attachments"`
	CreatedBy   *Polymorphic `json:"created_by,omitempty"`
}

// UnmarshalJSON fills CreatedBy from either wire form.
func (m *Message) UnmarshalJSON(b []byte) error {
	type plain Message
	w := struct {
		*plain
		creatorAttrs
	}{plain: (*plain)(m)}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	m.CreatedBy = w.resolve(m.CreatedBy, m.Links.CreatedBy)
	return nil
}

func (s *MessagesService) res() resource[Message] {
	return newResource[Message](s.client, "inbox/messages", "messages")
}

// List returns one page of messages.
func (s *MessagesService) List(ctx context.Context, opts *ListOptions) ([]*Message, *Response, error) {
	return s.res().list(ctx, opts)
}

// All iterates over every message, page after page.
func (s *MessagesService) All(ctx context.Context, opts *ListOptions) iter.Seq2[*Message, error] {
	return allPages(ctx, s.client, opts, s.List)
}

// Get returns one message.
func (s *MessagesService) Get(ctx context.Context, id int64) (*Message, *Response, error) {
	return s.res().get(ctx, id, nil)
}

// GetMany returns the messages with the given ids.
func (s *MessagesService) GetMany(ctx context.Context, ids []int64) ([]*Message, *Response, error) {
	return s.res().getMany(ctx, ids, nil)
}
