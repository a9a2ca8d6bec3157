package bookingsynctest

import (
	"net/http"
	"slices"
	"time"
)

type conversation struct {
	base
	subject, channel                      string
	closed, deadline, lastMsg, spam, read int64
	createdByID                           int64
	createdByType                         string
	assignee, source                      int64
	visibleFrom                           int64 // unix nanos; 0: always
	bookings, inquiries                   []int64
	participants, messages                []int64
}

var channels = []string{"airbnb", "homeaway", "email", "booking-com"}

func init() {
	register(&kind{plural: "conversations", singular: "conversation", path: "inbox/conversations",
		read: inboxRead, write: inboxWrite,
		links: tmpl("conversations",
			"account", "accounts/{conversations.account}", "assignee", "hosts/{conversations.assignee}",
			"source", "sources/{conversations.source}", "bookings", "bookings/{conversations.bookings}",
			"inquiries", "inquiries/{conversations.inquiries}", "messages", "inbox/messages/{conversations.messages}",
			"participants", "inbox/participants/{conversations.participants}"),
		table:  func(d *db) store { return d.convs },
		create: createConversation, update: updateConversation, remove: removeConversation,
		actions: map[string]func(op, record, []byte) (int, verrs){
			"connect_booking": connectBooking(true), "disconnect_booking": connectBooking(false),
		},
		events: events{created: "inbox_conversation_created", updated: "inbox_conversation_updated"}})
}

func (c *conversation) appearAt(*db) int64 { return c.visibleFrom }

// appearsWith is when the records of a conversation (its participants and
// messages) become visible: with it.
func appearsWith(d *db, conv int64) int64 {
	if c, ok := d.convs.get(conv); ok {
		return c.visibleFrom
	}
	return 0
}

func (c *conversation) render(d *db, rc *rctx) obj {
	m := obj{
		{"links", obj{
			{"account", rc.account}, {"assignee", nullID(c.assignee)}, {"source", nullID(c.source)},
			{"bookings", ids(c.bookings)}, {"inquiries", ids(c.inquiries)},
			{"messages", ids(c.messages)}, {"participants", ids(c.participants)},
		}},
		{"id", c.id}, {"subject", nullStr(c.subject)}, {"default_channel", nullStr(c.channel)},
		{"created_at", tm(c.created)}, {"updated_at", tm(c.updated)}, {"closed_at", tm(c.closed)},
		{"deadline_response_at", tm(c.deadline)}, {"last_message_at", tm(c.lastMsg)},
		{"marked_as_spam_at", tm(c.spam)}, {"read_at", tm(c.read)},
		{"created_by_id", nullID(c.createdByID)}, {"created_by_type", nullStr(c.createdByType)},
	}
	if rc.inc["participants"] {
		m = append(m, field{"participants", renderAll(d, d.parts, c.participants, rc)})
	}
	if rc.inc["messages"] {
		m = append(m, field{"messages", renderAll(d, d.msgs, c.messages, rc)})
	}
	return m
}

// createConversation: POST /inbox/conversations exists in the real API (the
// SDK refuses to call it); it creates a conversation with no creator.
func createConversation(o op, p params) (record, verrs) {
	c := &conversation{base: base{created: o.now, updated: o.now}}
	e := verrs{}
	c.subject, _ = p.str("subject")
	if ch, ok := p.str("default_channel"); !ok || (ch != "" && !slices.Contains(channels, ch)) {
		e.add("default_channel", notIn)
	} else {
		c.channel = ch
	}
	if v, ok := p.time("last_message_at"); ok {
		c.lastMsg = v
	} else {
		e.add("last_message_at", invalid)
	}
	if p.has("assignee_id") {
		if id, ok := p.id("assignee_id"); !ok || (id != 0 && o.d.hosts.rows[id] == nil) {
			e.add("assignee", mustExist)
		} else {
			c.assignee = id
		}
	}
	if len(e) > 0 {
		return nil, e
	}
	o.d.convs.add(c)
	return c, nil
}

// updateConversation accepts only assignee_id, closed, default_channel and
// marked_as_spam; anything else is ignored.
func updateConversation(o op, r record, p params) verrs {
	c := r.(*conversation)
	e := verrs{}
	n := *c
	if p.has("assignee_id") {
		if id, ok := p.id("assignee_id"); !ok || (id != 0 && o.d.hosts.rows[id] == nil) {
			e.add("assignee", mustExist)
		} else {
			n.assignee = id
		}
	}
	if p.has("default_channel") {
		if ch, ok := p.str("default_channel"); !ok || (ch != "" && !slices.Contains(channels, ch)) {
			e.add("default_channel", notIn)
		} else {
			n.channel = ch
		}
	}
	for _, f := range []struct {
		key string
		at  *int64
	}{{"closed", &n.closed}, {"marked_as_spam", &n.spam}} {
		if !p.has(f.key) {
			continue
		}
		switch v, ok := p.boolean(f.key); {
		case !ok:
			e.add(f.key, invalid)
		case v && *f.at == 0:
			*f.at = o.now
		case !v:
			*f.at = 0
		}
	}
	if len(e) > 0 {
		return e
	}
	if n.assignee != c.assignee || n.channel != c.channel || n.closed != c.closed || n.spam != c.spam {
		n.updated = o.now
	}
	*c = n
	return nil
}

// connectBooking handles connect_booking / disconnect_booking with body
// {"bookings": [{"id": 15}]}. An unknown booking is a 422 (a guess).
func connectBooking(connect bool) func(op, record, []byte) (int, verrs) {
	return func(o op, r record, body []byte) (int, verrs) {
		c := r.(*conversation)
		p, err := decodeBody(body, "bookings")
		if err != nil {
			return http.StatusBadRequest, nil
		}
		id, ok := p.id("id")
		b := o.d.books.rows[id]
		if !ok || b == nil {
			return 0, verrs{"bookings": {"not found"}}
		}
		if connect {
			if !slices.Contains(c.bookings, id) {
				c.bookings = append(c.bookings, id)
				b.conversations = append(b.conversations, c.id)
				c.updated = o.now
			}
		} else if slices.Contains(c.bookings, id) {
			c.bookings = drop(c.bookings, id)
			b.conversations = drop(b.conversations, c.id)
			c.updated = o.now
		}
		return http.StatusOK, nil
	}
}

func removeConversation(d *db, id, now int64) bool {
	c := d.convs.rows[id]
	if c == nil {
		return false
	}
	for _, b := range c.bookings {
		if bk := d.books.rows[b]; bk != nil {
			bk.conversations = drop(bk.conversations, id)
		}
	}
	for _, m := range slices.Clone(c.messages) {
		removeMessage(d, m, now)
	}
	for _, p := range slices.Clone(c.participants) {
		removeParticipant(d, p, now)
	}
	return d.convs.remove(id, now)
}

// announceLater queues the inbox_conversation_created webhook of a
// conversation hidden until cv.visibleFrom; a.mu held.
func (a *Account) announceLater(cv *conversation) {
	a.pending = append(a.pending, cv.id)
	a.s.pending.Add(1)
}

// announce delivers the webhooks of the hidden conversations that have
// appeared by now.
func (a *Account) announce(now int64) {
	var hooks [][]byte
	a.mu.Lock()
	keep := a.pending[:0]
	for _, id := range a.pending {
		c := a.db.convs.rows[id]
		switch {
		case c == nil:
		case c.visibleFrom > now:
			keep = append(keep, id)
		default:
			hooks = append(hooks, a.notify("conversations", "inbox_conversation_created", c))
		}
	}
	a.s.pending.Add(int64(len(keep) - len(a.pending)))
	a.pending = keep
	a.mu.Unlock()
	for _, h := range hooks {
		a.deliver("inbox_conversation_created", h)
	}
}

// DeleteConversation is Delete("conversations", id).
func (a *Account) DeleteConversation(id int64) bool { return a.Delete("conversations", id) }

// appChannels maps a channel application's name to its channel.
var appChannels = map[string]string{"Airbnb": "airbnb", "Booking.com": "booking-com", "HomeAway": "homeaway", "Vrbo": "homeaway"}

// channelOf returns the channel of an application by its name ("" when it
// is not a channel).
func (s *Server) channelOf(appID int64) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a := s.shared.apps.rows[appID]; a != nil {
		return appChannels[a.name]
	}
	return ""
}

// ConversationSeed describes a conversation for AddConversation.
type ConversationSeed struct {
	Subject string
	// ApplicationID, when set, is the creator (created_by_type
	// Doorkeeper::Application); the channel follows from its name
	// (Airbnb, Booking.com, HomeAway/Vrbo) unless Channel is set.
	ApplicationID int64
	Channel       string
	BookingIDs    []int64
	// ClientID, when set, adds a Client participant for that client (a
	// guest, see AddClient). AddConversationWithClient creates the guest
	// when it is zero.
	ClientID int64
	Closed   bool
	// AppearAfter hides the conversation (and its booking link) until the
	// clock has moved this far past now.
	AppearAfter time.Duration
}

// AddConversation adds a conversation and returns its id.
func (a *Account) AddConversation(c ConversationSeed) int64 {
	id, _ := a.addConversation(c, false)
	return id
}

// AddConversationWithClient adds a conversation with its guest: a Client
// participant for c.ClientID, or for a new client (guest) record when it is
// zero. It returns the conversation's id and the Client participant's id,
// the sender of the guest's messages (see AddMessage).
func (a *Account) AddConversationWithClient(c ConversationSeed) (conversationID, clientParticipantID int64) {
	return a.addConversation(c, true)
}

func (a *Account) addConversation(c ConversationSeed, guest bool) (id, pid int64) {
	channel := c.Channel
	if c.ApplicationID != 0 && channel == "" {
		channel = a.s.channelOf(c.ApplicationID)
	}
	var hook []byte
	a.change(func(o op) {
		appear := o.nano + int64(c.AppearAfter)
		created := appear / int64(time.Second)
		cv := &conversation{base: base{created: created, updated: created}, subject: c.Subject, channel: channel}
		if c.ApplicationID != 0 {
			cv.createdByID, cv.createdByType = c.ApplicationID, "Doorkeeper::Application"
		}
		if c.Closed {
			cv.closed = created
		}
		if c.AppearAfter > 0 {
			cv.visibleFrom = appear
			o.d.latest = max(o.d.latest, cv.visibleFrom)
		}
		id = o.d.convs.add(cv)
		for _, b := range c.BookingIDs {
			if bk := o.d.books.rows[b]; bk != nil {
				cv.bookings = append(cv.bookings, b)
				bk.conversations = append(bk.conversations, id)
			}
		}
		client := c.ClientID
		if client == 0 && guest {
			client = o.d.guests.add(newGuest(created, "Guest", "Traveller"))
		}
		if client != 0 {
			pid = addParticipant(o.d, &participant{base: base{created: created, updated: created}, conv: id, memberType: "Client", memberID: client})
		}
		if c.AppearAfter <= 0 {
			hook = a.notify("conversations", "inbox_conversation_created", cv)
		} else {
			a.announceLater(cv)
		}
	})
	a.deliver("inbox_conversation_created", hook)
	return id, pid
}
