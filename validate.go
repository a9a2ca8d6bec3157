package bookingsync

// Local validation: ids, and the request structs the API would reject.
// Two kinds of checks stay beside the encoding they share: an attachment's
// in NewAttachment.body, a listing's options in their encodeExtra. All of
// them build their error with invalid (or checkID), wrapping
// ErrInvalidRequest, and return it before anything is sent.

import (
	"fmt"
	"strings"
)

// checkID refuses the first of ids that is not positive: the error form
// of checkIDs.
func checkID(kind string, ids ...int64) error {
	if pr := checkIDs(kind, ids); pr != nil {
		return fmt.Errorf("%w: %s", ErrInvalidRequest, pr[0])
	}
	return nil
}

// checkIDs names the first id of ids that is not positive, as a problem
// for invalid.
func checkIDs(kind string, ids []int64) []string {
	for _, id := range ids {
		if id <= 0 {
			return []string{fmt.Sprintf("%s id %d: ids are positive", kind, id)}
		}
	}
	return nil
}

// invalid returns an error wrapping ErrInvalidRequest that lists the
// problems found in what, or nil when there are none.
func invalid(what string, problems ...string) error {
	if len(problems) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %s: %s", ErrInvalidRequest, what, strings.Join(problems, "; "))
}

// validate checks m; a sender is not required when SendAsHost is to fill it.
func (m *NewMessage) validate(needSender bool) error {
	if m == nil {
		return invalid("new message", "nil")
	}
	var pr []string
	if m.ConversationID <= 0 {
		pr = append(pr, "missing conversation id")
	}
	if needSender && m.SenderID <= 0 {
		pr = append(pr, "missing sender id (a Host participant's id)")
	}
	if strings.TrimSpace(m.Content) == "" {
		pr = append(pr, "missing content")
	}
	if m.Origin == "" {
		pr = append(pr, "missing origin")
	}
	if m.Visibility == "" {
		pr = append(pr, "missing visibility")
	}
	pr = append(pr, checkIDs("attachment", m.AttachmentIDs)...)
	if m.Visibility == VisibilityInternal && m.Channel != "" {
		pr = append(pr, "internal visibility cannot go with a channel")
	}
	return invalid("new message", pr...)
}

// validate checks p has every field; the Client refusal is the guard's.
func (p *NewParticipant) validate() error {
	if p == nil {
		return invalid("new participant", "nil")
	}
	var pr []string
	if p.ConversationID <= 0 {
		pr = append(pr, "missing conversation id")
	}
	if p.MemberID <= 0 {
		pr = append(pr, "missing member id")
	}
	if strings.TrimSpace(string(p.MemberType)) == "" {
		pr = append(pr, "missing member type")
	}
	return invalid("new participant", pr...)
}

// checkOptionalIDs checks the user and source ids when set.
func checkOptionalIDs(userID, sourceID *int64) []string {
	var pr []string
	if userID != nil {
		pr = append(pr, checkIDs("user", []int64{*userID})...)
	}
	if sourceID != nil {
		pr = append(pr, checkIDs("source", []int64{*sourceID})...)
	}
	return pr
}

// validate checks h: a host needs both names.
func (h *NewHost) validate() error {
	if h == nil {
		return invalid("new host", "nil")
	}
	var pr []string
	if strings.TrimSpace(h.Firstname) == "" {
		pr = append(pr, "missing firstname")
	}
	if strings.TrimSpace(h.Lastname) == "" {
		pr = append(pr, "missing lastname")
	}
	pr = append(pr, checkOptionalIDs(h.UserID, h.SourceID)...)
	return invalid("new host", pr...)
}

// validate checks u: no blank name, no field both set and cleared.
func (u *HostUpdate) validate() error {
	var pr []string
	if u.Firstname != nil && strings.TrimSpace(*u.Firstname) == "" {
		pr = append(pr, "blank firstname")
	}
	if u.Lastname != nil && strings.TrimSpace(*u.Lastname) == "" {
		pr = append(pr, "blank lastname")
	}
	if u.ClearEmail && u.Email != nil {
		pr = append(pr, "ClearEmail with Email")
	}
	if u.ClearUserID && u.UserID != nil {
		pr = append(pr, "ClearUserID with UserID")
	}
	pr = append(pr, checkOptionalIDs(u.UserID, u.SourceID)...)
	return invalid("host update", pr...)
}

// validate checks u: no empty content, no channel for an internal note.
func (u *MessageUpdate) validate() error {
	var pr []string
	if u.Content != nil && strings.TrimSpace(*u.Content) == "" {
		pr = append(pr, "empty content")
	}
	if u.Visibility != nil && *u.Visibility == VisibilityInternal && u.Channel != nil && *u.Channel != "" {
		pr = append(pr, "internal visibility cannot go with a channel")
	}
	pr = append(pr, checkIDs("attachment", u.AttachmentIDs)...)
	return invalid("message update", pr...)
}
