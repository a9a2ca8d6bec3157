package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/go-bookingsync/bookingsync"
)

// The views below are what `conversations` and `show` print, and, as they
// are, what --json writes: their JSON names are part of the tool's contract.

// ref names a related record: its id, and its name when it could be read.
type ref struct {
	ID   int64  `json:"id"`
	Name string `json:"name,omitempty"`
}

// label is a ref for a table: its name, else "<kind> <id>", else "-".
func (r *ref) label(kind string) string {
	switch {
	case r == nil:
		return "-"
	case r.Name != "":
		return r.Name
	}
	return fmt.Sprintf("%s %d", kind, r.ID)
}

// messageView is one message of a thread.
type messageView struct {
	ID         int64      `json:"id"`
	SentAt     *time.Time `json:"sent_at"` // sent_at, else created_at
	From       string     `json:"from"`    // "guest", "host" or "unknown"
	Sender     *ref       `json:"sender"`  // the guest (client) or host, when known
	Content    string     `json:"content"`
	Visibility string     `json:"visibility"`
	Channel    string     `json:"channel,omitempty"`
}

// conversationView is one conversation with what an inbox shows of it.
type conversationView struct {
	ID            int64          `json:"id"`
	Subject       string         `json:"subject"`
	Channel       string         `json:"channel"` // where it came from (Origin), "" when unknown
	Guest         *ref           `json:"guest"`   // a client
	Rental        *ref           `json:"rental"`
	BookingID     *int64         `json:"booking_id"`
	Closed        bool           `json:"closed"`
	AwaitingReply bool           `json:"awaiting_reply"` // open, and the guest wrote last
	LastMessage   *messageView   `json:"last_message"`
	Messages      []*messageView `json:"messages,omitempty"` // `show` only, oldest first
}

// inbox builds views, reading what a view needs in as few requests as it
// can: one per distinct application (Origin's cache), one per 50 bookings,
// hosts or clients.
type inbox struct {
	cl *bookingsync.Client
}

// include sideloads what a view needs with the conversations.
var include = []string{"participants", "messages"}

// views turns conversations fetched with include into views; messages are
// kept only when thread is true.
func (in *inbox) views(ctx context.Context, convs []*bookingsync.Conversation, thread bool) ([]*conversationView, error) {
	rentals, err := in.rentals(ctx, convs)
	if err != nil {
		return nil, err
	}
	var hosts map[int64]*ref
	if thread {
		if hosts, err = in.hosts(ctx, convs); err != nil {
			return nil, err
		}
	}
	out := make([]*conversationView, 0, len(convs))
	for _, c := range convs {
		o, err := in.cl.Conversations.Origin(ctx, c)
		if err != nil {
			return nil, err
		}
		v := &conversationView{ID: c.ID, Subject: c.Subject, Channel: string(o.Channel), Closed: c.IsClosed()}
		if len(c.Links.Bookings) > 0 {
			v.BookingID = &c.Links.Bookings[0]
			v.Rental = rentals[c.Links.Bookings[0]]
		}
		byID := map[int64]*bookingsync.Participant{}
		for _, p := range c.Participants {
			byID[p.ID] = p
			if p.IsClient() && v.Guest == nil {
				v.Guest = &ref{ID: p.Links.Member.ID}
			}
		}
		msgs := slices.Clone(c.Messages)
		slices.SortStableFunc(msgs, func(a, b *bookingsync.Message) int {
			return cmp.Or(sentAt(a).Compare(sentAt(b)), cmp.Compare(a.ID, b.ID))
		})
		for _, m := range msgs {
			mv := message(m, byID, hosts, v.Guest)
			if thread {
				v.Messages = append(v.Messages, mv)
			}
			if m.Visibility != bookingsync.VisibilityInternal {
				v.LastMessage = mv
			}
		}
		v.AwaitingReply = !v.Closed && v.LastMessage != nil && v.LastMessage.From == "guest"
		out = append(out, v)
	}
	return out, nil
}

func sentAt(m *bookingsync.Message) time.Time {
	if m.SentAt != nil {
		return *m.SentAt
	}
	return m.CreatedAt
}

// message is the view of m; its sender is looked up among the
// conversation's participants.
func message(m *bookingsync.Message, participants map[int64]*bookingsync.Participant, hosts map[int64]*ref, guest *ref) *messageView {
	t := sentAt(m)
	v := &messageView{ID: m.ID, SentAt: &t, From: "unknown", Content: m.Content, Visibility: string(m.Visibility), Channel: string(m.Channel)}
	if m.Links.Sender == nil {
		return v
	}
	p := participants[*m.Links.Sender]
	switch {
	case p == nil:
	case p.IsClient():
		v.From, v.Sender = "guest", &ref{ID: p.Links.Member.ID}
		if guest != nil && guest.ID == p.Links.Member.ID {
			v.Sender = guest
		}
	case p.IsHost():
		v.From, v.Sender = "host", cmp.Or(hosts[p.Links.Member.ID], &ref{ID: p.Links.Member.ID})
	}
	return v
}

// rentals maps each conversation's first booking to its rental. A token
// that may not read bookings leaves the rentals unknown.
func (in *inbox) rentals(ctx context.Context, convs []*bookingsync.Conversation) (map[int64]*ref, error) {
	var ids []int64
	for _, c := range convs {
		if len(c.Links.Bookings) > 0 && !slices.Contains(ids, c.Links.Bookings[0]) {
			ids = append(ids, c.Links.Bookings[0])
		}
	}
	out := map[int64]*ref{}
	if len(ids) == 0 {
		return out, nil
	}
	bookings, _, err := in.cl.Bookings.GetMany(ctx, ids)
	if errors.Is(err, bookingsync.ErrForbidden) || errors.Is(err, bookingsync.ErrNotFound) {
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	for _, b := range bookings {
		if b.Links.Rental != nil {
			out[b.ID] = &ref{ID: *b.Links.Rental}
		}
	}
	return out, nil
}

// hosts reads the hosts taking part in the conversations, for their names.
func (in *inbox) hosts(ctx context.Context, convs []*bookingsync.Conversation) (map[int64]*ref, error) {
	var ids []int64
	for _, c := range convs {
		for _, p := range c.Participants {
			if p.IsHost() && !slices.Contains(ids, p.Links.Member.ID) {
				ids = append(ids, p.Links.Member.ID)
			}
		}
	}
	out := map[int64]*ref{}
	if len(ids) == 0 {
		return out, nil
	}
	hosts, _, err := in.cl.Hosts.GetMany(ctx, ids)
	if errors.Is(err, bookingsync.ErrNotFound) {
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	for _, h := range hosts {
		out[h.ID] = &ref{ID: h.ID, Name: joinName(h.Firstname, h.Lastname)}
	}
	return out, nil
}

func joinName(first, last string) string {
	switch {
	case first == "":
		return last
	case last == "":
		return first
	}
	return first + " " + last
}
