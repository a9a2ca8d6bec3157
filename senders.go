package bookingsync

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
)

// The Inbox rule that only Host participants send messages, applied by
// Client.Do to every POST or PUT of /inbox/messages that names a sender:
// the services' and a caller's own.
//
// The body says only the sender's participant id; its member type costs a
// read (GET /inbox/participants/{id}) the first time. A participant's
// member never changes, so each client remembers it: at most one read per
// distinct participant, shared by concurrent sends, and none for the
// participants the client has already seen: read (Participants.Get, List,
// GetMany), sideloaded with conversations (Conversations.List, GetWith,
// GetManyWith with Include "participants"), added or found as hosts
// (AddHost, EnsureHost, EnsureHostFor, SendAsHost).

// maxKnown bounds what a client remembers about participants: the member
// types of senders, and the Host participants it added. Past it, an
// arbitrary entry is forgotten (Go randomises map iteration), so a
// long-lived process holds at most this many of each. A forgotten sender
// costs one more read; a forgotten added host is found again by
// EnsureHost's read, though not by EnsureHostFor given a conversation read
// before the host was added, ten thousand additions ago.
const maxKnown = 10_000

// boundedMap is a map, safe for concurrent use, of at most maxKnown
// entries. Its zero value is ready for use.
type boundedMap[K comparable, V any] struct {
	mu sync.Mutex
	m  map[K]V
}

func (b *boundedMap[K, V]) get(k K) (V, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	v, ok := b.m[k]
	return v, ok
}

func (b *boundedMap[K, V]) put(k K, v V) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.m == nil {
		b.m = make(map[K]V)
	}
	if _, ok := b.m[k]; !ok && len(b.m) >= maxKnown {
		for old := range b.m {
			delete(b.m, old)
			break
		}
	}
	b.m[k] = v
}

// senderCache maps participant ids to member types, per client. Its zero
// value is ready for use.
type senderCache struct {
	types   boundedMap[int64, string]
	flights flightGroup[int64, string]
}

// remember stores what p's payload says about its member, when it says it.
func (c *senderCache) remember(p *Participant) {
	if p == nil || p.ID <= 0 || strings.TrimSpace(p.Links.Member.Type) == "" {
		return
	}
	c.types.put(p.ID, p.Links.Member.Type)
}

// The pass-throughs below remember the member types of the participants
// a read returns, read or sideloaded: knowledge that saves the sender
// check its read.

func (c *senderCache) participants(ps []*Participant, resp *Response, err error) ([]*Participant, *Response, error) {
	for _, p := range ps {
		c.remember(p)
	}
	return ps, resp, err
}

func (c *senderCache) participant(p *Participant, resp *Response, err error) (*Participant, *Response, error) {
	c.remember(p)
	return p, resp, err
}

func (c *senderCache) conversations(cs []*Conversation, resp *Response, err error) ([]*Conversation, *Response, error) {
	for _, conv := range cs {
		c.conversation(conv, resp, err)
	}
	return cs, resp, err
}

func (c *senderCache) conversation(conv *Conversation, resp *Response, err error) (*Conversation, *Response, error) {
	if conv != nil {
		c.participants(conv.Participants, resp, err)
	}
	return conv, resp, err
}

// senderType returns participant id's member type, reading the participant
// on the first call; concurrent first calls share the read.
func (c *Client) senderType(ctx context.Context, id int64) (string, error) {
	if t, ok := c.senders.types.get(id); ok {
		return t, nil
	}
	return c.senders.flights.do(ctx, id, func() (string, error) {
		if t, ok := c.senders.types.get(id); ok {
			return t, nil
		}
		p, _, err := c.Participants.Get(ctx, id) // remembers it
		if err != nil {
			return "", err
		}
		return p.Links.Member.Type, nil
	})
}

// refuseNonHostSender refuses a message write whose sender is not a Host
// participant. It fails closed: a body it cannot read, a sender it cannot
// look up, or a member type it does not know as Host stop the request.
func (c *Client) refuseNonHostSender(req *http.Request) error {
	if routeOf(req.URL) != routeMessages {
		return nil
	}
	body, err := snapshotBody(req)
	if err != nil {
		return fmt.Errorf("bookingsync: %s %s: reading request body: %w", req.Method, req.URL.Path, err)
	}
	ids, err := senderIDs(req.Method, req.Header, req.URL, body)
	if err != nil {
		return &RefusedError{Method: req.Method, Path: req.URL.Path,
			Reason:  "the sender of the message cannot be told from the request (" + err.Error() + "), and only Host participants may send",
			Instead: `send a JSON body {"messages": [{"sender_id": <a Host participant's id>, …}]}, or use Messages.Create or Messages.SendAsHost`}
	}
	for _, id := range ids {
		t, err := c.senderType(req.Context(), id)
		if err != nil {
			return fmt.Errorf("bookingsync: %s %s: checking that sender %d is a Host participant (nothing was sent): %w", req.Method, req.URL.Path, id, err)
		}
		if !strings.EqualFold(strings.TrimSpace(t), string(MemberTypeHost)) {
			return &RefusedError{Method: req.Method, Path: req.URL.Path,
				Reason:  fmt.Sprintf("sender %d is a %s participant%s, and only Host participants send messages", id, t, guestNote(t)),
				Instead: "send as a host: Messages.SendAsHost(ctx, conversationID, hostID, m), or take the sender from Participants.EnsureHost(ctx, conversationID, hostID)"}
		}
	}
	return nil
}

// guestNote names what a member type means to the reader of a refusal.
func guestNote(memberType string) string {
	switch {
	case isClientType(memberType):
		return " (the guest)"
	case strings.TrimSpace(memberType) == "":
		return " (of no member type the API stated)"
	}
	return ""
}

// senderIDs returns every sender id a message write sets: any parameter
// whose name says sender_id, in the body read by its Content-Type and in
// the query string, as the API's Rails stack would read them (the guard's
// reading, see judge). A request that is no write, nor asks for its method
// to be overridden, sets none. What it cannot read with certainty, or a
// sender_id that is not a participant id, is an error.
func senderIDs(method string, h http.Header, u *url.URL, body []byte) ([]int64, error) {
	ps, why := bodyParams(h, body)
	if why != "" {
		return nil, errors.New(why)
	}
	_, rawQuery, _ := strings.Cut(wireURI(u), "?")
	query, ok := formParams(rawQuery)
	if !ok {
		return nil, errors.New("a query string it cannot parse")
	}
	ps = append(ps, query...)
	writes := writeMethod(method, h)
	for _, p := range ps {
		writes = writes || strings.Contains(strings.ToLower(p.key+" "+p.val), "_method")
	}
	if !writes {
		return nil, nil
	}
	var ids []int64
	for _, p := range ps {
		if !strings.Contains(strings.ToLower(p.key), "sender_id") {
			continue
		}
		id, err := strconv.ParseInt(strings.TrimSpace(p.val), 10, 64)
		if err != nil || id <= 0 {
			return nil, fmt.Errorf("%s is not a participant id", p.describe())
		}
		ids = append(ids, id)
	}
	return ids, nil
}
