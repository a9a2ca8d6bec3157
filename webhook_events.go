package bookingsync

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// The webhook events of the resources this package reads, as the
// reference's list of events names them (63 events in all; the others,
// of amenities, photos, fees, users, discount codes…, come through as
// their names in WebhookEvent.Event, their resource undecoded). The
// reference lists no event for participants, attachments or hosts: a
// change to one arrives, if at all, as the conversation's or message's
// updated event. Event names the API adds later pass through the same way.
const (
	EventInboxConversationCreated = "inbox_conversation_created"
	EventInboxConversationUpdated = "inbox_conversation_updated"
	EventInboxMessageCreated      = "inbox_message_created"
	EventInboxMessageUpdated      = "inbox_message_updated"

	EventBookingCreated   = "booking_created"
	EventBookingUpdated   = "booking_updated"
	EventBookingDestroyed = "booking_destroyed"

	EventBookingCommentCreated   = "booking_comment_created"
	EventBookingCommentUpdated   = "booking_comment_updated"
	EventBookingCommentDestroyed = "booking_comment_destroyed"

	EventPaymentCreated   = "payment_created"
	EventPaymentUpdated   = "payment_updated"
	EventPaymentDestroyed = "payment_destroyed"

	EventClientCreated   = "client_created"
	EventClientUpdated   = "client_updated"
	EventClientDestroyed = "client_destroyed"

	EventRentalCreated   = "rental_created"
	EventRentalUpdated   = "rental_updated"
	EventRentalDestroyed = "rental_destroyed"

	EventInquiryCreated   = "inquiry_created"
	EventInquiryUpdated   = "inquiry_updated"
	EventInquiryDestroyed = "inquiry_destroyed"

	EventReviewCreated      = "review_created"
	EventReviewUpdated      = "review_updated"
	EventReviewReplyCreated = "review_reply_created"

	EventAccountUpdated   = "account_updated"
	EventAccountDestroyed = "account_destroyed"

	// The application installed on (created), changed on (updated) or
	// removed from (destroyed) the account; see AccountsApplication.
	EventApplicationCreated   = "accounts_application_created"
	EventApplicationUpdated   = "accounts_application_updated"
	EventApplicationDestroyed = "accounts_application_destroyed"
)

// eventRecord is the record an event carries, by the names its envelope
// uses: singular in the reference's example, plural as the API lists it.
type eventRecord struct{ singular, plural string }

// webhookEvents maps each event above to its record; typedEvents lists
// them in the order above.
var webhookEvents, typedEvents = func() (map[string]eventRecord, []string) {
	m := map[string]eventRecord{}
	var names []string
	for _, r := range []struct {
		singular, plural, prefix string
		actions                  []string
	}{
		{"conversation", "conversations", "inbox_conversation", []string{"created", "updated"}},
		{"message", "messages", "inbox_message", []string{"created", "updated"}},
		{"booking", "bookings", "booking", []string{"created", "updated", "destroyed"}},
		{"booking_comment", "booking_comments", "booking_comment", []string{"created", "updated", "destroyed"}},
		{"payment", "payments", "payment", []string{"created", "updated", "destroyed"}},
		{"client", "clients", "client", []string{"created", "updated", "destroyed"}},
		{"rental", "rentals", "rental", []string{"created", "updated", "destroyed"}},
		{"inquiry", "inquiries", "inquiry", []string{"created", "updated", "destroyed"}},
		{"review", "reviews", "review", []string{"created", "updated"}},
		{"review_reply", "review_replies", "review_reply", []string{"created"}},
		{"account", "accounts", "account", []string{"updated", "destroyed"}},
		{"accounts_application", "accounts_applications", "accounts_application", []string{"created", "updated", "destroyed"}},
	} {
		for _, a := range r.actions {
			m[r.prefix+"_"+a] = eventRecord{r.singular, r.plural}
			names = append(names, r.prefix+"_"+a)
		}
	}
	return m, names
}()

// TypedEvents lists the events this package types (the Event constants),
// grouped by resource as the reference lists them: the events
// EventResource and RecordID know. The slice is the caller's.
func TypedEvents() []string { return slices.Clone(typedEvents) }

// EventResource names the API resource an event is about, as the API's
// envelopes name it ("conversations", "bookings", "clients",
// "accounts_applications", …), and what happened to its record
// ("created", "updated" or "destroyed"). ok is false for an event this
// package does not type (see the Event constants): its resource is left
// for the caller to read.
func EventResource(event string) (resource, action string, ok bool) {
	r, ok := webhookEvents[event]
	if !ok {
		return "", "", false
	}
	return r.plural, event[strings.LastIndexByte(event, '_')+1:], true
}

// RecordID returns the id of the record a typed event carries (see
// EventResource), to re-read it through the API. It fails with
// ErrWrongEventKind for an event this package does not type, and with
// ErrMalformedWebhook when the record or its integer id is missing (a
// review reply's id is a UUID: read it with ReviewReply).
func (e *WebhookEvent) RecordID() (int64, error) {
	if e == nil {
		return 0, fmt.Errorf("%w: nil event", ErrMalformedWebhook)
	}
	r, ok := webhookEvents[e.Event]
	if !ok {
		return 0, fmt.Errorf("%w: %q is not an event this package types", ErrWrongEventKind, e.Event)
	}
	rec, err := decodeRecord[struct {
		ID flexInt `json:"id"`
	}](e, r.singular, r.plural)
	if err != nil {
		return 0, err
	}
	if rec.ID <= 0 {
		return 0, fmt.Errorf("%w: %s: the %s has no id", ErrMalformedWebhook, e.Event, r.singular)
	}
	return int64(rec.ID), nil
}

// Conversation decodes the conversation of an inbox_conversation_created or
// inbox_conversation_updated event. See Message for the accepted shapes.
func (e *WebhookEvent) Conversation() (*Conversation, error) {
	return decodeEvent[Conversation](e, "conversations")
}

// Message decodes the message of an inbox_message_created or
// inbox_message_updated event. Called on an event of another kind it fails
// with ErrWrongEventKind.
//
// The resource comes as the API serializes it: an envelope with links and
// the record under its singular name ({"links":…,"message":{…}}, as in the
// reference's example) or its plural name with an array
// ({"links":…,"messages":[{…}]}). Either name may hold an object or an
// array; an array must hold exactly one record, since a delivery is about
// one record and taking the first of several would hide the rest. A bare
// record (an object with an "id" and neither name) is accepted too. Any
// other shape fails with ErrMalformedWebhook. Every typed accessor reads
// these shapes.
func (e *WebhookEvent) Message() (*Message, error) {
	return decodeEvent[Message](e, "messages")
}

// Booking decodes the booking of a booking_created, _updated or _destroyed
// event. See Message for the accepted shapes.
func (e *WebhookEvent) Booking() (*Booking, error) {
	return decodeEvent[Booking](e, "bookings")
}

// BookingComment decodes the comment of a booking_comment_created,
// _updated or _destroyed event.
func (e *WebhookEvent) BookingComment() (*BookingComment, error) {
	return decodeEvent[BookingComment](e, "booking_comments")
}

// Payment decodes the payment of a payment_created, _updated or
// _destroyed event.
func (e *WebhookEvent) Payment() (*Payment, error) {
	return decodeEvent[Payment](e, "payments")
}

// Guest decodes the client (the guest) of a client_created, _updated or
// _destroyed event; the reference's example delivery is one of these.
func (e *WebhookEvent) Guest() (*Guest, error) {
	return decodeEvent[Guest](e, "clients")
}

// Rental decodes the rental of a rental_created, _updated or _destroyed
// event.
func (e *WebhookEvent) Rental() (*Rental, error) {
	return decodeEvent[Rental](e, "rentals")
}

// Inquiry decodes the inquiry of an inquiry_created, _updated or
// _destroyed event.
func (e *WebhookEvent) Inquiry() (*Inquiry, error) {
	return decodeEvent[Inquiry](e, "inquiries")
}

// Review decodes the review of a review_created or review_updated event.
func (e *WebhookEvent) Review() (*Review, error) {
	return decodeEvent[Review](e, "reviews")
}

// ReviewReply decodes the reply of a review_reply_created event. The
// reference does not show this payload; the record is read as the
// recordings show review replies elsewhere (a guess).
func (e *WebhookEvent) ReviewReply() (*ReviewReply, error) {
	return decodeEvent[ReviewReply](e, "review_replies")
}

// Account decodes the account of an account_updated or account_destroyed
// event.
func (e *WebhookEvent) Account() (*Account, error) {
	return decodeEvent[Account](e, "accounts")
}

// AccountsApplication decodes the record of an
// accounts_application_created, _updated or _destroyed event: the
// application as installed on the account, which GET /me returns for a
// token (the account under links.account, the invoice recipient). The
// reference shows this record only at /me; that a delivery carries it
// in that shape, under "accounts_application", is a guess, as the
// reference's example of a delivery is of another resource. The account
// is also the event's AccountID.
func (e *WebhookEvent) AccountsApplication() (*Me, error) {
	return decodeEvent[Me](e, "accounts_applications")
}

// Application decodes an accounts_application_* event's resource as an
// Application, when the delivery carries one under "application" or
// "applications". The reference and /me show an accounts_application
// record instead (see AccountsApplication), which this fails to find
// (ErrMalformedWebhook); it stays for deliveries shaped the older way.
func (e *WebhookEvent) Application() (*Application, error) {
	if e != nil && !slices.Contains([]string{EventApplicationCreated, EventApplicationUpdated, EventApplicationDestroyed}, e.Event) {
		return nil, fmt.Errorf("%w: %q event does not carry an application", ErrWrongEventKind, e.Event)
	}
	return decodeRecord[Application](e, "application", "applications")
}

// decodeEvent is the typed accessors' one implementation: it checks that
// the event carries a record of plural and decodes it into a T.
func decodeEvent[T any](e *WebhookEvent, plural string) (*T, error) {
	if e == nil {
		return nil, fmt.Errorf("%w: nil event", ErrMalformedWebhook)
	}
	r, ok := webhookEvents[e.Event]
	if !ok || r.plural != plural {
		return nil, fmt.Errorf("%w: %q event does not carry %s", ErrWrongEventKind, e.Event, plural)
	}
	return decodeRecord[T](e, r.singular, r.plural)
}

// decodeRecord finds the record in an event's resource, under singular
// or plural (see Message), and decodes it into a T.
func decodeRecord[T any](e *WebhookEvent, singular, plural string) (*T, error) {
	if e == nil {
		return nil, fmt.Errorf("%w: nil event", ErrMalformedWebhook)
	}
	var env map[string]json.RawMessage
	if err := json.Unmarshal(e.Resource, &env); err != nil || env == nil {
		return nil, fmt.Errorf("%w: %s: resource is not a JSON object", ErrMalformedWebhook, e.Event)
	}
	one, hasOne := env[singular]
	many, hasMany := env[plural]
	var raw json.RawMessage
	switch {
	case hasOne && hasMany:
		return nil, fmt.Errorf("%w: %s: resource holds both %q and %q", ErrMalformedWebhook, e.Event, singular, plural)
	case hasOne:
		raw = one
	case hasMany:
		raw = many
	case env["id"] != nil:
		raw = e.Resource
	default:
		return nil, fmt.Errorf("%w: %s: resource holds no %s", ErrMalformedWebhook, e.Event, singular)
	}
	if t := bytes.TrimSpace(raw); len(t) > 0 && t[0] == '[' {
		var list []json.RawMessage
		if err := json.Unmarshal(t, &list); err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrMalformedWebhook, e.Event, err)
		}
		if len(list) != 1 {
			return nil, fmt.Errorf("%w: %s: resource holds %d %s, want exactly one", ErrMalformedWebhook, e.Event, len(list), plural)
		}
		raw = list[0]
	}
	if t := bytes.TrimSpace(raw); len(t) == 0 || t[0] != '{' {
		return nil, fmt.Errorf("%w: %s: the %s is not a JSON object", ErrMalformedWebhook, e.Event, singular)
	}
	v := new(T)
	if err := json.Unmarshal(raw, v); err != nil {
		return nil, fmt.Errorf("%w: %s: decoding the %s: %w", ErrMalformedWebhook, e.Event, singular, err)
	}
	return v, nil
}
