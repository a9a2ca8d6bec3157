package serve

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/go-bookingsync/bookingsync"
	"github.com/go-bookingsync/bookingsync/inboxsync"
)

// The pages' view of the local copy. Everything here reads the database
// through the store, always for the session's account: no request goes
// to the API, and another account's records are never found.

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
	Search   string
	Before   string // the previous page's next
}

// inboxRows returns a page of the account's conversations, most recent
// activity first, and the position of the next page ("" on the last):
// Store.Inbox, a fixed number of queries whatever the page's size.
func (s *Server) inboxRows(ctx context.Context, account int64, q inboxQuery) ([]row, string, error) {
	page, err := s.st.Inbox(ctx, account, inboxsync.InboxQuery{
		Status: inboxsync.Status(q.Status), AwaitingReply: q.Awaiting, Channel: q.Channel, Search: q.Search, Before: q.Before,
	})
	if err != nil {
		return nil, "", err
	}
	rows := make([]row, 0, len(page.Rows))
	for _, r := range page.Rows {
		c := r.Conversation
		v := row{ID: c.ID, Subject: c.Subject, Channel: r.Channel, AwaitingReply: r.AwaitingReply, Closed: c.IsClosed()}
		if r.Guest != nil {
			v.Guest = r.Guest.Name()
		}
		if r.Rental != nil {
			v.Rental = r.Rental.Name
		}
		if m := r.LastMessage; m != nil {
			v.Last, v.LastAt = shorten(m.Content, 140), messageTime(m)
		}
		rows = append(rows, v)
	}
	return rows, page.Next, nil
}

// messageTime is when a message was sent, else created.
func messageTime(m *bookingsync.Message) time.Time {
	if m.SentAt != nil {
		return *m.SentAt
	}
	return m.CreatedAt
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
		v := message{ID: m.ID, Content: m.Content, At: messageTime(m), Internal: m.Visibility == bookingsync.VisibilityInternal}
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

// outgoing is a reply in the outbox as the thread shows it, until its
// message is in the copy.
type outgoing struct {
	Key      string
	Content  string
	State    string // "queued", "sending", "sent", "failed"
	Error    string // why it failed
	QueuedAt time.Time
}

// recentOutbox is how long the thread shows a reply that failed, or
// that was sent and is still not in the copy.
const recentOutbox = 24 * time.Hour

// outbox returns the replies of the conversation the thread should show
// until their message is in it: those queued, sending, sent but not yet
// synced back, or failed, of the last day, and the one of key (the form
// just submitted) whatever its age.
func (s *Server) outbox(ctx context.Context, account int64, t *thread, key string) ([]outgoing, error) {
	items, err := s.st.OutboxItems(ctx, account, t.ID)
	if err != nil {
		return nil, err
	}
	shown := map[int64]bool{}
	for _, m := range t.Messages {
		shown[m.ID] = true
	}
	var out []outgoing
	for _, it := range items {
		if shown[it.MessageID] || (it.Key != key && s.now().Sub(it.QueuedAt) > recentOutbox) {
			continue
		}
		out = append(out, outgoing{Key: it.Key, Content: it.Content, State: it.State, Error: it.Error, QueuedAt: it.QueuedAt})
	}
	return out, nil
}
