package bookingsync

import (
	"context"
	"errors"
	"slices"
	"sync"
)

// Directory is what an inbox shows beside each conversation of a page: the
// guest, the booking (or inquiry), the rental, the channel and the last
// message, read for the whole page at once by Client.Directory. Its
// lookups make no request and return nil (or "") for what the API did not
// have, and for a nil conversation.
type Directory struct {
	guests       map[int64]*Guest
	bookings     map[int64]*Booking
	inquiries    map[int64]*Inquiry
	rentals      map[int64]*Rental
	apps         map[int64]*Application
	participants map[int64][]*Participant // by conversation, when read here
	last         map[int64]*Message       // by conversation, when read here
}

// Directory resolves the people and places behind convs (a page of
// conversations, or several) in one GetMany per resource, never one
// request per conversation:
//
//   - the participants, unless the listing sideloaded them
//     (Include: []string{"participants"}): GET /inbox/participants/{ids};
//   - the last message of each conversation, unless the listing sideloaded
//     the messages: GET /inbox/messages/{ids};
//   - the bookings: GET /bookings/{ids}, and the inquiries of the
//     conversations that have some: GET /inquiries/{ids};
//   - the channel applications not already in the client's application
//     cache: GET /applications/{ids}, stored in that cache, so that
//     Conversations.Origin costs nothing afterwards;
//   - then the guests (Client participants' members, and the bookings'
//     clients): GET /clients/{ids}, and the rentals of the bookings and
//     inquiries: GET /rentals/{ids}.
//
// Requests of one step run concurrently, so the whole takes two round
// trips. A GetMany carries at most a hundred ids; more take one request per
// hundred, and an answer the API pages (rentals come 50 a page) is read to
// its last page. Ids the API does not know are simply absent.
//
// Missing scopes: an application the token may not read leaves the channel
// to the conversation's default_channel, as Origin does. Guests, rentals,
// bookings and inquiries the token may not read fail with a *ScopeError
// naming the scope (clients_read, rentals_read, bookings_read,
// inquiries_read), which matches ErrForbidden. On any error the Directory
// is returned too, holding what was resolved; the lookups of the rest
// return nil.
//
// GET /inbox/participants/{id},…, /inbox/messages/{id},…, /bookings/{id},…, /inquiries/{id},…, /applications/{id},…, then GET /clients/{id},…, /rentals/{id},… (each only when needed)
func (c *Client) Directory(ctx context.Context, convs []*Conversation) (*Directory, error) {
	d := &Directory{
		guests:       map[int64]*Guest{},
		bookings:     map[int64]*Booking{},
		inquiries:    map[int64]*Inquiry{},
		rentals:      map[int64]*Rental{},
		apps:         map[int64]*Application{},
		participants: map[int64][]*Participant{},
		last:         map[int64]*Message{},
	}
	var partIDs, lastIDs, bookingIDs, inquiryIDs, appIDs []int64
	for _, conv := range convs {
		if conv == nil {
			continue
		}
		if conv.Participants == nil {
			partIDs = append(partIDs, conv.Links.Participants...)
		}
		if conv.Messages == nil && len(conv.Links.Messages) > 0 {
			lastIDs = append(lastIDs, slices.Max(conv.Links.Messages))
		}
		bookingIDs = append(bookingIDs, conv.Links.Bookings...)
		inquiryIDs = append(inquiryIDs, conv.Links.Inquiries...)
		if id, ok := conv.CreatedByApplication(); ok {
			if e, cached := c.apps.lookup(id); cached && !c.apps.disabled {
				d.apps[id] = e.app
			} else {
				appIDs = append(appIDs, id)
			}
		}
	}

	err := concurrently(
		getAll(ctx, c.Participants.GetMany, partIDs, func(p *Participant) {
			d.participants[p.Links.Conversation] = append(d.participants[p.Links.Conversation], p)
		}),
		getAll(ctx, c.Messages.GetMany, lastIDs, func(m *Message) { d.last[m.Links.Conversation] = m }),
		getAll(ctx, c.Bookings.GetMany, bookingIDs, func(b *Booking) { d.bookings[b.ID] = b }),
		getAll(ctx, c.Inquiries.GetMany, inquiryIDs, func(q *Inquiry) { d.inquiries[q.ID] = q }),
		func() error { return c.cacheApplications(ctx, appIDs, d.apps) },
	)

	var guestIDs, rentalIDs []int64
	for _, conv := range convs {
		if conv == nil {
			continue
		}
		for _, p := range d.Participants(conv) {
			if p != nil && p.IsClient() {
				guestIDs = append(guestIDs, p.Links.Member.ID)
			}
		}
	}
	for _, b := range d.bookings {
		if b.Links.Client != nil {
			guestIDs = append(guestIDs, *b.Links.Client)
		}
		if b.Links.Rental != nil {
			rentalIDs = append(rentalIDs, *b.Links.Rental)
		}
	}
	for _, q := range d.inquiries {
		if q.Links.Rental != nil {
			rentalIDs = append(rentalIDs, *q.Links.Rental)
		}
	}
	err2 := concurrently(
		getAll(ctx, c.Clients.GetMany, guestIDs, func(g *Guest) { d.guests[g.ID] = g }),
		getAll(ctx, c.Rentals.GetMany, rentalIDs, func(r *Rental) { d.rentals[r.ID] = r }),
	)
	return d, errors.Join(err, err2)
}

// getAll is one GetMany as a function for concurrently: it reads the
// distinct positive ids, in ascending order (so that the same set reads
// the same path), and hands each record to add, with nothing to read being
// no request, a 404 (none of the ids is known) no record, and no nil
// record. Each add writes a map of its own, so that the functions of one
// concurrently share nothing.
func getAll[T any](ctx context.Context, getMany func(context.Context, []int64) ([]*T, *Response, error), ids []int64, add func(*T)) func() error {
	return func() error {
		ids := distinctIDs(ids)
		if len(ids) == 0 {
			return nil
		}
		items, _, err := getMany(ctx, ids)
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		for _, it := range items {
			if it != nil {
				add(it)
			}
		}
		return err
	}
}

func distinctIDs(ids []int64) []int64 {
	ids = slices.DeleteFunc(slices.Clone(ids), func(id int64) bool { return id <= 0 })
	slices.Sort(ids)
	return slices.Compact(ids)
}

// cacheApplications reads the applications ids in one GetMany into into
// and the client's application cache. An application the token may not
// read (403) or that is unknown (404) is a miss, cached as Cached caches
// it, and maps to nil.
func (c *Client) cacheApplications(ctx context.Context, ids []int64, into map[int64]*Application) error {
	ids = distinctIDs(ids)
	if len(ids) == 0 {
		return nil
	}
	apps, _, err := c.Applications.GetMany(ctx, ids)
	if err != nil && !isApplicationMiss(err) {
		return err
	}
	found := map[int64]*Application{}
	for _, a := range apps {
		found[a.ID] = a
	}
	for _, id := range ids {
		app := found[id]
		into[id] = app
		switch {
		case c.apps.disabled:
		case app != nil:
			c.apps.store(id, appEntry{app: app})
		case err != nil:
			c.apps.store(id, appEntry{err: err})
		}
		// An id absent from a successful answer is left for Cached to
		// ask about alone, and to cache its own 404.
	}
	return nil
}

// concurrently runs fns at once and returns their errors joined.
func concurrently(fns ...func() error) error {
	errs := make([]error, len(fns))
	var wg sync.WaitGroup
	for i, fn := range fns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = fn()
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Participants returns the conversation's participants: sideloaded with the
// listing, or read by Directory.
func (d *Directory) Participants(c *Conversation) []*Participant {
	if c == nil {
		return nil
	}
	if c.Participants != nil {
		return c.Participants
	}
	return d.participants[c.ID]
}

// Guest returns the conversation's guest: the member of its first Client
// participant, else the client of its booking; nil when unknown.
func (d *Directory) Guest(c *Conversation) *Guest {
	for _, p := range d.Participants(c) {
		if p == nil || !p.IsClient() {
			continue
		}
		if g := d.guests[p.Links.Member.ID]; g != nil {
			return g
		}
	}
	if b := d.Booking(c); b != nil && b.Links.Client != nil {
		return d.guests[*b.Links.Client]
	}
	return nil
}

// Booking returns the conversation's booking: the first of its bookings
// that is not canceled, else the first; nil when it has none.
func (d *Directory) Booking(c *Conversation) *Booking {
	if c == nil {
		return nil
	}
	var first *Booking
	for _, id := range c.Links.Bookings {
		b := d.bookings[id]
		switch {
		case b == nil:
		case !b.IsCanceled():
			return b
		case first == nil:
			first = b
		}
	}
	return first
}

// Inquiry returns the conversation's first inquiry (a request sent before
// any booking); nil when it has none.
func (d *Directory) Inquiry(c *Conversation) *Inquiry {
	if c == nil {
		return nil
	}
	for _, id := range c.Links.Inquiries {
		if q := d.inquiries[id]; q != nil {
			return q
		}
	}
	return nil
}

// Rental returns the rental of the conversation's booking, else of its
// inquiry; nil when unknown.
func (d *Directory) Rental(c *Conversation) *Rental {
	if b := d.Booking(c); b != nil && b.Links.Rental != nil {
		return d.rentals[*b.Links.Rental]
	}
	if q := d.Inquiry(c); q != nil && q.Links.Rental != nil {
		return d.rentals[*q.Links.Rental]
	}
	return nil
}

// Origin returns who created the conversation and its channel, as
// Conversations.Origin does, from the applications Directory read.
func (d *Directory) Origin(c *Conversation) *Origin {
	if c == nil {
		return &Origin{}
	}
	var app *Application
	if id, ok := c.CreatedByApplication(); ok {
		app = d.apps[id]
	}
	return originOf(c, app)
}

// Channel returns the conversation's channel (see Origin.Channel).
func (d *Directory) Channel(c *Conversation) Channel { return d.Origin(c).Channel }

// LastMessage returns the conversation's most recent message (the highest
// id), from the sideloaded messages or as Directory read it; nil when it
// has none.
func (d *Directory) LastMessage(c *Conversation) *Message {
	if c == nil {
		return nil
	}
	if c.Messages == nil {
		return d.last[c.ID]
	}
	var last *Message
	for _, m := range c.Messages {
		if m != nil && (last == nil || m.ID > last.ID) {
			last = m
		}
	}
	return last
}

// Sender returns the participant who sent m in c; nil when unknown.
func (d *Directory) Sender(c *Conversation, m *Message) *Participant {
	if m == nil || m.Links.Sender == nil {
		return nil
	}
	for _, p := range d.Participants(c) {
		if p != nil && p.ID == *m.Links.Sender {
			return p
		}
	}
	return nil
}

// GuestSpokeLast reports whether the conversation's last message came from
// a guest (a Client participant): the conversations waiting for a reply.
func (d *Directory) GuestSpokeLast(c *Conversation) bool {
	p := d.Sender(c, d.LastMessage(c))
	return p != nil && p.IsClient()
}
