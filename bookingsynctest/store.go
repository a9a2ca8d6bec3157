package bookingsynctest

import (
	"slices"
	"sort"
)

// Times are kept as Unix seconds (0 = null): the wire has second precision
// and this keeps the 100,000-conversation benchmarks small.

const wireTime = "2006-01-02T15:04:05Z"

func tm(v int64) any {
	if v == 0 {
		return nil
	}
	return stamp(v)
}

func nullStr(v string) any {
	if v == "" {
		return nil
	}
	return v
}

func nullID(v int64) any {
	if v == 0 {
		return nil
	}
	return v
}

func ids(v []int64) []int64 {
	if v == nil {
		return []int64{}
	}
	return v
}

// base is what every record has.
type base struct{ id, created, updated int64 }

func (b *base) hdr() *base { return b }

// appearAt is the Unix-nanosecond time a record becomes visible (0: always).
func (b *base) appearAt(*db) int64 { return 0 }

// record is one stored resource. render returns the wire object, "links"
// included, in the order the keys are written.
type record interface {
	hdr() *base
	appearAt(d *db) int64
	render(d *db, rc *rctx) obj
}

// rctx carries what rendering depends on besides the record.
type rctx struct {
	now     int64 // unix nanos, for visibility
	inc     map[string]bool
	limited bool // bookings seen with the public scope only
	url     string
}

// table is the one storage mechanism: rows by id, live ids kept sorted so a
// page costs O(per_page), tombstones for meta.deleted_ids.
type table[T record] struct {
	ids   []int64
	rows  map[int64]T
	tombs map[int64]int64 // id -> deleted at (unix s)
	next  int64
}

func newTable[T record]() *table[T] {
	return &table[T]{rows: map[int64]T{}, tombs: map[int64]int64{}, next: 1}
}

func (t *table[T]) add(v T) int64 {
	h := v.hdr()
	if h.id == 0 {
		h.id = t.next
	}
	if h.id >= t.next {
		t.next = h.id + 1
	}
	if _, dup := t.rows[h.id]; !dup {
		if n := len(t.ids); n == 0 || t.ids[n-1] < h.id {
			t.ids = append(t.ids, h.id)
		} else {
			i := sort.Search(n, func(i int) bool { return t.ids[i] >= h.id })
			t.ids = slices.Insert(t.ids, i, h.id)
		}
	}
	t.rows[h.id] = v
	delete(t.tombs, h.id)
	return h.id
}

func (t *table[T]) get(id int64) (T, bool) {
	v, ok := t.rows[id]
	return v, ok
}

func (t *table[T]) remove(id, at int64) bool {
	if _, ok := t.rows[id]; !ok {
		return false
	}
	delete(t.rows, id)
	i := sort.Search(len(t.ids), func(i int) bool { return t.ids[i] >= id })
	t.ids = slices.Delete(t.ids, i, i+1)
	t.tombs[id] = at
	return true
}

// The generic views of a table used by the list/get path.
func (t *table[T]) liveIDs() []int64            { return t.ids }
func (t *table[T]) tombstones() map[int64]int64 { return t.tombs }
func (t *table[T]) lookup(id int64) (record, bool) {
	v, ok := t.rows[id]
	if !ok {
		return nil, false
	}
	return v, true
}

type store interface {
	liveIDs() []int64
	tombstones() map[int64]int64
	lookup(id int64) (record, bool)
}

type db struct {
	apps   *table[*application]
	hosts  *table[*host]
	books  *table[*booking]
	convs  *table[*conversation]
	parts  *table[*participant]
	msgs   *table[*message]
	atts   *table[*attachment]
	latest int64 // unix nanos after which no record is hidden
}

func (d *db) init() {
	d.apps = newTable[*application]()
	d.hosts = newTable[*host]()
	d.books = newTable[*booking]()
	d.convs = newTable[*conversation]()
	d.parts = newTable[*participant]()
	d.msgs = newTable[*message]()
	d.atts = newTable[*attachment]()
}

func visible(d *db, r record, now int64) bool {
	if now >= d.latest {
		return true
	}
	return r.appearAt(d) <= now
}

// conversation

type conversation struct {
	base
	subject, channel                      string
	closed, deadline, lastMsg, spam, read int64
	createdByID                           int64
	createdByType                         string
	assignee                              int64
	visibleFrom                           int64 // unix nanos; 0: always
	bookings, participants, messages      []int64
}

func (c *conversation) appearAt(*db) int64 { return c.visibleFrom }

func (c *conversation) render(d *db, rc *rctx) obj {
	m := obj{
		{"links", obj{
			{"account", AccountID}, {"assignee", nullID(c.assignee)}, {"source", nil},
			{"bookings", ids(c.bookings)}, {"inquiries", []int64{}},
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

func renderAll[T record](d *db, t *table[T], idl []int64, rc *rctx) []obj {
	out := []obj{}
	sub := &rctx{now: rc.now, url: rc.url}
	for _, id := range idl {
		if v, ok := t.get(id); ok {
			out = append(out, v.render(d, sub))
		}
	}
	return out
}

// participant

type participant struct {
	base
	conv, memberID   int64
	memberType       string
	lastSent, readAt int64
}

func (p *participant) appearAt(d *db) int64 {
	if c, ok := d.convs.get(p.conv); ok {
		return c.visibleFrom
	}
	return 0
}

func (p *participant) render(*db, *rctx) obj {
	return obj{
		{"links", obj{
			{"conversation", p.conv},
			{"member", obj{{"id", p.memberID}, {"type", p.memberType}}},
		}},
		{"id", p.id}, {"created_at", tm(p.created)}, {"updated_at", tm(p.updated)},
		{"last_message_sent_at", tm(p.lastSent)}, {"read_at", tm(p.readAt)},
	}
}

// message

type message struct {
	base
	conv, sender                         int64
	content, origin, visibility, channel string
	sent                                 int64
	createdByID                          int64
	createdByType                        string
	attachments                          []int64
}

func (m *message) appearAt(d *db) int64 {
	if c, ok := d.convs.get(m.conv); ok {
		return c.visibleFrom
	}
	return 0
}

func (m *message) render(*db, *rctx) obj {
	return obj{
		{"links", obj{
			{"attachments", ids(m.attachments)}, {"conversation", m.conv}, {"sender", nullID(m.sender)},
		}},
		{"id", m.id}, {"content", m.content}, {"origin", nullStr(m.origin)},
		{"visibility", nullStr(m.visibility)}, {"channel", nullStr(m.channel)},
		{"sent_at", tm(m.sent)}, {"created_at", tm(m.created)}, {"updated_at", tm(m.updated)},
		{"created_by_id", nullID(m.createdByID)}, {"created_by_type", nullStr(m.createdByType)},
	}
}

// attachment

type attachment struct {
	base
	name, url, contentType string
	size                   int64 // -1: unknown
	width, height          int
	messages               []int64
}

func (a *attachment) render(*db, *rctx) obj {
	var size, width, height any
	if a.size >= 0 {
		size = a.size
	}
	if a.width > 0 {
		width, height = a.width, a.height
	}
	return obj{
		{"links", obj{{"account", AccountID}, {"messages", ids(a.messages)}}},
		{"id", a.id}, {"name", a.name}, {"url", nullStr(a.url)},
		{"file_content_type", nullStr(a.contentType)}, {"file_size", size},
		{"image_width", width}, {"image_height", height},
		{"created_at", tm(a.created)}, {"updated_at", tm(a.updated)},
	}
}

// host

type host struct {
	base
	first, last, email   string
	userID, sourceID     int64
	forgetMe, restricted int64
	participants         []int64
}

func (h *host) render(*db, *rctx) obj {
	return obj{
		{"links", obj{
			{"account", AccountID}, {"participants", ids(h.participants)},
			{"source", nullID(h.sourceID)}, {"user", nullID(h.userID)},
		}},
		{"id", h.id}, {"firstname", h.first}, {"lastname", h.last}, {"email", nullStr(h.email)},
		{"created_at", tm(h.created)}, {"updated_at", tm(h.updated)},
		{"forget_me_at", tm(h.forgetMe)}, {"processing_restricted_at", tm(h.restricted)},
	}
}

// booking

type booking struct {
	base
	rental, client, source       int64
	start, end, canceled         int64
	status, reference            string // status: Booked, Tentative, Unavailable (Canceled derives from canceled)
	initialPrice, finalPrice     string
	paid, currency               string
	adults                       int
	createdByID                  int64
	createdByType                string
	conversations                []int64
	tentativeExpires, balanceDue int64
}

func (b *booking) wireStatus() string {
	if b.canceled != 0 {
		return "Canceled"
	}
	return b.status
}

func (b *booking) render(d *db, rc *rctx) obj {
	if rc.limited {
		// The reference's public/bookings_write_owned example: a reduced view.
		return obj{
			{"links", obj{
				{"account", AccountID}, {"rental", nullID(b.rental)}, {"bookings_tags", []int64{}},
				{"rentals_tags", []int64{}}, {"discount_code_usage", nil},
			}},
			{"id", b.id}, {"start_at", tm(b.start)}, {"end_at", tm(b.end)},
			{"status", b.wireStatus()}, {"updated_at", tm(b.updated)},
		}
	}
	convs := []int64{}
	for _, id := range b.conversations {
		if c, ok := d.convs.get(id); ok && visible(d, c, rc.now) {
			convs = append(convs, id)
		}
	}
	st := b.wireStatus()
	var adults any
	if b.adults > 0 {
		adults = b.adults
	}
	return obj{
		{"links", obj{
			{"account", AccountID}, {"rental", nullID(b.rental)}, {"client", nullID(b.client)},
			{"inquiry", nil}, {"rental_agreement", nil}, {"source", nullID(b.source)},
			{"bookings_fees", []int64{}}, {"bookings_payments", []int64{}}, {"bookings_taxes", []int64{}},
			{"bookings_tags", []int64{}}, {"booking_comments", []int64{}}, {"conversations", convs},
			{"payments", []int64{}}, {"rentals_tags", []int64{}}, {"discount_code_usage", nil},
		}},
		{"id", b.id}, {"start_at", tm(b.start)}, {"end_at", tm(b.end)}, {"status", st},
		{"updated_at", tm(b.updated)}, {"created_at", tm(b.created)}, {"canceled_at", tm(b.canceled)},
		{"reference", b.reference}, {"booked", b.status == "Booked"}, {"unavailable", b.status == "Unavailable"},
		{"tentative_expires_at", tm(b.tentativeExpires)},
		{"initial_price", nullStr(b.initialPrice)}, {"initial_rental_price", nullStr(b.initialPrice)},
		{"channel_price", nil}, {"discount", nil},
		{"final_price", nullStr(b.finalPrice)}, {"final_rental_price", nullStr(b.finalPrice)},
		{"downpayment", nil}, {"paid_amount", nullStr(b.paid)}, {"currency", nullStr(b.currency)},
		{"notes", ""}, {"damage_deposit", "0.0"}, {"charge_damage_deposit_on_arrival", true},
		{"adults", adults}, {"children", nil}, {"bookings_payments_count", 0}, {"review_requests_count", 0},
		{"locked", nil}, {"expected_checkin_time", nil}, {"expected_checkout_time", nil},
		{"payment_url", nil}, {"balance_due_at", tm(b.balanceDue)}, {"rental_payback_to_owner", nil},
		{"final_payback_to_owner", "0.0"}, {"commission", nil}, {"contract_updated_at", tm(b.created)},
		{"external_reference", nil}, {"owned_by_app", false}, {"payment_left_to_collect", "0.0"},
		{"created_by_id", nullID(b.createdByID)}, {"created_by_type", nullStr(b.createdByType)},
	}
}

// application

type application struct {
	base
	name, priceIncrease string
}

func (a *application) render(*db, *rctx) obj {
	// The reference's example has neither links nor timestamps here.
	return obj{{"id", a.id}, {"name", a.name}, {"default_price_increase", a.priceIncrease}}
}
