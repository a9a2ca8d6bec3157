package inboxsync

import (
	"fmt"
)

// resource is one mirrored table: where the API lists it, and how a record
// as the API sent it becomes a row. The columns are the documented schema
// (see the package documentation); account_id comes first and raw last.
type resource struct {
	name string   // table name, cursor and lease key: "conversations"
	path string   // listing path under the API root: "inbox/conversations"
	key  string   // envelope key of the records: "conversations"
	cols []string // the columns after account_id and before raw; id first
	// row decodes the filter columns of one record, in cols' order, and
	// returns its id.
	row func(d dialect, raw []byte) (id int64, vals []any, err error)
	// scoped resources need a scope beyond inbox_read: a 403 skips them
	// (ResourceReport.Forbidden) instead of failing the pass.
	scoped bool
}

// The mirrored resources, in the order a pass walks them.
var (
	resHosts = &resource{name: "hosts", path: "hosts", key: "hosts",
		cols: []string{"id", "user_id", "email", "updated_at"}, row: hostRow}
	resConversations = &resource{name: "conversations", path: "inbox/conversations", key: "conversations",
		cols: []string{"id", "subject", "default_channel", "created_by_type", "created_by_id", "assignee_id",
			"closed_at", "last_message_at", "created_at", "updated_at"}, row: conversationRow}
	resParticipants = &resource{name: "participants", path: "inbox/participants", key: "participants",
		cols: []string{"id", "conversation_id", "member_type", "member_id", "updated_at"}, row: participantRow}
	resMessages = &resource{name: "messages", path: "inbox/messages", key: "messages",
		cols: []string{"id", "conversation_id", "sender_id", "visibility", "channel", "sent_at", "ordered_at", "updated_at"}, row: messageRow}
	resAttachments = &resource{name: "attachments", path: "inbox/attachments", key: "attachments",
		cols: []string{"id", "name", "file_content_type", "file_size", "updated_at"}, row: attachmentRow}
	resBookings = &resource{name: "bookings", path: "bookings", key: "bookings", scoped: true,
		cols: []string{"id", "reference", "status", "rental_id", "client_id", "start_at", "end_at", "canceled_at", "updated_at"}, row: bookingRow}
	// Applications are not walked: the pass fetches those that created a
	// conversation and are not yet known (see Syncer.syncApplications).
	resApplications = &resource{name: "applications", path: "applications", key: "applications",
		cols: []string{"id", "name", "updated_at"}, row: applicationRow}

	walked = []*resource{resHosts, resConversations, resParticipants, resMessages, resAttachments, resBookings}
)

// resourceByName finds a mirrored resource by table name.
func resourceByName(name string) *resource {
	for _, r := range append(walked, resApplications) {
		if r.name == name {
			return r
		}
	}
	return nil
}

// wireTime is a time as the API wrote it ("" for null); rowOf turns it
// into the dialect's column value.
type wireTime string

// rowOf returns a row's id and values, wireTimes converted for d.
func rowOf(d dialect, id int64, vals ...any) (int64, []any, error) {
	for i, v := range vals {
		if t, ok := v.(wireTime); ok {
			c, err := d.wireTS(string(t))
			if err != nil {
				return 0, nil, fmt.Errorf("inboxsync: record %d: %w", id, err)
			}
			vals[i] = c
		}
	}
	return id, vals, nil
}

func nullStr(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nullID(p *int64) any {
	if p == nil {
		return nil
	}
	return *p
}

func conversationRow(d dialect, raw []byte) (int64, []any, error) {
	var (
		id                                      int64
		subject, channel, creatorType, linkType string
		creatorID, assignee, linkID             any
		closed, lastMessage, created, updated   wireTime
	)
	err := scanRecord(raw, "conversation", func(s *scanner, key []byte) error {
		switch string(key) {
		case "id":
			return s.id(&id)
		case "subject":
			return s.str(&subject)
		case "default_channel":
			return s.str(&channel)
		case "created_by_type":
			return s.str(&creatorType)
		case "created_by_id":
			return s.ref(&creatorID)
		case "closed_at":
			return s.time(&closed)
		case "last_message_at":
			return s.time(&lastMessage)
		case "created_at":
			return s.time(&created)
		case "updated_at":
			return s.time(&updated)
		case "links":
			return s.object(func(key []byte) error {
				switch string(key) {
				case "assignee":
					return s.ref(&assignee)
				case "created_by":
					return s.poly(&linkID, &linkType)
				}
				return s.skip()
			})
		}
		return s.skip()
	})
	if err != nil {
		return 0, nil, err
	}
	// Older payloads name the creator only as a polymorphic link.
	if creatorType == "" && linkType != "" {
		creatorType, creatorID = linkType, linkID
	}
	return rowOf(d, id, id, nullStr(subject), nullStr(channel), nullStr(creatorType), creatorID, assignee,
		closed, lastMessage, created, updated)
}

func participantRow(d dialect, raw []byte) (int64, []any, error) {
	var (
		id             int64
		conv, memberID any
		memberType     string
		updated        wireTime
	)
	err := scanRecord(raw, "participant", func(s *scanner, key []byte) error {
		switch string(key) {
		case "id":
			return s.id(&id)
		case "updated_at":
			return s.time(&updated)
		case "links":
			return s.object(func(key []byte) error {
				switch string(key) {
				case "conversation":
					return s.ref(&conv)
				case "member":
					return s.poly(&memberID, &memberType)
				}
				return s.skip()
			})
		}
		return s.skip()
	})
	if err != nil {
		return 0, nil, err
	}
	return rowOf(d, id, id, conv, nullStr(memberType), memberID, updated)
}

func messageRow(d dialect, raw []byte) (int64, []any, error) {
	var (
		id                     int64
		visibility, channel    string
		sent, created, updated wireTime
		conv, sender           any
	)
	err := scanRecord(raw, "message", func(s *scanner, key []byte) error {
		switch string(key) {
		case "id":
			return s.id(&id)
		case "visibility":
			return s.str(&visibility)
		case "channel":
			return s.str(&channel)
		case "sent_at":
			return s.time(&sent)
		case "created_at":
			return s.time(&created)
		case "updated_at":
			return s.time(&updated)
		case "links":
			return s.object(func(key []byte) error {
				switch string(key) {
				case "conversation":
					return s.ref(&conv)
				case "sender":
					return s.ref(&sender)
				}
				return s.skip()
			})
		}
		return s.skip()
	})
	if err != nil {
		return 0, nil, err
	}
	// ordered_at is when the message counts in its conversation's order:
	// sent_at, or created_at for a message sent without one.
	ordered := sent
	if ordered == "" {
		ordered = created
	}
	return rowOf(d, id, id, conv, sender, nullStr(visibility), nullStr(channel), sent, ordered, updated)
}

func attachmentRow(d dialect, raw []byte) (int64, []any, error) {
	var (
		id                int64
		name, contentType string
		size              any
		updated           wireTime
	)
	err := scanRecord(raw, "attachment", func(s *scanner, key []byte) error {
		switch string(key) {
		case "id":
			return s.id(&id)
		case "name":
			return s.str(&name)
		case "file_content_type":
			return s.str(&contentType)
		case "file_size":
			return s.ref(&size)
		case "updated_at":
			return s.time(&updated)
		}
		return s.skip()
	})
	if err != nil {
		return 0, nil, err
	}
	return rowOf(d, id, id, nullStr(name), nullStr(contentType), size, updated)
}

func hostRow(d dialect, raw []byte) (int64, []any, error) {
	var (
		id      int64
		email   string
		user    any
		updated wireTime
	)
	err := scanRecord(raw, "host", func(s *scanner, key []byte) error {
		switch string(key) {
		case "id":
			return s.id(&id)
		case "email":
			return s.str(&email)
		case "updated_at":
			return s.time(&updated)
		case "links":
			return s.object(func(key []byte) error {
				if string(key) == "user" {
					return s.ref(&user)
				}
				return s.skip()
			})
		}
		return s.skip()
	})
	if err != nil {
		return 0, nil, err
	}
	return rowOf(d, id, id, user, nullStr(email), updated)
}

func applicationRow(d dialect, raw []byte) (int64, []any, error) {
	var (
		id      int64
		name    string
		updated wireTime
	)
	err := scanRecord(raw, "application", func(s *scanner, key []byte) error {
		switch string(key) {
		case "id":
			return s.id(&id)
		case "name":
			return s.str(&name)
		case "updated_at":
			return s.time(&updated)
		}
		return s.skip()
	})
	if err != nil {
		return 0, nil, err
	}
	return rowOf(d, id, id, nullStr(name), updated)
}

func bookingRow(d dialect, raw []byte) (int64, []any, error) {
	var (
		id                            int64
		reference, status             string
		rental, client                any
		start, end, canceled, updated wireTime
	)
	err := scanRecord(raw, "booking", func(s *scanner, key []byte) error {
		switch string(key) {
		case "id":
			return s.id(&id)
		case "reference":
			return s.str(&reference)
		case "status":
			return s.str(&status)
		case "start_at":
			return s.time(&start)
		case "end_at":
			return s.time(&end)
		case "canceled_at":
			return s.time(&canceled)
		case "updated_at":
			return s.time(&updated)
		case "links":
			return s.object(func(key []byte) error {
				switch string(key) {
				case "rental":
					return s.ref(&rental)
				case "client":
					return s.ref(&client)
				}
				return s.skip()
			})
		}
		return s.skip()
	})
	if err != nil {
		return 0, nil, err
	}
	return rowOf(d, id, id, nullStr(reference), nullStr(status), rental, client, start, end, canceled, updated)
}
