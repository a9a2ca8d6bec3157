package bookingsynctest

import (
	"net/http"
	"slices"
	"time"
)

type message struct {
	base
	conv, sender                         int64
	content, origin, visibility, channel string
	sent                                 int64
	createdByID                          int64
	createdByType                        string
	attachments                          []int64
}

var (
	origins      = []string{"bookingsync_inbox", "airbnb_message", "airbnb_email", "booking-com", "homeaway", "tripadvisor", "email", "messenger", "whatsapp", "inquiry", "sms"}
	visibilities = []string{"internal", "external", "all"}
)

func init() {
	register(&kind{plural: "messages", singular: "message", path: "inbox/messages",
		read: inboxRead, write: inboxWrite,
		links: tmpl("messages", "account", "accounts/{messages.account}", "attachments", "inbox/attachments/{messages.attachments}",
			"conversation", "inbox/conversations/{messages.conversation}", "sender", "inbox/participants/{messages.sender}"),
		table:  func(d *db) store { return d.msgs },
		create: createMessage, update: updateMessage, remove: removeMessage,
		actions: map[string]func(op, record, []byte) (int, verrs){"add_attachment": addAttachment},
		events:  events{created: "inbox_message_created", updated: "inbox_message_updated"}})
}

func (m *message) appearAt(d *db) int64 { return appearsWith(d, m.conv) }

func (m *message) render(_ *db, rc *rctx) obj {
	return obj{
		{"links", obj{
			{"account", rc.account}, {"attachments", ids(m.attachments)}, {"conversation", m.conv}, {"sender", nullID(m.sender)},
		}},
		{"id", m.id}, {"content", m.content}, {"origin", nullStr(m.origin)},
		{"visibility", nullStr(m.visibility)}, {"channel", nullStr(m.channel)},
		{"sent_at", tm(m.sent)}, {"created_at", tm(m.created)}, {"updated_at", tm(m.updated)},
		{"created_by_id", nullID(m.createdByID)}, {"created_by_type", nullStr(m.createdByType)},
	}
}

func checkMessage(d *db, m *message, e verrs) {
	if m.content == "" {
		e.add("content", blank)
	}
	switch {
	case m.origin == "":
		e.add("origin", blank)
	case !slices.Contains(origins, m.origin):
		e.add("origin", notIn)
	}
	switch {
	case m.visibility == "":
		e.add("visibility", blank)
	case !slices.Contains(visibilities, m.visibility):
		e.add("visibility", notIn)
	}
	if m.channel != "" && !slices.Contains(channels, m.channel) {
		e.add("channel", notIn)
	}
	if m.visibility == "internal" && m.channel != "" {
		e.add("visibility", "internal messages can't be sent through a channel")
	}
	if sp := d.parts.rows[m.sender]; sp != nil && m.visibility == "internal" && sp.memberType == "Client" {
		e.add("visibility", "internal messages can't be sent by a client")
	}
	for _, a := range m.attachments {
		if d.atts.rows[a] == nil {
			e.add("attachments", mustExist)
			break
		}
	}
}

// createMessage: conversation_id, sender_id (a participant of that
// conversation), content, origin and visibility are required. sent_at is
// not: the live API accepted a message without it (sent_at null).
func createMessage(o op, p params) (record, verrs) {
	e := verrs{}
	m := &message{base: base{created: o.now, updated: o.now}}
	m.content, _ = p.str("content")
	m.origin, _ = p.str("origin")
	m.visibility, _ = p.str("visibility")
	m.channel, _ = p.str("channel")
	cid, ok := p.id("conversation_id")
	conv := o.d.convs.rows[cid]
	if !ok || conv == nil || !visible(o.d, conv, o.nano) {
		e.add("conversation", mustExist)
	}
	sid, ok := p.id("sender_id")
	sp := o.d.parts.rows[sid]
	switch {
	case !ok || sp == nil:
		e.add("sender", mustExist)
	case conv != nil && sp.conv != conv.id:
		e.add("sender", "must be a participant of the conversation")
	}
	var sentOK bool
	if m.sent, sentOK = p.time("sent_at"); !sentOK {
		e.add("sent_at", invalid)
	}
	if m.attachments, ok = p.idList("attachment_ids"); !ok {
		e.add("attachment_ids", invalid)
	}
	m.conv, m.sender = cid, sid
	checkMessage(o.d, m, e)
	if len(e) > 0 {
		return nil, e
	}
	addMessage(o.d, m, o.now)
	return m, nil
}

// addMessage stores m and moves its conversation's last_message_at and
// its sender's last_message_sent_at (to created_at when sent_at is null,
// a guess).
func addMessage(d *db, m *message, now int64) int64 {
	id := d.msgs.add(m)
	for _, a := range m.attachments {
		if at := d.atts.rows[a]; at != nil && !slices.Contains(at.messages, id) {
			at.messages = append(at.messages, id)
		}
	}
	sent := m.sent
	if sent == 0 {
		sent = m.created
	}
	if c := d.convs.rows[m.conv]; c != nil {
		c.messages = append(c.messages, id)
		c.lastMsg = max(c.lastMsg, sent)
		c.updated = max(c.updated, now)
	}
	if sp := d.parts.rows[m.sender]; sp != nil {
		sp.lastSent = max(sp.lastSent, sent)
		sp.updated = max(sp.updated, now)
	}
	return id
}

// updateMessage accepts content (the live API applies it) and what the
// reference's update example sends: origin, visibility, channel and
// attachment_ids. sent_at is ignored (whether it can change is unknown).
func updateMessage(o op, r record, p params) verrs {
	m := r.(*message)
	n := *m
	e := verrs{}
	p.setStrings(e, map[string]*string{"content": &n.content, "origin": &n.origin, "visibility": &n.visibility, "channel": &n.channel})
	if p.has("attachment_ids") {
		l, ok := p.idList("attachment_ids")
		if !ok {
			e.add("attachment_ids", invalid)
		}
		n.attachments = l
	}
	checkMessage(o.d, &n, e)
	if len(e) > 0 {
		return e
	}
	for _, a := range n.attachments {
		if at := o.d.atts.rows[a]; at != nil && !slices.Contains(at.messages, m.id) {
			at.messages = append(at.messages, m.id)
		}
	}
	n.updated = o.now
	*m = n
	return nil
}

// addAttachment handles PUT /inbox/messages/:id/add_attachment with body
// {"attachments": [{"id": 5}]}. An unknown attachment is a 422 (a guess).
func addAttachment(o op, r record, body []byte) (int, verrs) {
	m := r.(*message)
	p, err := decodeBody(body, "attachments")
	if err != nil {
		return http.StatusBadRequest, nil
	}
	id, ok := p.id("id")
	a := o.d.atts.rows[id]
	if !ok || a == nil {
		return 0, verrs{"attachments": {"not found"}}
	}
	if !slices.Contains(m.attachments, id) {
		m.attachments = append(m.attachments, id)
		a.messages = append(a.messages, m.id)
		m.updated = o.now
	}
	return http.StatusOK, nil
}

func removeMessage(d *db, id, now int64) bool {
	m := d.msgs.rows[id]
	if m == nil {
		return false
	}
	if c := d.convs.rows[m.conv]; c != nil {
		c.messages = drop(c.messages, id)
	}
	for _, a := range m.attachments {
		if at := d.atts.rows[a]; at != nil {
			at.messages = drop(at.messages, id)
		}
	}
	return d.msgs.remove(id, now)
}

// MessageSeed describes a message for AddMessage.
type MessageSeed struct {
	ConversationID int64
	SenderID       int64 // a participant id
	Content        string
	// Origin (default "bookingsync_inbox"), Visibility (default
	// "external") and Channel (optional).
	Origin, Visibility, Channel string
	SentAt                      time.Time // default now
	// ApplicationID, when set, is the creator (a channel's message).
	ApplicationID int64
}

// AddMessage adds a message without validation, updating the
// conversation's last_message_at and the sender's last_message_sent_at,
// and returns its id. A guest's message is one whose sender is the
// conversation's Client participant (see AddConversationWithClient).
func (a *Account) AddMessage(m MessageSeed) (id int64) {
	if m.Origin == "" {
		m.Origin = "bookingsync_inbox"
	}
	if m.Visibility == "" {
		m.Visibility = "external"
	}
	var hook []byte
	a.change(func(o op) {
		sent := m.SentAt.Unix()
		if m.SentAt.IsZero() {
			sent = o.now
		}
		ms := &message{base: base{created: o.now, updated: o.now}, conv: m.ConversationID, sender: m.SenderID,
			content: m.Content, origin: m.Origin, visibility: m.Visibility, channel: m.Channel, sent: sent}
		if m.ApplicationID != 0 {
			ms.createdByID, ms.createdByType = m.ApplicationID, "Doorkeeper::Application"
		}
		id = addMessage(o.d, ms, o.now)
		hook = a.notify("messages", "inbox_message_created", ms)
	})
	a.deliver("inbox_message_created", hook)
	return id
}
