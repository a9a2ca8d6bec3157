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
	limited bool  // the token lacks the kind's read scope: the reduced view
	inbox   bool  // the token may read the Inbox (accounts show inbox_email)
	account int64 // the account the records belong to
	url     string
	stay    *stay // a rentals search's stay (rentals render as results)
}

// table is the one storage mechanism: rows by id, live ids kept sorted so a
// page costs O(per_page), tombstones for meta.deleted_ids.
type table[T record] struct {
	ids   []int64
	rows  map[int64]T
	tombs map[int64]int64 // id -> deleted at (unix s)
	next  int64
}

func newTable[T record](first int64) *table[T] {
	return &table[T]{rows: map[int64]T{}, tombs: map[int64]int64{}, next: first}
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

// db is one set of tables: each account has one (its Inbox, bookings,
// guests, rentals…), and the server has one for what is shared by every
// account (applications, the accounts themselves). Each resource's file
// says which table is its own through its kind.
type db struct {
	apps     *table[*application]
	accts    *table[*accountRec]
	hosts    *table[*host]
	books    *table[*booking]
	convs    *table[*conversation]
	parts    *table[*participant]
	msgs     *table[*message]
	atts     *table[*attachment]
	guests   *table[*guest]
	rents    *table[*rental]
	srcs     *table[*source]
	inqs     *table[*inquiry]
	comments *table[*bookingComment]
	pays     *table[*payment]
	bpays    *table[*bookingsPayment]
	revs     *table[*review]
	replies  *table[*reviewReply]
	latest   int64 // unix nanos after which no record is hidden
}

// init creates the tables; ids given by the tables start at first, so
// that two accounts never share an id (the real API's ids are global).
func (d *db) init(first int64) {
	d.apps = newTable[*application](first)
	d.accts = newTable[*accountRec](first)
	d.hosts = newTable[*host](first)
	d.books = newTable[*booking](first)
	d.convs = newTable[*conversation](first)
	d.parts = newTable[*participant](first)
	d.msgs = newTable[*message](first)
	d.atts = newTable[*attachment](first)
	d.guests = newTable[*guest](first)
	d.rents = newTable[*rental](first)
	d.srcs = newTable[*source](first)
	d.inqs = newTable[*inquiry](first)
	d.comments = newTable[*bookingComment](first)
	d.pays = newTable[*payment](first)
	d.bpays = newTable[*bookingsPayment](first)
	d.revs = newTable[*review](first)
	d.replies = newTable[*reviewReply](first)
}

func visible(d *db, r record, now int64) bool {
	if now >= d.latest {
		return true
	}
	return r.appearAt(d) <= now
}

func drop(l []int64, id int64) []int64 {
	if i := slices.Index(l, id); i >= 0 {
		return slices.Delete(l, i, i+1)
	}
	return l
}

func renderAll[T record](d *db, t *table[T], idl []int64, rc *rctx) []obj {
	out := []obj{}
	sub := &rctx{now: rc.now, url: rc.url, account: rc.account}
	for _, id := range idl {
		if v, ok := t.get(id); ok {
			out = append(out, v.render(d, sub))
		}
	}
	return out
}
