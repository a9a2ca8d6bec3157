package bookingsynctest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"image"
	_ "image/gif" // image sizes of uploaded attachments
	_ "image/jpeg"
	_ "image/png"
	"io"
	"mime"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
)

// params is one decoded request object; values may be JSON numbers,
// booleans or the strings the reference's examples use ("true", "7").
type params map[string]any

// decodeBody reads {"<key>": [ {...} ]} or {"<key>": {...}}.
func decodeBody(body []byte, key string) (params, error) {
	var env map[string]any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&env); err != nil {
		return nil, errors.New("malformed JSON")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("malformed JSON")
	}
	v := env[key]
	if arr, ok := v.([]any); ok && len(arr) > 0 {
		v = arr[0]
	}
	p, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("param is missing or the value is empty: " + key)
	}
	return p, nil
}

func (p params) has(k string) bool { _, ok := p[k]; return ok }

// id returns an id; ok is false for a value that is not one. null or ""
// give 0.
func (p params) id(k string) (int64, bool) {
	switch x := p[k].(type) {
	case nil:
		return 0, true
	case json.Number:
		v, err := strconv.ParseInt(x.String(), 10, 64)
		return v, err == nil && v >= 0
	case string:
		if x == "" {
			return 0, true
		}
		v, err := strconv.ParseInt(x, 10, 64)
		return v, err == nil && v >= 0
	}
	return 0, false
}

func (p params) str(k string) (string, bool) {
	switch x := p[k].(type) {
	case nil:
		return "", true
	case string:
		return x, true
	case json.Number:
		return x.String(), true
	case bool:
		return strconv.FormatBool(x), true
	}
	return "", false
}

// boolean casts like Rails does for the common spellings; others are invalid.
func (p params) boolean(k string) (bool, bool) {
	switch x := p[k].(type) {
	case bool:
		return x, true
	case json.Number:
		return x.String() != "0", true
	case string:
		switch strings.ToLower(x) {
		case "true", "1", "t", "yes", "on":
			return true, true
		case "false", "0", "f", "no", "off":
			return false, true
		}
	}
	return false, false
}

func (p params) time(k string) (int64, bool) {
	switch x := p[k].(type) {
	case nil:
		return 0, true
	case string:
		if x == "" {
			return 0, true
		}
		t, ok := parseTimeParam(x)
		return t.Unix(), ok
	}
	return 0, false
}

func (p params) idList(k string) ([]int64, bool) {
	switch x := p[k].(type) {
	case nil:
		return nil, true
	case []any:
		var out []int64
		for _, e := range x {
			v, ok := params{"v": e}.id("v")
			if !ok || v == 0 {
				return nil, false
			}
			out = append(out, v)
		}
		return out, true
	case string:
		out, ok := parseIDs(x)
		return out, ok || strings.TrimSpace(x) == ""
	}
	return nil, false
}

type verrs map[string][]string

func (e verrs) add(field, msg string) { e[field] = append(e[field], msg) }

const (
	blank     = "can't be blank"
	mustExist = "must exist"
	invalid   = "is invalid"
	notIn     = "is not included in the list"
)

var (
	channels     = []string{"airbnb", "homeaway", "email", "booking-com"}
	origins      = []string{"bookingsync_inbox", "airbnb_message", "airbnb_email", "booking-com", "homeaway", "tripadvisor", "email", "messenger", "whatsapp", "inquiry", "sms"}
	visibilities = []string{"internal", "external", "all"}
)

func isJSONType(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && (mt == "application/json" || mt == "application/vnd.api+json")
}

// write handles POST /x, PUT /x/:id and PUT /x/:id/<action>.
func (s *Server) write(w http.ResponseWriter, r *http.Request, k *kind, tail []string, body []byte, now time.Time) {
	if len(body) > 0 && !isJSONType(r.Header.Get("Content-Type")) {
		writeJSON(w, http.StatusUnsupportedMediaType, ctAPI, map[string]any{"error": "Unsupported Media Type"})
		return
	}
	badRequest := func(err error) {
		writeJSON(w, http.StatusBadRequest, ctAPI, map[string]any{"error": err.Error()})
	}
	ts := now.Unix()
	rc := s.rctx(r.URL.Query(), now, false)
	var rec record
	if len(tail) > 0 {
		id, err := strconv.ParseInt(tail[0], 10, 64)
		if err != nil {
			notFound(w)
			return
		}
		s.mu.Lock()
		rec, _ = k.table(&s.db).lookup(id)
		if rec != nil && !visible(&s.db, rec, rc.now) {
			rec = nil
		}
		s.mu.Unlock()
		if rec == nil {
			notFound(w)
			return
		}
	}
	status := http.StatusOK
	var errs map[string][]string
	switch {
	case len(tail) == 0:
		p, err := decodeBody(body, k.plural)
		if err != nil {
			badRequest(err)
			return
		}
		s.mu.Lock()
		rec, errs = k.create(s, p, ts)
		s.mu.Unlock()
		status = http.StatusCreated
	case len(tail) == 1:
		p, err := decodeBody(body, k.plural)
		if err != nil {
			badRequest(err)
			return
		}
		s.mu.Lock()
		errs = k.update(s, rec, p, ts)
		s.mu.Unlock()
	default:
		act := k.actions[tail[1]]
		if act == nil {
			notFound(w)
			return
		}
		s.mu.Lock()
		status, errs = act(s, rec, body, ts)
		s.mu.Unlock()
		if status == http.StatusBadRequest {
			badRequest(errors.New("param is missing or the value is empty"))
			return
		}
	}
	if errs != nil {
		writeErrors(w, errs)
		return
	}
	s.mu.Lock()
	o := rec.render(&s.db, rc)
	s.mu.Unlock()
	writeJSON(w, status, ctAPI, s.envelope(k, false, []obj{o}, obj{}))
}

// Conversations.

// createConversation: POST /inbox/conversations exists in the real API (the
// SDK refuses to call it); it creates a conversation with no creator.
func createConversation(s *Server, p params, now int64) (record, map[string][]string) {
	c := &conversation{base: base{created: now, updated: now}}
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
		if id, ok := p.id("assignee_id"); !ok || (id != 0 && s.hosts.rows[id] == nil) {
			e.add("assignee", mustExist)
		} else {
			c.assignee = id
		}
	}
	if len(e) > 0 {
		return nil, e
	}
	s.convs.add(c)
	return c, nil
}

// updateConversation accepts only assignee_id, closed, default_channel and
// marked_as_spam; anything else is ignored.
func updateConversation(s *Server, r record, p params, now int64) map[string][]string {
	c := r.(*conversation)
	e := verrs{}
	n := *c
	if p.has("assignee_id") {
		if id, ok := p.id("assignee_id"); !ok || (id != 0 && s.hosts.rows[id] == nil) {
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
			*f.at = now
		case !v:
			*f.at = 0
		}
	}
	if len(e) > 0 {
		return e
	}
	if n.assignee != c.assignee || n.channel != c.channel || n.closed != c.closed || n.spam != c.spam {
		n.updated = now
	}
	*c = n
	return nil
}

// connectBooking handles connect_booking / disconnect_booking with body
// {"bookings": [{"id": 15}]}. An unknown booking is a 422 (a guess).
func connectBooking(connect bool) func(*Server, record, []byte, int64) (int, map[string][]string) {
	return func(s *Server, r record, body []byte, now int64) (int, map[string][]string) {
		c := r.(*conversation)
		p, err := decodeBody(body, "bookings")
		if err != nil {
			return http.StatusBadRequest, nil
		}
		id, ok := p.id("id")
		b := s.books.rows[id]
		if !ok || b == nil {
			return 0, verrs{"bookings": {"not found"}}
		}
		if connect {
			if !slices.Contains(c.bookings, id) {
				c.bookings = append(c.bookings, id)
				b.conversations = append(b.conversations, c.id)
				c.updated = now
			}
		} else if i := slices.Index(c.bookings, id); i >= 0 {
			c.bookings = slices.Delete(c.bookings, i, i+1)
			if j := slices.Index(b.conversations, c.id); j >= 0 {
				b.conversations = slices.Delete(b.conversations, j, j+1)
			}
			c.updated = now
		}
		return http.StatusOK, nil
	}
}

// Participants.

// createParticipant requires conversation_id, member_id and member_type.
// member_type Client is accepted, as the real API presumably does (only the
// SDK refuses it). The same member twice in one conversation is refused
// with "has already been taken" (a guess at the real uniqueness rule).
func createParticipant(s *Server, p params, now int64) (record, map[string][]string) {
	e := verrs{}
	pt := &participant{base: base{created: now, updated: now}}
	cid, ok := p.id("conversation_id")
	conv := s.convs.rows[cid]
	if !ok || conv == nil || !visible(&s.db, conv, s.now().UnixNano()) {
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
	case mt == "Host" && s.hosts.rows[mid] == nil:
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
			pt.readAt = now
		}
	}
	if len(e) == 0 {
		for _, id := range conv.participants {
			if o := s.parts.rows[id]; o != nil && o.memberType == mt && o.memberID == mid {
				e.add("member_id", "has already been taken")
			}
		}
	}
	if len(e) > 0 {
		return nil, e
	}
	pt.conv, pt.memberID, pt.memberType = cid, mid, mt
	s.addParticipant(pt)
	return pt, nil
}

func (d *db) addParticipant(pt *participant) int64 {
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
func updateParticipant(s *Server, r record, p params, now int64) map[string][]string {
	pt := r.(*participant)
	if !p.has("read") {
		return nil
	}
	v, ok := p.boolean("read")
	if !ok {
		return verrs{"read": {invalid}}
	}
	if v {
		pt.readAt = now
	} else {
		pt.readAt = 0
	}
	pt.updated = now
	return nil
}

// Messages.

func (s *Server) checkMessage(m *message, e verrs) {
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
	if sp := s.parts.rows[m.sender]; sp != nil && m.visibility == "internal" && sp.memberType == "Client" {
		e.add("visibility", "internal messages can't be sent by a client")
	}
	for _, a := range m.attachments {
		if s.atts.rows[a] == nil {
			e.add("attachments", mustExist)
			break
		}
	}
}

// createMessage: conversation_id, sender_id (a participant of that
// conversation), content, origin, visibility and sent_at are required.
func createMessage(s *Server, p params, now int64) (record, map[string][]string) {
	e := verrs{}
	m := &message{base: base{created: now, updated: now}}
	m.content, _ = p.str("content")
	m.origin, _ = p.str("origin")
	m.visibility, _ = p.str("visibility")
	m.channel, _ = p.str("channel")
	cid, ok := p.id("conversation_id")
	conv := s.convs.rows[cid]
	if !ok || conv == nil || !visible(&s.db, conv, s.now().UnixNano()) {
		e.add("conversation", mustExist)
	}
	sid, ok := p.id("sender_id")
	sp := s.parts.rows[sid]
	switch {
	case !ok || sp == nil:
		e.add("sender", mustExist)
	case conv != nil && sp.conv != conv.id:
		e.add("sender", "must be a participant of the conversation")
	}
	var sentOK bool
	m.sent, sentOK = p.time("sent_at")
	if !sentOK {
		e.add("sent_at", invalid)
	} else if m.sent == 0 {
		e.add("sent_at", blank)
	}
	if m.attachments, ok = p.idList("attachment_ids"); !ok {
		e.add("attachment_ids", invalid)
	}
	m.conv, m.sender = cid, sid
	s.checkMessage(m, e)
	if len(e) > 0 {
		return nil, e
	}
	s.addMessage(m, now)
	return m, nil
}

func (d *db) addMessage(m *message, now int64) int64 {
	id := d.msgs.add(m)
	for _, a := range m.attachments {
		if at := d.atts.rows[a]; at != nil && !slices.Contains(at.messages, id) {
			at.messages = append(at.messages, id)
		}
	}
	if c := d.convs.rows[m.conv]; c != nil {
		c.messages = append(c.messages, id)
		c.lastMsg = max(c.lastMsg, m.sent)
		c.updated = max(c.updated, now)
	}
	if sp := d.parts.rows[m.sender]; sp != nil {
		sp.lastSent = max(sp.lastSent, m.sent)
		sp.updated = max(sp.updated, now)
	}
	return id
}

// updateMessage accepts what the reference's update example sends: origin,
// visibility, channel and attachment_ids (content and sent_at are ignored,
// as whether the real API lets them change is unknown).
func updateMessage(s *Server, r record, p params, now int64) map[string][]string {
	m := r.(*message)
	n := *m
	e := verrs{}
	for _, f := range []struct {
		key string
		v   *string
	}{{"origin", &n.origin}, {"visibility", &n.visibility}, {"channel", &n.channel}} {
		if p.has(f.key) {
			if v, ok := p.str(f.key); ok {
				*f.v = v
			} else {
				e.add(f.key, invalid)
			}
		}
	}
	if p.has("attachment_ids") {
		l, ok := p.idList("attachment_ids")
		if !ok {
			e.add("attachment_ids", invalid)
		}
		n.attachments = l
	}
	s.checkMessage(&n, e)
	if len(e) > 0 {
		return e
	}
	for _, a := range n.attachments {
		if at := s.atts.rows[a]; at != nil && !slices.Contains(at.messages, m.id) {
			at.messages = append(at.messages, m.id)
		}
	}
	n.updated = now
	*m = n
	return nil
}

// addAttachment handles PUT /inbox/messages/:id/add_attachment with body
// {"attachments": [{"id": 5}]}. An unknown attachment is a 422 (a guess).
func addAttachment(s *Server, r record, body []byte, now int64) (int, map[string][]string) {
	m := r.(*message)
	p, err := decodeBody(body, "attachments")
	if err != nil {
		return http.StatusBadRequest, nil
	}
	id, ok := p.id("id")
	a := s.atts.rows[id]
	if !ok || a == nil {
		return 0, verrs{"attachments": {"not found"}}
	}
	if !slices.Contains(m.attachments, id) {
		m.attachments = append(m.attachments, id)
		a.messages = append(a.messages, m.id)
		m.updated = now
	}
	return http.StatusOK, nil
}

// Attachments.

const maxAttachment = 10 << 20

func (a *attachment) setFile(p params, e verrs) {
	raw, _ := p.str("file")
	rest, ok := strings.CutPrefix(raw, "data:")
	meta, data, ok2 := strings.Cut(rest, ",")
	ct, isB64 := strings.CutSuffix(meta, ";base64")
	if !ok || !ok2 || !isB64 || ct == "" {
		e.add("file", invalid)
		return
	}
	if strings.ContainsAny(data, "\r\n") {
		data = strings.NewReplacer("\n", "", "\r", "").Replace(data) // Ruby-style wrapped base64
	}
	if base64.StdEncoding.DecodedLen(len(data)) > maxAttachment+3 {
		e.add("file", "is too big (should be at most 10 MB)")
		return
	}
	b, err := base64.StdEncoding.DecodeString(data)
	if err != nil {
		e.add("file", invalid)
		return
	}
	if len(b) > maxAttachment {
		e.add("file", "is too big (should be at most 10 MB)")
		return
	}
	a.contentType, a.size, a.width, a.height = ct, int64(len(b)), 0, 0
	if cfg, _, err := image.DecodeConfig(bytes.NewReader(b)); err == nil {
		a.width, a.height = cfg.Width, cfg.Height
	}
}

// createAttachment needs a name and either file (a base64 data URI, at most
// 10 MB decoded) or remote_file_url. The fake never downloads a remote file:
// its size stays null and its type is guessed from the extension.
func createAttachment(s *Server, p params, now int64) (record, map[string][]string) {
	e := verrs{}
	a := &attachment{base: base{created: now, updated: now}, size: -1}
	a.name, _ = p.str("name")
	if a.name == "" {
		e.add("name", blank)
	}
	remote, _ := p.str("remote_file_url")
	switch {
	case p.has("file") && p["file"] != nil:
		a.setFile(p, e)
	case remote != "":
		u, err := url.Parse(remote)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
			e.add("remote_file_url", invalid)
		} else {
			a.contentType = mime.TypeByExtension(path.Ext(u.Path))
		}
	default:
		e.add("file", blank)
	}
	if len(e) > 0 {
		return nil, e
	}
	id := s.atts.add(a)
	a.url = "/uploads/attachments/" + strconv.FormatInt(id, 10) + "/" + url.PathEscape(a.name)
	return a, nil
}

// updateAttachment accepts name and file.
func updateAttachment(s *Server, r record, p params, now int64) map[string][]string {
	a := r.(*attachment)
	n := *a
	e := verrs{}
	if p.has("name") {
		if n.name, _ = p.str("name"); n.name == "" {
			e.add("name", blank)
		}
	}
	if p.has("file") && p["file"] != nil {
		n.setFile(p, e)
	}
	if len(e) > 0 {
		return e
	}
	n.url = "/uploads/attachments/" + strconv.FormatInt(n.id, 10) + "/" + url.PathEscape(n.name)
	n.updated = now
	*a = n
	return nil
}

// Hosts.

func (h *host) set(p params, e verrs) {
	for _, f := range []struct {
		key string
		v   *string
	}{{"firstname", &h.first}, {"lastname", &h.last}, {"email", &h.email}} {
		if p.has(f.key) {
			if v, ok := p.str(f.key); ok {
				*f.v = v
			} else {
				e.add(f.key, invalid)
			}
		}
	}
	for _, f := range []struct {
		key string
		v   *int64
	}{{"user_id", &h.userID}, {"source_id", &h.sourceID}} {
		if p.has(f.key) {
			if v, ok := p.id(f.key); ok {
				*f.v = v
			} else {
				e.add(f.key, invalid)
			}
		}
	}
	if h.first == "" {
		e.add("firstname", blank)
	}
	if h.last == "" {
		e.add("lastname", blank)
	}
}

// createHost requires firstname and lastname; email, user_id and source_id
// are optional.
func createHost(s *Server, p params, now int64) (record, map[string][]string) {
	e := verrs{}
	h := &host{base: base{created: now, updated: now}}
	h.set(p, e)
	if len(e) > 0 {
		return nil, e
	}
	s.hosts.add(h)
	return h, nil
}

// updateHost accepts the create fields.
func updateHost(s *Server, r record, p params, now int64) map[string][]string {
	h := r.(*host)
	n := *h
	e := verrs{}
	n.set(p, e)
	if len(e) > 0 {
		return e
	}
	n.updated = now
	*h = n
	return nil
}

// Bookings.

// bookingFilter implements the documented filters. Semantics the reference
// does not spell out are guesses: from keeps bookings ending after it
// (default: now, so only future bookings), until those starting before it,
// months sets until = (from or now) + months. With updated_since there is
// no default from, and canceled bookings are listed, as they are otherwise
// only with include_canceled.
func bookingFilter(s *Server, q url.Values, now time.Time) (func(record) bool, map[string][]string) {
	e := verrs{}
	var from, until time.Time
	var hasFrom, hasUntil bool
	if v := q.Get("from"); v != "" {
		if from, hasFrom = parseTimeParam(v); !hasFrom {
			e.add("from", invalid)
		}
	}
	if v := q.Get("until"); v != "" {
		if until, hasUntil = parseTimeParam(v); !hasUntil {
			e.add("until", invalid)
		}
	}
	months := 0
	if v := q.Get("months"); v != "" {
		var err error
		if months, err = strconv.Atoi(v); err != nil || months < 0 {
			e.add("months", invalid)
		}
	}
	if months > 0 {
		b := now
		if hasFrom {
			b = from
		}
		until, hasUntil = b.AddDate(0, months, 0), true
	}
	statuses := map[string]bool{}
	for _, st := range splitComma(q.Get("status")) {
		statuses[strings.ToLower(st)] = true
	}
	var rentals, clients []int64
	for _, f := range []struct {
		key string
		dst *[]int64
	}{{"rental_id", &rentals}, {"client_id", &clients}} {
		if v := q.Get(f.key); v != "" {
			l, ok := parseIDs(v)
			if !ok {
				e.add(f.key, invalid)
			}
			*f.dst = l
		}
	}
	if len(e) > 0 {
		return nil, e
	}
	inc, _ := params{"v": q.Get("include_canceled")}.boolean("v")
	hasSince := q.Get("updated_since") != ""
	canceledOK := inc || hasSince
	implicit := !hasFrom && !hasSince
	nowS, fromS, untilS := now.Unix(), from.Unix(), until.Unix()
	return func(r record) bool {
		b := r.(*booking)
		switch {
		case b.canceled != 0 && !canceledOK,
			implicit && b.end <= nowS,
			hasFrom && b.end <= fromS,
			hasUntil && b.start >= untilS,
			len(statuses) > 0 && !statuses[strings.ToLower(b.status)],
			rentals != nil && !slices.Contains(rentals, b.rental),
			clients != nil && !slices.Contains(clients, b.client):
			return false
		}
		return true
	}, nil
}
