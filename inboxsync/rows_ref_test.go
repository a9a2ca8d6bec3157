package inboxsync

import (
	"encoding/json"
	"fmt"
)

// The rows as encoding/json reads them: the reference FuzzRows holds the
// scanner to.

// refPoly is a polymorphic link, {"id": 5, "type": "Host"}.
type refPoly struct {
	ID   *int64 `json:"id"`
	Type string `json:"type"`
}

func refDecodeRow(raw []byte, v any, what string) error {
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("inboxsync: decoding a %s: %w", what, err)
	}
	return nil
}

func refConversationRow(d dialect, raw []byte) (int64, []any, error) {
	var w struct {
		ID             int64    `json:"id"`
		Subject        string   `json:"subject"`
		DefaultChannel string   `json:"default_channel"`
		CreatedByType  string   `json:"created_by_type"`
		CreatedByID    *int64   `json:"created_by_id"`
		ClosedAt       wireTime `json:"closed_at"`
		LastMessageAt  wireTime `json:"last_message_at"`
		CreatedAt      wireTime `json:"created_at"`
		UpdatedAt      wireTime `json:"updated_at"`
		Links          struct {
			Assignee  *int64   `json:"assignee"`
			CreatedBy *refPoly `json:"created_by"`
		} `json:"links"`
	}
	if err := refDecodeRow(raw, &w, "conversation"); err != nil {
		return 0, nil, err
	}
	if w.CreatedByType == "" && w.Links.CreatedBy != nil {
		w.CreatedByType, w.CreatedByID = w.Links.CreatedBy.Type, w.Links.CreatedBy.ID
	}
	return rowOf(d, w.ID, w.ID, nullStr(w.Subject), nullStr(w.DefaultChannel), nullStr(w.CreatedByType),
		nullID(w.CreatedByID), nullID(w.Links.Assignee), w.ClosedAt, w.LastMessageAt,
		w.CreatedAt, w.UpdatedAt)
}

func refParticipantRow(d dialect, raw []byte) (int64, []any, error) {
	var w struct {
		ID        int64    `json:"id"`
		UpdatedAt wireTime `json:"updated_at"`
		Links     struct {
			Conversation *int64  `json:"conversation"`
			Member       refPoly `json:"member"`
		} `json:"links"`
	}
	if err := refDecodeRow(raw, &w, "participant"); err != nil {
		return 0, nil, err
	}
	return rowOf(d, w.ID, w.ID, nullID(w.Links.Conversation), nullStr(w.Links.Member.Type),
		nullID(w.Links.Member.ID), w.UpdatedAt)
}

func refMessageRow(d dialect, raw []byte) (int64, []any, error) {
	var w struct {
		ID         int64    `json:"id"`
		Visibility string   `json:"visibility"`
		Channel    string   `json:"channel"`
		SentAt     wireTime `json:"sent_at"`
		CreatedAt  wireTime `json:"created_at"`
		UpdatedAt  wireTime `json:"updated_at"`
		Links      struct {
			Conversation *int64 `json:"conversation"`
			Sender       *int64 `json:"sender"`
		} `json:"links"`
	}
	if err := refDecodeRow(raw, &w, "message"); err != nil {
		return 0, nil, err
	}
	// ordered_at is when the message counts in its conversation's order:
	// sent_at, or created_at for a message sent without one.
	ordered := w.SentAt
	if ordered == "" {
		ordered = w.CreatedAt
	}
	return rowOf(d, w.ID, w.ID, nullID(w.Links.Conversation), nullID(w.Links.Sender), nullStr(w.Visibility),
		nullStr(w.Channel), w.SentAt, ordered, w.UpdatedAt)
}

func refAttachmentRow(d dialect, raw []byte) (int64, []any, error) {
	var w struct {
		ID              int64    `json:"id"`
		Name            string   `json:"name"`
		FileContentType string   `json:"file_content_type"`
		FileSize        *int64   `json:"file_size"`
		UpdatedAt       wireTime `json:"updated_at"`
	}
	if err := refDecodeRow(raw, &w, "attachment"); err != nil {
		return 0, nil, err
	}
	return rowOf(d, w.ID, w.ID, nullStr(w.Name), nullStr(w.FileContentType), nullID(w.FileSize), w.UpdatedAt)
}

func refHostRow(d dialect, raw []byte) (int64, []any, error) {
	var w struct {
		ID        int64    `json:"id"`
		Email     string   `json:"email"`
		UpdatedAt wireTime `json:"updated_at"`
		Links     struct {
			User *int64 `json:"user"`
		} `json:"links"`
	}
	if err := refDecodeRow(raw, &w, "host"); err != nil {
		return 0, nil, err
	}
	return rowOf(d, w.ID, w.ID, nullID(w.Links.User), nullStr(w.Email), w.UpdatedAt)
}

func refApplicationRow(d dialect, raw []byte) (int64, []any, error) {
	var w struct {
		ID        int64    `json:"id"`
		Name      string   `json:"name"`
		UpdatedAt wireTime `json:"updated_at"`
	}
	if err := refDecodeRow(raw, &w, "application"); err != nil {
		return 0, nil, err
	}
	return rowOf(d, w.ID, w.ID, nullStr(w.Name), w.UpdatedAt)
}

func refBookingRow(d dialect, raw []byte) (int64, []any, error) {
	var w struct {
		ID         int64    `json:"id"`
		Reference  string   `json:"reference"`
		Status     string   `json:"status"`
		StartAt    wireTime `json:"start_at"`
		EndAt      wireTime `json:"end_at"`
		CanceledAt wireTime `json:"canceled_at"`
		UpdatedAt  wireTime `json:"updated_at"`
		Links      struct {
			Rental *int64 `json:"rental"`
			Client *int64 `json:"client"`
		} `json:"links"`
	}
	if err := refDecodeRow(raw, &w, "booking"); err != nil {
		return 0, nil, err
	}
	return rowOf(d, w.ID, w.ID, nullStr(w.Reference), nullStr(w.Status), nullID(w.Links.Rental), nullID(w.Links.Client),
		w.StartAt, w.EndAt, w.CanceledAt, w.UpdatedAt)
}
