package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
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

// inbox builds views with client.Directory, which reads what the views
// need for all the conversations at once: one GetMany per resource
// (participants, last messages, bookings, applications, then guests and
// rentals), never one request per conversation.
type inbox struct {
	cl *bookingsync.Client
	c  *cli
}

// views turns conversations into views; messages (which the listing must
// have sideloaded) are kept only when thread is true. A token lacking a
// scope for guests, rentals or bookings leaves their names out, with a
// warning on stderr.
func (in *inbox) views(ctx context.Context, convs []*bookingsync.Conversation, thread bool) ([]*conversationView, error) {
	d, err := in.cl.Directory(ctx, convs)
	if err != nil {
		scopes := missingScopes(err)
		if scopes == nil {
			return nil, err
		}
		fmt.Fprintf(in.c.stderr, "bookingsync: warning: some names are missing: the token lacks the %s scope\n", strings.Join(scopes, ", "))
	}
	var hosts map[int64]*ref
	if thread {
		if hosts, err = in.hosts(ctx, d, convs); err != nil {
			return nil, err
		}
	}
	out := make([]*conversationView, 0, len(convs))
	for _, c := range convs {
		v := &conversationView{ID: c.ID, Subject: c.Subject, Channel: string(d.Channel(c)), Closed: c.IsClosed()}
		v.Guest = guestOf(d, c)
		if b := d.Booking(c); b != nil {
			v.BookingID = &b.ID
			if r := d.Rental(c); r != nil {
				v.Rental = &ref{ID: r.ID, Name: r.Name}
			} else if b.Links.Rental != nil {
				v.Rental = &ref{ID: *b.Links.Rental}
			}
		}
		if last := d.LastMessage(c); last != nil {
			v.LastMessage = message(d, c, last, hosts, v.Guest)
			v.AwaitingReply = !v.Closed && d.GuestSpokeLast(c)
		}
		if thread {
			msgs := slices.Clone(c.Messages)
			slices.SortStableFunc(msgs, func(a, b *bookingsync.Message) int {
				return cmp.Or(sentAt(a).Compare(sentAt(b)), cmp.Compare(a.ID, b.ID))
			})
			for _, m := range msgs {
				v.Messages = append(v.Messages, message(d, c, m, hosts, v.Guest))
			}
		}
		out = append(out, v)
	}
	return out, nil
}

// missingScopes returns the scopes err says the token lacks, or nil when
// err (possibly errors joined, as Directory's are) is anything else too.
func missingScopes(err error) []string {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var scopes []string
		for _, e := range j.Unwrap() {
			s := missingScopes(e)
			if s == nil {
				return nil
			}
			scopes = append(scopes, s...)
		}
		return scopes
	}
	var se *bookingsync.ScopeError
	if !errors.As(err, &se) {
		return nil
	}
	return []string{se.Scope}
}

// guestOf is the conversation's guest, named when it could be read, else
// known by the id of its Client participant or its booking's client.
func guestOf(d *bookingsync.Directory, c *bookingsync.Conversation) *ref {
	if g := d.Guest(c); g != nil {
		return &ref{ID: g.ID, Name: g.Name()}
	}
	for _, p := range d.Participants(c) {
		if p.IsClient() {
			return &ref{ID: p.Links.Member.ID}
		}
	}
	if b := d.Booking(c); b != nil && b.Links.Client != nil {
		return &ref{ID: *b.Links.Client}
	}
	return nil
}

func sentAt(m *bookingsync.Message) time.Time {
	if m.SentAt != nil {
		return *m.SentAt
	}
	return m.CreatedAt
}

// message is the view of m, its sender found among c's participants.
func message(d *bookingsync.Directory, c *bookingsync.Conversation, m *bookingsync.Message, hosts map[int64]*ref, guest *ref) *messageView {
	t := sentAt(m)
	v := &messageView{ID: m.ID, SentAt: &t, From: "unknown", Content: m.Content, Visibility: string(m.Visibility), Channel: string(m.Channel)}
	p := d.Sender(c, m)
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

// hosts reads the hosts taking part in the conversations, for their names.
func (in *inbox) hosts(ctx context.Context, d *bookingsync.Directory, convs []*bookingsync.Conversation) (map[int64]*ref, error) {
	var ids []int64
	for _, c := range convs {
		for _, p := range d.Participants(c) {
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
