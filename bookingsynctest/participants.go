package bookingsynctest

type participant struct {
	base
	conv, memberID   int64
	memberType       string
	lastSent, readAt int64
}

func init() {
	register(&kind{plural: "participants", singular: "participant", path: "inbox/participants",
		read: inboxRead, write: inboxWrite,
		links: []string{
			"participants.account", "accounts/{participants.account}",
			"participants.conversation", "inbox/conversations/{participants.conversation}",
			"participants.client", "clients/{participants.member.id}",
			"participants.host", "hosts/{participants.member.id}"},
		table:  func(d *db) store { return d.parts },
		create: createParticipant, update: updateParticipant, remove: removeParticipant})
}

func (p *participant) appearAt(d *db) int64 { return appearsWith(d, p.conv) }

func (p *participant) render(_ *db, rc *rctx) obj {
	return obj{
		{"links", obj{
			{"account", rc.account}, {"conversation", p.conv},
			{"member", obj{{"id", p.memberID}, {"type", p.memberType}}},
		}},
		{"id", p.id}, {"created_at", tm(p.created)}, {"updated_at", tm(p.updated)},
		{"last_message_sent_at", tm(p.lastSent)}, {"read_at", tm(p.readAt)},
	}
}

// createParticipant requires conversation_id, member_id and member_type.
// member_type Client is accepted, as the real API presumably does (only the
// SDK refuses it). The same member twice in one conversation is accepted:
// the live API took six {Host 1} participants in one conversation.
func createParticipant(o op, p params) (record, verrs) {
	e := verrs{}
	pt := &participant{base: base{created: o.now, updated: o.now}}
	cid, ok := p.id("conversation_id")
	conv := o.d.convs.rows[cid]
	if !ok || conv == nil || !visible(o.d, conv, o.nano) {
		e.add("conversation", mustExist)
	}
	mt, _ := p.str("member_type")
	mid, ok := p.id("member_id")
	switch {
	case mt == "":
		e.add("member_type", blank)
	case mt != "Host" && mt != "Client":
		e.add("member_type", notIn)
	case !ok || mid == 0:
		e.add("member", mustExist)
	case mt == "Host" && o.d.hosts.rows[mid] == nil:
		e.add("member", mustExist)
	}
	if v, ok := p.time("last_message_sent_at"); ok {
		pt.lastSent = v
	} else {
		e.add("last_message_sent_at", invalid)
	}
	if p.has("read") {
		if v, ok := p.boolean("read"); !ok {
			e.add("read", invalid)
		} else if v {
			pt.readAt = o.now
		}
	}
	if len(e) > 0 {
		return nil, e
	}
	pt.conv, pt.memberID, pt.memberType = cid, mid, mt
	addParticipant(o.d, pt)
	return pt, nil
}

func addParticipant(d *db, pt *participant) int64 {
	id := d.parts.add(pt)
	if c := d.convs.rows[pt.conv]; c != nil {
		c.participants = append(c.participants, id)
	}
	if pt.memberType == "Host" {
		if h := d.hosts.rows[pt.memberID]; h != nil {
			h.participants = append(h.participants, id)
		}
	}
	return id
}

// updateParticipant accepts only read: true sets read_at, false clears it.
func updateParticipant(o op, r record, p params) verrs {
	pt := r.(*participant)
	if !p.has("read") {
		return nil
	}
	v, ok := p.boolean("read")
	if !ok {
		return verrs{"read": {invalid}}
	}
	if v {
		pt.readAt = o.now
	} else {
		pt.readAt = 0
	}
	pt.updated = o.now
	return nil
}

func removeParticipant(d *db, id, now int64) bool {
	p := d.parts.rows[id]
	if p == nil {
		return false
	}
	if c := d.convs.rows[p.conv]; c != nil {
		c.participants = drop(c.participants, id)
	}
	if h := d.hosts.rows[p.memberID]; h != nil && p.memberType == "Host" {
		h.participants = drop(h.participants, id)
	}
	return d.parts.remove(id, now)
}

// AddParticipant adds a participant (memberType "Host" or "Client") to a
// conversation without validation and returns its id.
func (a *Account) AddParticipant(conversationID int64, memberType string, memberID int64) (id int64) {
	a.change(func(o op) {
		id = addParticipant(o.d, &participant{base: base{created: o.now, updated: o.now}, conv: conversationID, memberType: memberType, memberID: memberID})
	})
	return id
}
