package inboxsync

import (
	"encoding/json"
	"fmt"
	"time"
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
	// returns its id and updated_at.
	row func(d dialect, raw []byte) (id int64, updated *time.Time, vals []any, err error)
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

// poly is a polymorphic link, {"id": 5, "type": "Host"}.
type poly struct {
	ID   *int64 `json:"id"`
	Type string `json:"type"`
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

func decodeRow(raw []byte, v any, what string) error {
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("inboxsync: decoding a %s: %w", what, err)
	}
	return nil
}

func conversationRow(d dialect, raw []byte) (int64, *time.Time, []any, error) {
	var w struct {
		ID             int64      `json:"id"`
		Subject        string     `json:"subject"`
		DefaultChannel string     `json:"default_channel"`
		CreatedByType  string     `json:"created_by_type"`
		CreatedByID    *int64     `json:"created_by_id"`
		ClosedAt       *time.Time `json:"closed_at"`
		LastMessageAt  *time.Time `json:"last_message_at"`
		CreatedAt      *time.Time `json:"created_at"`
		UpdatedAt      *time.Time `json:"updated_at"`
		Links          struct {
			Assignee  *int64 `json:"assignee"`
			CreatedBy *poly  `json:"created_by"`
		} `json:"links"`
	}
	if err := decodeRow(raw, &w, "conversation"); err != nil {
		return 0, nil, nil, err
	}
	if w.CreatedByType == "" && w.Links.CreatedBy != nil {
		w.CreatedByType, w.CreatedByID = w.Links.CreatedBy.Type, w.Links.CreatedBy.ID
	}
	return w.ID, w.UpdatedAt, []any{w.ID, nullStr(w.Subject), nullStr(w.DefaultChannel), nullStr(w.CreatedByType),
		nullID(w.CreatedByID), nullID(w.Links.Assignee), d.ts(w.ClosedAt), d.ts(w.LastMessageAt),
		d.ts(w.CreatedAt), d.ts(w.UpdatedAt)}, nil
}

func participantRow(d dialect, raw []byte) (int64, *time.Time, []any, error) {
	var w struct {
		ID        int64      `json:"id"`
		UpdatedAt *time.Time `json:"updated_at"`
		Links     struct {
			Conversation *int64 `json:"conversation"`
			Member       poly   `json:"member"`
		} `json:"links"`
	}
	if err := decodeRow(raw, &w, "participant"); err != nil {
		return 0, nil, nil, err
	}
	return w.ID, w.UpdatedAt, []any{w.ID, nullID(w.Links.Conversation), nullStr(w.Links.Member.Type),
		nullID(w.Links.Member.ID), d.ts(w.UpdatedAt)}, nil
}

func messageRow(d dialect, raw []byte) (int64, *time.Time, []any, error) {
	var w struct {
		ID         int64      `json:"id"`
		Visibility string     `json:"visibility"`
		Channel    string     `json:"channel"`
		SentAt     *time.Time `json:"sent_at"`
		CreatedAt  *time.Time `json:"created_at"`
		UpdatedAt  *time.Time `json:"updated_at"`
		Links      struct {
			Conversation *int64 `json:"conversation"`
			Sender       *int64 `json:"sender"`
		} `json:"links"`
	}
	if err := decodeRow(raw, &w, "message"); err != nil {
		return 0, nil, nil, err
	}
	// ordered_at is when the message counts in its conversation's order:
	// sent_at, or created_at for a message sent without one.
	ordered := w.SentAt
	if ordered == nil {
		ordered = w.CreatedAt
	}
	return w.ID, w.UpdatedAt, []any{w.ID, nullID(w.Links.Conversation), nullID(w.Links.Sender), nullStr(w.Visibility),
		nullStr(w.Channel), d.ts(w.SentAt), d.ts(ordered), d.ts(w.UpdatedAt)}, nil
}

func attachmentRow(d dialect, raw []byte) (int64, *time.Time, []any, error) {
	var w struct {
		ID              int64      `json:"id"`
		Name            string     `json:"name"`
		FileContentType string     `json:"file_content_type"`
		FileSize        *int64     `json:"file_size"`
		UpdatedAt       *time.Time `json:"updated_at"`
	}
	if err := decodeRow(raw, &w, "attachment"); err != nil {
		return 0, nil, nil, err
	}
	return w.ID, w.UpdatedAt, []any{w.ID, nullStr(w.Name), nullStr(w.FileContentType), nullID(w.FileSize), d.ts(w.UpdatedAt)}, nil
}

func hostRow(d dialect, raw []byte) (int64, *time.Time, []any, error) {
	var w struct {
		ID        int64      `json:"id"`
		Email     string     `json:"email"`
		UpdatedAt *time.Time `json:"updated_at"`
		Links     struct {
			User *int64 `json:"user"`
		} `json:"links"`
	}
	if err := decodeRow(raw, &w, "host"); err != nil {
		return 0, nil, nil, err
	}
	return w.ID, w.UpdatedAt, []any{w.ID, nullID(w.Links.User), nullStr(w.Email), d.ts(w.UpdatedAt)}, nil
}

func applicationRow(d dialect, raw []byte) (int64, *time.Time, []any, error) {
	var w struct {
		ID        int64      `json:"id"`
		Name      string     `json:"name"`
		UpdatedAt *time.Time `json:"updated_at"`
	}
	if err := decodeRow(raw, &w, "application"); err != nil {
		return 0, nil, nil, err
	}
	return w.ID, w.UpdatedAt, []any{w.ID, nullStr(w.Name), d.ts(w.UpdatedAt)}, nil
}

func bookingRow(d dialect, raw []byte) (int64, *time.Time, []any, error) {
	var w struct {
		ID         int64      `json:"id"`
		Reference  string     `json:"reference"`
		Status     string     `json:"status"`
		StartAt    *time.Time `json:"start_at"`
		EndAt      *time.Time `json:"end_at"`
		CanceledAt *time.Time `json:"canceled_at"`
		UpdatedAt  *time.Time `json:"updated_at"`
		Links      struct {
			Rental *int64 `json:"rental"`
			Client *int64 `json:"client"`
		} `json:"links"`
	}
	if err := decodeRow(raw, &w, "booking"); err != nil {
		return 0, nil, nil, err
	}
	return w.ID, w.UpdatedAt, []any{w.ID, nullStr(w.Reference), nullStr(w.Status), nullID(w.Links.Rental), nullID(w.Links.Client),
		d.ts(w.StartAt), d.ts(w.EndAt), d.ts(w.CanceledAt), d.ts(w.UpdatedAt)}, nil
}
