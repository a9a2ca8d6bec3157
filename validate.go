package bookingsync

// Local validation, in one place: ids, and the request structs the API
// would reject. Every failure wraps ErrInvalidRequest and is returned
// before anything is sent.

import (
	"fmt"
	"strings"
)

// checkID refuses an id that is not positive.
func checkID(kind string, id int64) error {
	if id <= 0 {
		return fmt.Errorf("%w: %s id %d: ids are positive", ErrInvalidRequest, kind, id)
	}
	return nil
}

// checkIDs names the first id of ids that is not positive.
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
	if userID != nil && *userID <= 0 {
		pr = append(pr, "user id must be positive")
	}
	if sourceID != nil && *sourceID <= 0 {
		pr = append(pr, "source id must be positive")
	}
	return pr
}
