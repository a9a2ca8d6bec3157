package inboxsync

import (
	"fmt"
	"strings"
)

// resource is one mirrored table: where the API lists it, and which
// fields of a record, as the API sent it, fill which columns. The columns
// are the documented schema (see the package documentation); account_id
// comes first and raw last.
type resource struct {
	name string   // table name, cursor and lease key: "conversations"
	path string   // listing path under the API root: "inbox/conversations"
	key  string   // envelope key of the records: "conversations"
	cols []string // the columns after account_id and before raw; id first
	// scoped resources need a scope beyond inbox_read: a 403 skips them
	// (ResourceReport.Forbidden) instead of failing the pass.
	scoped bool

	fields []field
	tree   *pathNode // the fields' JSON paths, for the scanner
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

// pathNode is one level of the fields' JSON paths: which columns a key
// fills (with the rank of that path among the column's paths) and which
// keys below it matter.
type pathNode struct {
	targets  map[string][]target
	children map[string]*pathNode
}

type target struct{ col, rank int }

func newResource(name, path string, scoped bool, fields ...field) *resource {
	r := &resource{name: name, path: path, key: name, scoped: scoped, fields: fields, tree: &pathNode{}}
	for i, fl := range fields {
		r.cols = append(r.cols, fl.col)
		for rank, p := range fl.paths {
			n := r.tree
			parts := strings.Split(p, ".")
			for _, part := range parts[:len(parts)-1] {
				if n.children == nil {
					n.children = map[string]*pathNode{}
				}
				if n.children[part] == nil {
					n.children[part] = &pathNode{}
				}
				n = n.children[part]
			}
			if n.targets == nil {
				n.targets = map[string][]target{}
			}
			last := parts[len(parts)-1]
			n.targets[last] = append(n.targets[last], target{i, rank})
		}
	}
	if r.cols[0] != "id" {
		panic("inboxsync: a resource's first column must be id")
	}
	return r
}

// row reads the columns of one record, in cols' order, converted for d,
// and returns its id.
func (r *resource) row(d dialect, raw []byte) (int64, []any, error) {
	vals := make([]any, len(r.fields))
	ranks := make([]int, len(r.fields))
	for i := range ranks {
		ranks[i] = -1
	}
	s := &scanner{b: raw}
	var walk func(n *pathNode) error
	walk = func(n *pathNode) error {
		return s.object(func(key []byte) error {
			if ts := n.targets[string(key)]; len(ts) > 0 {
				v, err := s.value(r.fields[ts[0].col].kind)
				if err != nil {
					return fmt.Errorf("%s: %w", key, err)
				}
				for _, t := range ts {
					if v != nil && (ranks[t.col] < 0 || t.rank <= ranks[t.col]) { // a repeated key: the last wins
						vals[t.col], ranks[t.col] = v, t.rank
					}
				}
				return nil
			}
			if c := n.children[string(key)]; c != nil {
				return walk(c)
			}
			return s.skip()
		})
	}
	err := walk(r.tree)
	if err == nil {
		s.ws()
		if s.i != len(s.b) {
			err = errSyntax
		}
	}
	if err != nil {
		return 0, nil, fmt.Errorf("inboxsync: decoding a %s record: %w", r.name, err)
	}
	id, _ := vals[0].(int64)
	if id <= 0 {
		return 0, nil, fmt.Errorf("inboxsync: a %s record without an id", r.name)
	}
	vals[0] = id
	for i, fl := range r.fields {
		if fl.kind == kindTime && vals[i] != nil {
			if vals[i], err = d.wireTS(vals[i].(string)); err != nil {
				return 0, nil, fmt.Errorf("inboxsync: %s %d: %s: %w", r.name, id, fl.col, err)
			}
		}
	}
	return id, vals, nil
}
