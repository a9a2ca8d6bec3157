package inboxsync

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Outgoing is a reply for Store.Enqueue.
type Outgoing struct {
	ConversationID int64
	HostID         int64  // the host replying (a Host participant is ensured)
	Content        string // sent as it is; not empty
	// Key is the caller's idempotency key: the same key queues once (a
	// form submitted twice, a request retried). "" makes a fresh one.
	Key string
}

// OutboxItem is a reply in the outbox.
type OutboxItem struct {
	ID             int64
	Key            string
	ConversationID int64
	State          string // "queued", "sending", "sent", "failed"
	MessageID      int64  // once sent
	Error          string // once failed: why, in words
	QueuedAt       time.Time
	SentAt         time.Time // once sent: the message's sent_at

	HostID   int64  // the host replying
	Content  string // the reply
	Attempts int    // sends tried (each claim of the item counts one)
}

// The outbox states.
const (
	OutboxQueued  = "queued"  // nothing sent yet
	OutboxSending = "sending" // a send may have reached the API; it is read back before any resend
	OutboxSent    = "sent"
	OutboxFailed  = "failed"
)

// ErrKeyReused is returned by Enqueue when the key already queued a
// different reply (another conversation, host or content); the item
// returned with it is the one the key queued.
var ErrKeyReused = errors.New("inboxsync: outbox key already queued a different reply")

// maxOutboxContent bounds a reply's size.
const maxOutboxContent = 64 << 10

// Enqueue writes a reply to the outbox, durably, before anything is sent:
// the Syncer (Run, Deliver) or Fleet holding the account sends it and
// records the message's id; see Syncer.Deliver for how a reply reaches the
// API once, whatever fails. The same Key queues once: enqueuing it again
// returns the item it queued (with ErrKeyReused if the reply differs).
func (s *Store) Enqueue(ctx context.Context, accountID int64, m Outgoing) (*OutboxItem, error) {
	switch {
	case accountID <= 0 || m.ConversationID <= 0 || m.HostID <= 0:
		return nil, fmt.Errorf("inboxsync: Enqueue: account %d, conversation %d, host %d: ids must be positive", accountID, m.ConversationID, m.HostID)
	case strings.TrimSpace(m.Content) == "":
		return nil, errors.New("inboxsync: Enqueue: empty content")
	case len(m.Content) > maxOutboxContent:
		return nil, fmt.Errorf("inboxsync: Enqueue: content of %d bytes, over %d", len(m.Content), maxOutboxContent)
	case len(m.Key) > 200:
		return nil, errors.New("inboxsync: Enqueue: key over 200 bytes")
	}
	if m.Key == "" {
		m.Key = rand.Text()
	}
	var item *OutboxItem
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := s.exec(ctx, tx, `INSERT INTO outbox (account_id, item_key, conversation_id, host_id, content, state, next_at, queued_at)
VALUES (?, ?, ?, ?, ?, 'queued', `+clockSQL+`, `+clockSQL+`) ON CONFLICT (account_id, item_key) DO NOTHING`,
			accountID, m.Key, m.ConversationID, m.HostID, m.Content, s.clockAt(0), s.clockAt(0))
		if err != nil {
			return err
		}
		if item, err = s.outboxItem(ctx, tx, "account_id = ? AND item_key = ?", accountID, m.Key); err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 1 {
			return s.noteOutbox(ctx, tx, accountID, item)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("inboxsync: Enqueue: %w", err)
	}
	if item.ConversationID != m.ConversationID || item.HostID != m.HostID || item.Content != m.Content {
		return item, fmt.Errorf("%w (key %q, item %d)", ErrKeyReused, m.Key, item.ID)
	}
	s.outboxSignal.fire(accountID)
	s.changeSignal.fire(accountID)
	return item, nil
}

// OutboxItem returns the item the key queued, or an error matching
// ErrNotFound.
func (s *Store) OutboxItem(ctx context.Context, accountID int64, key string) (*OutboxItem, error) {
	return s.outboxItem(ctx, s.db, "account_id = ? AND item_key = ?", accountID, key)
}

// OutboxItems returns the account's outbox items of a conversation (0:
// of every conversation), oldest first, sent and failed ones included.
func (s *Store) OutboxItems(ctx context.Context, accountID, conversationID int64) ([]*OutboxItem, error) {
	where, args := "account_id = ?", []any{accountID}
	if conversationID != 0 {
		where, args = where+" AND conversation_id = ?", append(args, conversationID)
	}
	return s.outboxItems(ctx, s.db, where+" ORDER BY id", args...)
}

const outboxColumns = "id, item_key, conversation_id, host_id, content, state, attempts, message_id, error, queued_at, sent_at"

func (s *Store) outboxItem(ctx context.Context, q querier, where string, args ...any) (*OutboxItem, error) {
	items, err := s.outboxItems(ctx, q, where, args...)
	if err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return nil, fmt.Errorf("inboxsync: outbox item: %w", ErrNotFound)
	}
	return items[0], nil
}

func (s *Store) outboxItems(ctx context.Context, q querier, where string, args ...any) ([]*OutboxItem, error) {
	rows, err := s.query(ctx, q, "SELECT "+outboxColumns+" FROM outbox WHERE "+where, args...)
	if err != nil {
		return nil, fmt.Errorf("inboxsync: reading the outbox: %w", err)
	}
	defer rows.Close()
	var out []*OutboxItem
	for rows.Next() {
		it, err := s.scanOutboxItem(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, it)
	}
	return out, rows.Err()
}

// scanOutboxItem reads a row of outboxColumns, then extra.
func (s *Store) scanOutboxItem(rows *sql.Rows, extra ...any) (*OutboxItem, error) {
	it := &OutboxItem{}
	var msg sql.NullInt64
	var why sql.NullString
	var queued, sent any
	dest := append([]any{&it.ID, &it.Key, &it.ConversationID, &it.HostID, &it.Content, &it.State, &it.Attempts, &msg, &why, &queued, &sent}, extra...)
	if err := rows.Scan(dest...); err != nil {
		return nil, fmt.Errorf("inboxsync: reading the outbox: %w", err)
	}
	it.MessageID, it.Error = msg.Int64, why.String
	var err error
	if it.QueuedAt, err = scanTime(queued); err != nil {
		return nil, err
	}
	if it.SentAt, err = scanTime(sent); err != nil {
		return nil, err
	}
	return it, nil
}

// pendingOutbox returns the account's items not yet sent or failed,
// oldest first, and whether each is due now (by the database's clock).
func (s *Store) pendingOutbox(ctx context.Context, accountID int64, limit int) ([]*OutboxItem, []bool, error) {
	rows, err := s.query(ctx, s.db, "SELECT "+outboxColumns+", CASE WHEN next_at <= "+clockSQL+` THEN 1 ELSE 0 END
FROM outbox WHERE account_id = ? AND state IN ('queued', 'sending') ORDER BY id LIMIT ?`, s.clockAt(0), accountID, limit)
	if err != nil {
		return nil, nil, fmt.Errorf("inboxsync: reading the outbox: %w", err)
	}
	defer rows.Close()
	var items []*OutboxItem
	var due []bool
	for rows.Next() {
		var now int
		it, err := s.scanOutboxItem(rows, &now)
		if err != nil {
			return nil, nil, err
		}
		items, due = append(items, it), append(due, now == 1)
	}
	return items, due, rows.Err()
}

// claimOutbox makes holder the sender of it until ttl from now, if it is
// still as read (state and attempts) and due: replicas delivering at once
// claim an item once. The first claim fixes the message's sent_at: the
// current second, or a later one that no other item of the conversation
// has. It reports whether holder got the item, updated.
func (s *Store) claimOutbox(ctx context.Context, acct int64, it *OutboxItem, holder string, ttl time.Duration) (bool, error) {
	sentAt := it.SentAt
	for try := 0; ; try++ {
		if it.SentAt.IsZero() {
			sentAt = time.Now().UTC().Truncate(time.Second).Add(time.Duration(try) * time.Second)
		}
		var changed bool
		err := s.inTx(ctx, func(tx *sql.Tx) error {
			res, err := s.exec(ctx, tx, `UPDATE outbox SET state = 'sending', claim = ?, attempts = attempts + 1, next_at = `+clockSQL+`,
	sent_at = ?, error = NULL
WHERE id = ? AND state = ? AND attempts = ? AND next_at <= `+clockSQL,
				holder, s.clockAt(ttl), ts(s.d, &sentAt), it.ID, it.State, it.Attempts, s.clockAt(0))
			if err != nil {
				return err
			}
			n, err := res.RowsAffected()
			if changed = n == 1; !changed || it.State == OutboxSending {
				return err
			}
			moved := *it
			moved.State = OutboxSending
			return s.noteOutbox(ctx, tx, acct, &moved)
		})
		if s.d.uniqueViolation(err) && it.SentAt.IsZero() && try < 60 {
			continue // another item of the conversation has that second
		}
		if err != nil || !changed {
			return false, err
		}
		it.State, it.SentAt = OutboxSending, sentAt
		it.Attempts++
		s.changeSignal.fire(acct)
		return true, nil
	}
}

// finishOutbox records the outcome of holder's attempt, if holder still
// has the item: sent (message id), failed (why), or to be tried again
// after retry in state (queued when nothing was sent, sending when the
// outcome is unknown).
func (s *Store) finishOutbox(ctx context.Context, acct int64, it *OutboxItem, holder string, o outcome) error {
	var q string
	var args []any
	switch o.state {
	case OutboxSent:
		q, args = `state = 'sent', message_id = ?, error = NULL, claim = NULL, done_at = `+clockSQL, []any{o.messageID, s.clockAt(0)}
	case OutboxFailed:
		q, args = `state = 'failed', error = ?, claim = NULL, done_at = `+clockSQL, []any{o.why, s.clockAt(0)}
	default:
		q, args = `state = ?, error = ?, claim = NULL, next_at = `+clockSQL, []any{o.state, o.why, s.clockAt(o.retry)}
	}
	defer s.changeSignal.fire(acct)
	return s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := s.exec(ctx, tx, "UPDATE outbox SET "+q+" WHERE id = ? AND claim = ?", append(args, it.ID, holder)...)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 || o.state == it.State {
			return nil // the claim ran out; the next holder reads it back
		}
		done := *it
		done.State = o.state
		return s.noteOutbox(ctx, tx, acct, &done)
	})
}

// noteOutbox records an item's change of state in the change feed, in
// the transaction that makes it; the caller fires changeSignal once it
// commits.
func (s *Store) noteOutbox(ctx context.Context, tx *sql.Tx, acct int64, it *OutboxItem) error {
	return s.appendChanges(ctx, tx, acct, "outbox", it.ID)
}
