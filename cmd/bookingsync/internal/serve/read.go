package serve

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/go-bookingsync/bookingsync"
	"github.com/go-bookingsync/bookingsync/inboxsync"
)

// The pages' view of the local copy. Everything here reads the database
// through the store, always for the session's account: no request goes
// to the API, and another account's records are never found.

// pageSize is how many conversations an inbox page lists.
const pageSize = 50

// row is one conversation of the inbox page.
type row struct {
	ID            int64
	Subject       string
	Guest         string
	Rental        string
	Channel       string
	Last          string // the last message's text, shortened
	LastAt        time.Time
	AwaitingReply bool
	Closed        bool
}

// inboxQuery is the inbox page's filters and position.
type inboxQuery struct {
	Status   string // "open", "closed" or "" (all)
	Awaiting bool
	Channel  string
	Before   string // the previous page's next
}

// inboxRows returns a page of the account's conversations, most recent
// activity first, and the position of the next page ("" on the last).
func (s *Server) inboxRows(ctx context.Context, account int64, q inboxQuery) ([]row, string, error) {
	skip, _ := strconv.Atoi(q.Before)
	convs, err := s.st.Conversations(ctx, account, inboxsync.ConversationQuery{
		Status: inboxsync.Status(q.Status), AwaitingReply: q.Awaiting,
		Channel: bookingsync.Channel(q.Channel), Limit: max(skip, 0) + pageSize + 1,
	})
	if err != nil {
		return nil, "", err
	}
	convs = convs[min(max(skip, 0), len(convs)):]
	next := ""
	if len(convs) > pageSize {
		convs, next = convs[:pageSize], strconv.Itoa(skip+pageSize)
	}
	rows := make([]row, 0, len(convs))
	for _, c := range convs {
		t, err := s.readThread(ctx, account, c)
		if err != nil {
			return nil, "", err
		}
		rows = append(rows, t.row)
	}
	return rows, next, nil
}

// thread is a conversation with its messages, oldest first.
type thread struct {
	row
	Messages []message
	Hosts    []host // who may reply
}

// message is one message of a thread.
type message struct {
	ID        int64
	Who       string
	Content   string
	At        time.Time
	FromGuest bool
	Internal  bool
}

type host struct {
	ID   int64
	Name string
}

// conversationThread reads one of the account's conversations; another
// account's id, like a missing one, is inboxsync.ErrNotFound.
func (s *Server) conversationThread(ctx context.Context, account, id int64) (*thread, error) {
	c, err := s.st.Conversation(ctx, account, id)
	if err != nil {
		return nil, err
	}
	return s.readThread(ctx, account, c)
}

// readThread reads what the pages show of conversation c.
func (s *Server) readThread(ctx context.Context, account int64, c *bookingsync.Conversation) (*thread, error) {
	t := &thread{row: row{ID: c.ID, Subject: c.Subject, Channel: string(c.DefaultChannel), Closed: c.IsClosed()}}
	parts, err := s.st.Participants(ctx, account, c.ID)
	if err != nil {
		return nil, err
	}
	hosts, err := s.st.Hosts(ctx, account)
	if err != nil {
		return nil, err
	}
	hostNames := map[int64]string{}
	for _, h := range hosts {
		name := strings.TrimSpace(h.Firstname + " " + h.Lastname)
		if name == "" {
			name = h.Email
		}
		hostNames[h.ID] = name
		t.Hosts = append(t.Hosts, host{ID: h.ID, Name: name})
	}
	who := map[int64]string{}     // participant → name
	fromGuest := map[int64]bool{} // participant → a Client
	for _, p := range parts {
		switch {
		case p.IsClient():
			name := "Guest"
			if g, err := s.st.Guest(ctx, account, p.Links.Member.ID); err == nil && g.Name() != "" {
				name = g.Name()
			} else if err != nil && !errors.Is(err, inboxsync.ErrNotFound) {
				return nil, err
			}
			who[p.ID], fromGuest[p.ID] = name, true
			if t.Guest == "" {
				t.Guest = name
			}
		case p.IsHost():
			who[p.ID] = hostNames[p.Links.Member.ID]
		}
	}
	bookings, err := s.st.Bookings(ctx, account, c.ID)
	if err != nil {
		return nil, err
	}
	for _, b := range bookings {
		if b.Links.Rental == nil {
			continue
		}
		if r, err := s.st.Rental(ctx, account, *b.Links.Rental); err == nil {
			t.Rental = r.Name
			break
		} else if !errors.Is(err, inboxsync.ErrNotFound) {
			return nil, err
		}
	}
	msgs, err := s.st.Messages(ctx, account, c.ID)
	if err != nil {
		return nil, err
	}
	for _, m := range msgs {
		v := message{ID: m.ID, Content: m.Content, At: m.CreatedAt, Internal: m.Visibility == bookingsync.VisibilityInternal}
		if m.SentAt != nil {
			v.At = *m.SentAt
		}
		if m.Links.Sender != nil {
			v.Who, v.FromGuest = who[*m.Links.Sender], fromGuest[*m.Links.Sender]
		}
		if v.Who == "" {
			v.Who = "Unknown sender"
		}
		t.Messages = append(t.Messages, v)
		if !v.Internal {
			t.AwaitingReply = v.FromGuest
		}
	}
	if n := len(t.Messages); n > 0 {
		t.Last, t.LastAt = shorten(t.Messages[n-1].Content, 140), t.Messages[n-1].At
	}
	return t, nil
}

// shorten cuts s to about n characters on a word, for a list.
func shorten(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	cut := string(r[:n])
	if i := strings.LastIndexByte(cut, ' '); i > n/2 {
		cut = cut[:i]
	}
	return cut + "…"
}
