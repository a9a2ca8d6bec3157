package inboxsync

import (
	"fmt"
	"strings"
)

// resource is one mirrored table: where the API lists it, and which
// fields of a record, as the API sent it, fill which columns. The columns
// are the migrations' (TestSchemaAgreesAcrossDialectsAndWithTheCode holds
// them to each other); account_id comes first and raw last.
type resource struct {
	name string   // table name, cursor and lease key: "conversations"
	path string   // listing path under the API root: "inbox/conversations"
	key  string   // envelope key of the records: "conversations"
	cols []string // the columns after account_id and before raw; id first
	// scoped resources need a scope beyond inbox_read: a 403 skips them
	// (ResourceReport.Forbidden) instead of failing the pass.
	scoped bool

	fields []field
	tree   pathNode // the fields' JSON paths, for the scanner
}

// field is one column and where a record holds it.
type field struct {
	col string
	// paths are JSON paths ("links.member.type"); the first that is
	// present and not null gives the value.
	paths []string
	kind  kind
}

// kind is how a field's JSON value becomes a column value.
type kind int

const (
	kindInt  kind = iota // a number, e.g. an id; null is NULL
	kindStr              // a string; null and "" are NULL
	kindTime             // an RFC 3339 time; null is NULL
)

func f(col string, k kind, paths ...string) field {
	if len(paths) == 0 {
		paths = []string{col}
	}
	return field{col: col, paths: paths, kind: k}
}

// The mirrored resources, in the order a pass walks them.
var (
	resHosts = newResource("hosts", "hosts", false,
		f("id", kindInt), f("user_id", kindInt, "links.user"), f("email", kindStr), f("updated_at", kindTime))
	resConversations = newResource("conversations", "inbox/conversations", false,
		f("id", kindInt), f("subject", kindStr), f("default_channel", kindStr),
		// Older payloads name the creator only as a polymorphic link.
		f("created_by_type", kindStr, "created_by_type", "links.created_by.type"),
		f("created_by_id", kindInt, "created_by_id", "links.created_by.id"),
		f("assignee_id", kindInt, "links.assignee"), f("closed_at", kindTime), f("last_message_at", kindTime),
		f("created_at", kindTime), f("updated_at", kindTime))
	resParticipants = newResource("participants", "inbox/participants", false,
		f("id", kindInt), f("conversation_id", kindInt, "links.conversation"),
		f("member_type", kindStr, "links.member.type"), f("member_id", kindInt, "links.member.id"), f("updated_at", kindTime))
	resMessages = newResource("messages", "inbox/messages", false,
		f("id", kindInt), f("conversation_id", kindInt, "links.conversation"), f("sender_id", kindInt, "links.sender"),
		f("visibility", kindStr), f("channel", kindStr), f("sent_at", kindTime),
		// When the message counts in its conversation's order: sent_at,
		// or created_at for a message sent without one.
		f("ordered_at", kindTime, "sent_at", "created_at"), f("updated_at", kindTime))
	resAttachments = newResource("attachments", "inbox/attachments", false,
		f("id", kindInt), f("name", kindStr), f("file_content_type", kindStr), f("file_size", kindInt), f("updated_at", kindTime))
	resBookings = newResource("bookings", "bookings", true,
		f("id", kindInt), f("reference", kindStr), f("status", kindStr), f("rental_id", kindInt, "links.rental"),
		f("client_id", kindInt, "links.client"), f("start_at", kindTime), f("end_at", kindTime), f("canceled_at", kindTime),
		f("updated_at", kindTime))
	resClients = newResource("clients", "clients", true,
		f("id", kindInt), f("fullname", kindStr), f("updated_at", kindTime))
	resRentals = newResource("rentals", "rentals", true,
		f("id", kindInt), f("name", kindStr), f("updated_at", kindTime))
	// Applications are not walked: the pass fetches those that created a
	// conversation and are not yet known (see Syncer.syncApplications).
	resApplications = newResource("applications", "applications", false,
		f("id", kindInt), f("name", kindStr), f("updated_at", kindTime))

	walked = []*resource{resHosts, resConversations, resParticipants, resMessages, resAttachments, resBookings, resClients, resRentals}
)

// walkedResource returns the walked resource of the API's name, or nil.
func walkedResource(name string) *resource {
	for _, r := range walked {
		if r.name == name {
			return r
		}
	}
	return nil
}

// pathNode is one level of the fields' JSON paths: the keys that matter
// there.
type pathNode map[string]*pathKey

// pathKey is one key of a pathNode: the columns its value fills (with the
// rank of that path among the column's paths), or the level below it.
type pathKey struct {
	targets []target
	child   pathNode
}

type target struct{ col, rank int }

// maxFields bounds a resource's fields, so that the state of a row's scan
// fits on the stack.
const maxFields = 16

func newResource(name, path string, scoped bool, fields ...field) *resource {
	if len(fields) > maxFields {
		panic("inboxsync: a resource has more than maxFields fields")
	}
	r := &resource{name: name, path: path, key: name, scoped: scoped, fields: fields, tree: pathNode{}}
	for i, fl := range fields {
		r.cols = append(r.cols, fl.col)
		for rank, p := range fl.paths {
			n := r.tree
			parts := strings.Split(p, ".")
			for _, part := range parts[:len(parts)-1] {
				k := n.key(part)
				if k.child == nil {
					k.child = pathNode{}
				}
				n = k.child
			}
			k := n.key(parts[len(parts)-1])
			k.targets = append(k.targets, target{i, rank})
		}
	}
	if r.cols[0] != "id" {
		panic("inboxsync: a resource's first column must be id")
	}
	return r
}

// key returns n's entry for name, added if missing.
func (n pathNode) key(name string) *pathKey {
	if n[name] == nil {
		n[name] = &pathKey{}
	}
	return n[name]
}

// fill reads the columns of one record into vals, in cols' order,
// converted for d, and returns its id, with an error too when it read one
// (a record set aside is then known by it). vals has one element per
// column: it is a window on the page's statement arguments, so that no
// record needs a slice of its own.
func (r *resource) fill(d dialect, raw []byte, vals []any) (int64, error) {
	rs := rowScan{r: r, s: scanner{b: raw}}
	for i := range r.fields {
		rs.ranks[i] = -1
	}
	err := rs.object(r.tree)
	if err == nil {
		rs.s.ws()
		if rs.s.i != len(raw) {
			err = errSyntax
		}
	}
	if err != nil {
		return 0, fmt.Errorf("inboxsync: decoding a %s record: %w", r.name, err)
	}
	id := rs.ints[0]
	if rs.ranks[0] < 0 {
		return 0, fmt.Errorf("inboxsync: a %s record without an id", r.name)
	}
	if id <= 0 {
		return 0, fmt.Errorf("inboxsync: a %s record with id %d, not a record id", r.name, id)
	}
	var lastTS string // a record's times often repeat: the last converted, and its value
	var lastVal any
	for i, fl := range r.fields {
		switch {
		case rs.ranks[i] < 0:
			vals[i] = nil
		case fl.kind == kindInt:
			vals[i] = rs.ints[i]
		case fl.kind == kindStr:
			vals[i] = columnText(rs.strs[i])
		default:
			if lastVal == nil || rs.strs[i] != lastTS {
				if lastVal, err = wireTS(d, rs.strs[i]); err != nil {
					return id, fmt.Errorf("inboxsync: %s %d: %s: %w", r.name, id, fl.col, err)
				}
				lastTS = rs.strs[i]
			}
			vals[i] = lastVal
		}
	}
	return id, nil
}

// rowScan is the state of one row's scan, on the stack: the values are
// boxed for the row only once all are read.
type rowScan struct {
	r     *resource
	s     scanner
	ranks [maxFields]int // the rank of the path a column's value came from; -1: none (null, "" or absent)
	ints  [maxFields]int64
	strs  [maxFields]string
}

// object reads an object whose keys that matter are n's.
func (rs *rowScan) object(n pathNode) error {
	return rs.s.object(func(key []byte) error {
		k := n[string(key)]
		switch {
		case k == nil:
			return rs.s.skip()
		case len(k.targets) > 0:
			return rs.value(key, k.targets)
		default:
			return rs.object(k.child)
		}
	})
}

// value reads the value of key, which fills the columns of targets: an
// integer, or a string for the others. null and "" fill nothing.
func (rs *rowScan) value(key []byte, targets []target) error {
	var n int64
	var str string
	var err error
	switch {
	case rs.s.null():
		return nil
	case rs.r.fields[targets[0].col].kind == kindInt:
		err = rs.s.id(&n)
	default:
		if str, err = rs.s.str(); str == "" && err == nil {
			return nil
		}
	}
	if err != nil {
		return fmt.Errorf("%s: %w", key, err)
	}
	for _, t := range targets {
		if rs.ranks[t.col] < 0 || t.rank <= rs.ranks[t.col] { // a repeated key: the last wins
			rs.ints[t.col], rs.strs[t.col], rs.ranks[t.col] = n, str, t.rank
		}
	}
	return nil
}

// columnText is a string as a column holds it: a NUL (which a Postgres
// text cannot hold) becomes U+FFFD, on either back end so that both
// filter alike; the raw record keeps the string exact.
func columnText(s string) string {
	if strings.IndexByte(s, 0) < 0 {
		return s
	}
	return strings.ReplaceAll(s, "\x00", "\uFFFD")
}
