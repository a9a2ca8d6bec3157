package inboxsync

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-bookingsync/bookingsync"
)

// ConversationQuery filters Store.Conversations; the zero value matches
// every conversation of the account.
type ConversationQuery struct {
	// Status selects open (not closed) or closed conversations; "" both.
	Status Status
	// UpdatedSince keeps conversations updated at or after it; zero: all.
	UpdatedSince time.Time
	// Channel keeps conversations whose default_channel is it; "": all.
	Channel bookingsync.Channel
	// AwaitingReply keeps conversations where the guest spoke last: the
	// latest message that is not internal was sent by a Client participant.
	AwaitingReply bool
	// Limit caps the number returned; 0: no cap.
	Limit int
}

// Status is a conversation's state for ConversationQuery.
type Status string

// The conversation states.
const (
	StatusOpen   Status = "open"
	StatusClosed Status = "closed"
)

// Conversations returns the account's conversations matching q from the
// local copy alone, most recent activity (last message, else update)
// first.
func (s *Store) Conversations(ctx context.Context, accountID int64, q ConversationQuery) ([]*bookingsync.Conversation, error) {
	where := []string{"c.account_id = ?"}
	args := []any{accountID}
	status, err := statusWhere(q.Status)
	if err != nil {
		return nil, err
	}
	if status != "" {
		where = append(where, status)
	}
	if !q.UpdatedSince.IsZero() {
		where = append(where, "c.updated_at >= ?")
		args = append(args, ts(s.d, &q.UpdatedSince))
	}
	if q.Channel != "" {
		where = append(where, "c.default_channel = ?")
		args = append(args, string(q.Channel))
	}
	if q.AwaitingReply {
		where = append(where, awaitingReply+" = 'Client'")
	}
	query := "SELECT c.raw FROM conversations c WHERE " + strings.Join(where, " AND ") +
		" ORDER BY COALESCE(c.last_message_at, c.updated_at) DESC, c.id DESC"
	if q.Limit > 0 {
		query += fmt.Sprintf(" LIMIT %d", q.Limit)
	}
	return readAll[bookingsync.Conversation](ctx, s, "conversations", query, args...)
}

// statusWhere is the condition on conversations c of a Status; "" for
// all.
func statusWhere(st Status) (string, error) {
	switch st {
	case "":
		return "", nil
	case StatusOpen:
		return "c.closed_at IS NULL", nil
	case StatusClosed:
		return "c.closed_at IS NOT NULL", nil
	}
	return "", fmt.Errorf("inboxsync: unknown conversation status %q", st)
}

// awaitingReply is the member type ('Client', 'Host') of the sender of
// conversation c's latest message that is not internal: the guest spoke
// last when it is 'Client'.
const awaitingReply = `(SELECT p.member_type FROM messages m
	LEFT JOIN participants p ON p.account_id = m.account_id AND p.id = m.sender_id
	WHERE m.account_id = c.account_id AND m.conversation_id = c.id AND (m.visibility IS NULL OR m.visibility <> 'internal')
	ORDER BY m.ordered_at DESC, m.id DESC LIMIT 1)`

// Conversation returns one conversation from the local copy, or an error
// matching ErrNotFound.
func (s *Store) Conversation(ctx context.Context, accountID, id int64) (*bookingsync.Conversation, error) {
	return readOne[bookingsync.Conversation](ctx, s, "conversations", accountID, id)
}

// Participants returns a conversation's participants from the local copy,
// by id.
func (s *Store) Participants(ctx context.Context, accountID, conversationID int64) ([]*bookingsync.Participant, error) {
	return readAll[bookingsync.Participant](ctx, s, "participants",
		"SELECT raw FROM participants WHERE account_id = ? AND conversation_id = ? ORDER BY id", accountID, conversationID)
}

// Messages returns a conversation's messages from the local copy, oldest
// first (by sent_at, or created_at when it was sent without one).
func (s *Store) Messages(ctx context.Context, accountID, conversationID int64) ([]*bookingsync.Message, error) {
	return readAll[bookingsync.Message](ctx, s, "messages",
		"SELECT raw FROM messages WHERE account_id = ? AND conversation_id = ? ORDER BY ordered_at, id", accountID, conversationID)
}

// Hosts returns the account's hosts from the local copy, by id.
func (s *Store) Hosts(ctx context.Context, accountID int64) ([]*bookingsync.Host, error) {
	return readAll[bookingsync.Host](ctx, s, "hosts", "SELECT raw FROM hosts WHERE account_id = ? ORDER BY id", accountID)
}

// Attachments returns the attachments of a message from the local copy,
// in the message's order.
func (s *Store) Attachments(ctx context.Context, accountID, messageID int64) ([]*bookingsync.Attachment, error) {
	var raw []byte
	err := s.queryRow(ctx, s.db, "SELECT raw FROM messages WHERE account_id = ? AND id = ?", accountID, messageID).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("inboxsync: message %d of account %d: %w", messageID, accountID, ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	var m bookingsync.Message
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("inboxsync: decoding message %d: %w", messageID, err)
	}
	var out []*bookingsync.Attachment
	for _, id := range m.Links.Attachments {
		var a []byte
		err := s.queryRow(ctx, s.db, "SELECT raw FROM attachments WHERE account_id = ? AND id = ?", accountID, id).Scan(&a)
		if errors.Is(err, sql.ErrNoRows) {
			continue // not synced yet
		}
		if err != nil {
			return nil, err
		}
		at := new(bookingsync.Attachment)
		if err := json.Unmarshal(a, at); err != nil {
			return nil, fmt.Errorf("inboxsync: decoding attachment %d: %w", id, err)
		}
		out = append(out, at)
	}
	return out, nil
}

// Bookings returns the stored bookings linked to a conversation (its
// links.bookings), by id. Without the bookings_read scope none are stored.
func (s *Store) Bookings(ctx context.Context, accountID, conversationID int64) ([]*bookingsync.Booking, error) {
	c, err := s.Conversation(ctx, accountID, conversationID)
	if err != nil {
		return nil, err
	}
	if len(c.Links.Bookings) == 0 {
		return nil, nil
	}
	list, args := idList(c.Links.Bookings)
	return readAll[bookingsync.Booking](ctx, s, "bookings",
		"SELECT raw FROM bookings WHERE account_id = ? AND id IN ("+list+") ORDER BY id", append([]any{accountID}, args...)...)
}

// Guest returns a stored guest (a Client participant's member id, a
// booking's client), or an error matching ErrNotFound. Without the
// clients_read scope none are stored.
func (s *Store) Guest(ctx context.Context, accountID, id int64) (*bookingsync.Guest, error) {
	return readOne[bookingsync.Guest](ctx, s, "clients", accountID, id)
}

// Rental returns a stored rental (a booking's rental), or an error
// matching ErrNotFound. Without the rentals_read scope none are stored.
func (s *Store) Rental(ctx context.Context, accountID, id int64) (*bookingsync.Rental, error) {
	return readOne[bookingsync.Rental](ctx, s, "rentals", accountID, id)
}

// Application returns a stored application (the creator of channel
// conversations), or an error matching ErrNotFound.
func (s *Store) Application(ctx context.Context, accountID, id int64) (*bookingsync.Application, error) {
	return readOne[bookingsync.Application](ctx, s, "applications", accountID, id)
}

// readOne decodes the record (accountID, id) of table, or fails with
// ErrNotFound.
func readOne[T any](ctx context.Context, s *Store, table string, accountID, id int64) (*T, error) {
	l, err := readAll[T](ctx, s, table, "SELECT raw FROM "+table+" WHERE account_id = ? AND id = ?", accountID, id)
	if err != nil {
		return nil, err
	}
	if len(l) == 0 {
		return nil, fmt.Errorf("inboxsync: %s %d of account %d: %w", table, id, accountID, ErrNotFound)
	}
	return l[0], nil
}

// readAll runs a query selecting raw and decodes each row into a T.
func readAll[T any](ctx context.Context, s *Store, what, query string, args ...any) ([]*T, error) {
	rows, err := s.query(ctx, s.db, query, args...)
	if err != nil {
		return nil, fmt.Errorf("inboxsync: reading %s: %w", what, err)
	}
	defer rows.Close()
	var out []*T
	for rows.Next() {
		var raw []byte
		if err := rows.Scan(&raw); err != nil {
			return nil, fmt.Errorf("inboxsync: reading %s: %w", what, err)
		}
		v := new(T)
		if err := json.Unmarshal(raw, v); err != nil {
			return nil, fmt.Errorf("inboxsync: decoding %s: %w", what, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("inboxsync: reading %s: %w", what, err)
	}
	return out, nil
}

// cursor is the stored cursor of (acct, resource); zero when none.
func (s *Store) cursor(ctx context.Context, acct int64, name string) (time.Time, error) {
	var v any
	err := s.queryRow(ctx, s.db, "SELECT synced_at FROM sync_cursors WHERE account_id = ? AND resource = ?", acct, name).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("inboxsync: reading the %s cursor: %w", name, err)
	}
	return scanTime(v)
}

// Cursor returns the stored cursor of one of the account's resources
// ("conversations", "messages", …): the server time from which the next
// pass lists changes. It is zero before the first complete walk.
func (s *Store) Cursor(ctx context.Context, accountID int64, resource string) (time.Time, error) {
	return s.cursor(ctx, accountID, resource)
}
