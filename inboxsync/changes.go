package inboxsync

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Change is one entry of the change feed: every write to the copy (a page
// applied, a webhook's re-read, a delete, an outbox state change) appends
// one Change per record, in the same transaction. Seq increases in commit
// order per store: a reader that saw Seq n and asks for what came after
// never misses a change committed later, however many writers (replicas)
// run.
//
// The feed says which records to read again, not what they hold: a Change
// may name a record a write left as it was (a page listing it again, a
// re-read finding nothing newer) or one a concurrent writer removed (its
// own Change follows), and a record changed twice has two. A reader applies it by reading
// the record (Store.Conversation, Store.Messages, …; ErrNotFound when
// Deleted) or by refreshing the view that shows it.
type Change struct {
	Seq       int64
	AccountID int64
	Resource  string    // "conversations", "participants", "messages", "attachments", "hosts", "bookings", "clients", "rentals", "applications", "outbox"
	ID        int64     // the record's id (the outbox item's id for "outbox")
	Deleted   bool      // the record was removed
	At        time.Time // when the copy changed (the database's clock)
}

// ErrChangesExpired matches the error of Store.Changes for a reader behind
// the feed's retention: some changes after its Seq are no longer kept.
var ErrChangesExpired = errors.New("inboxsync: changes no longer kept")

// ChangesExpiredError is the error of Store.Changes for a reader behind
// the feed's retention. The reader must reload: note Store.LastChange,
// read the copy afresh, then follow the feed from the noted Seq.
type ChangesExpiredError struct {
	AccountID int64
	After     int64 // the Seq the reader asked to follow
	Pruned    int64 // the account's changes up to this Seq are gone
}

func (e *ChangesExpiredError) Error() string {
	return fmt.Sprintf("inboxsync: account %d's changes after seq %d are no longer kept (pruned up to seq %d, past the retention): reload the copy and follow from Store.LastChange",
		e.AccountID, e.After, e.Pruned)
}

// Is makes a *ChangesExpiredError match ErrChangesExpired.
func (e *ChangesExpiredError) Is(target error) bool { return target == ErrChangesExpired }

// DefaultChangeRetention is how long the change feed keeps a change (see
// Store.PruneChanges): Syncer.Run drops older ones after each pass.
const DefaultChangeRetention = 7 * 24 * time.Hour

// The page sizes of Store.Changes.
const (
	DefaultChangesLimit = 1000
	MaxChangesLimit     = 10000
)

// Changes returns the account's changes with a Seq above after, oldest
// first, at most limit (0: DefaultChangesLimit; at most MaxChangesLimit).
// after 0 starts from the oldest change kept. A reader stores the Seq of
// the last change it handled and resumes from it after a restart; when
// the feed no longer holds everything after it (the retention pruned
// changes it has not seen), Changes fails with a *ChangesExpiredError
// (ErrChangesExpired) telling it to reload.
func (s *Store) Changes(ctx context.Context, accountID, after int64, limit int) ([]Change, error) {
	switch {
	case after < 0:
		return nil, fmt.Errorf("inboxsync: Changes: negative seq %d", after)
	case limit <= 0:
		limit = DefaultChangesLimit
	case limit > MaxChangesLimit:
		limit = MaxChangesLimit
	}
	rows, err := s.query(ctx, s.db, `SELECT seq, resource, record_id, deleted, changed_at FROM changes
WHERE account_id = ? AND seq > ? ORDER BY seq LIMIT ?`, accountID, after, limit)
	if err != nil {
		return nil, fmt.Errorf("inboxsync: reading changes: %w", err)
	}
	defer rows.Close()
	var out []Change
	for rows.Next() {
		c := Change{AccountID: accountID}
		var deleted int
		var at any
		if err := rows.Scan(&c.Seq, &c.Resource, &c.ID, &deleted, &at); err != nil {
			return nil, fmt.Errorf("inboxsync: reading changes: %w", err)
		}
		c.Deleted = deleted != 0
		if c.At, err = scanTime(at); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("inboxsync: reading changes: %w", err)
	}
	// Read after the changes: a prune between the two makes a complete
	// answer look short, never the other way round.
	if after > 0 {
		pruned, err := s.prunedThrough(ctx, accountID)
		if err != nil {
			return nil, err
		}
		if pruned > after {
			return nil, &ChangesExpiredError{AccountID: accountID, After: after, Pruned: pruned}
		}
	}
	return out, nil
}

// LastChange returns the Seq of the account's latest change (0 before the
// first): where a reader that has just read the copy whole follows the
// feed from. Note it before reading the copy, so that a change made
// meanwhile is seen twice rather than never.
func (s *Store) LastChange(ctx context.Context, accountID int64) (int64, error) {
	var last, pruned sql.NullInt64
	err := s.queryRow(ctx, s.db, `SELECT (SELECT MAX(seq) FROM changes WHERE account_id = ?),
	(SELECT seq FROM changes_pruned WHERE account_id = ?)`, accountID, accountID).Scan(&last, &pruned)
	if err != nil {
		return 0, fmt.Errorf("inboxsync: reading changes: %w", err)
	}
	return max(last.Int64, pruned.Int64), nil
}

func (s *Store) prunedThrough(ctx context.Context, accountID int64) (int64, error) {
	var pruned int64
	err := s.queryRow(ctx, s.db, "SELECT seq FROM changes_pruned WHERE account_id = ?", accountID).Scan(&pruned)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("inboxsync: reading changes: %w", err)
	}
	return pruned, nil
}

// WaitChanges returns once the account has a change with a Seq above
// after, or with ctx's error when ctx ends first. On Postgres it waits on
// LISTEN/NOTIFY (every appending transaction notifies at its commit); on
// SQLite on this process's own writes, and polls (every 250ms) for those
// of other processes. A reader loops: Changes from its Seq, handle them,
// WaitChanges from the last one.
func (s *Store) WaitChanges(ctx context.Context, accountID, after int64) error {
	poll, listens := s.d.changePoll()
	if listens {
		s.listenChanges()
	}
	for {
		wake := s.changeSignal.wait(accountID)
		var n int
		err := s.queryRow(ctx, s.db, `SELECT COUNT(*) FROM (SELECT 1 FROM changes WHERE account_id = ? AND seq > ? LIMIT 1) x`,
			accountID, after).Scan(&n)
		if err != nil {
			return fmt.Errorf("inboxsync: waiting for changes: %w", err)
		}
		if n > 0 {
			return nil
		}
		if pruned, err := s.prunedThrough(ctx, accountID); err != nil || pruned > after {
			return err // Changes tells the reader to reload
		}
		t := time.NewTimer(poll)
		s.waiting.Signal(accountID)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-wake:
			t.Stop()
		case <-t.C:
		}
	}
}

// PruneChanges drops the changes older than olderThan by the database's
// clock (the retention; Syncer.Run calls it with DefaultChangeRetention
// after each pass, or with what SetChangeRetention set), and notes for
// each account up to which Seq its feed is gone, so that a reader behind
// it is told to reload.
func (s *Store) PruneChanges(ctx context.Context, olderThan time.Duration) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		// The counter keeps the highest Seq given, for when no change is
		// left to tell it.
		if _, err := s.exec(ctx, tx, "UPDATE change_counter SET seq = ("+lastSeq+") WHERE id = 1"); err != nil {
			return err
		}
		if _, err := s.exec(ctx, tx, `INSERT INTO changes_pruned (account_id, seq)
SELECT account_id, MAX(seq) FROM changes WHERE changed_at < `+clockSQL+` GROUP BY account_id
ON CONFLICT (account_id) DO UPDATE SET seq = CASE WHEN excluded.seq > changes_pruned.seq THEN excluded.seq ELSE changes_pruned.seq END`,
			s.clockAt(-olderThan)); err != nil {
			return err
		}
		_, err := s.exec(ctx, tx, `DELETE FROM changes WHERE changed_at < `+clockSQL, s.clockAt(-olderThan))
		return err
	})
	if err != nil {
		return fmt.Errorf("inboxsync: pruning changes: %w", err)
	}
	return nil
}

// SetChangeRetention sets how long the change feed keeps a change
// (default DefaultChangeRetention): the age beyond which the store's
// syncers prune it. A reader that falls further behind must reload.
func (s *Store) SetChangeRetention(d time.Duration) {
	if d > 0 {
		s.retention.Store(int64(d))
	}
}

// changeRetention is the retention in force.
func (s *Store) changeRetention() time.Duration {
	if d := s.retention.Load(); d > 0 {
		return time.Duration(d)
	}
	return DefaultChangeRetention
}

// changeSteps are the statements that append, in a write's transaction,
// one change per record of resource: each of upserted, then each of
// deleted. They come last in the transaction. On Postgres the first locks
// the counter's row until the commit (on SQLite the write lock is held
// anyway), so that appends are serialized in commit order: a transaction
// numbers its changes after the highest Seq, which it reads under the
// lock, once every earlier appender has committed.
func (s *Store) changeSteps(acct int64, resource string, upserted, deleted []int64) []*step {
	n := len(upserted) + len(deleted)
	if n == 0 {
		return nil
	}
	var rows strings.Builder
	args := make([]any, 0, n+3)
	args = append(args, acct, resource, s.clockAt(0))
	for i, id := range append(upserted[:len(upserted):len(upserted)], deleted...) {
		if i > 0 {
			rows.WriteString(", ")
		}
		gone := 0
		if i >= len(upserted) {
			gone = 1
		}
		fmt.Fprintf(&rows, "(%d, CAST(? AS BIGINT), %d)", i+1, gone)
		args = append(args, id)
	}
	var steps []*step
	if lock := s.d.appendLock(); lock != nil {
		steps = append(steps, lock)
	}
	steps = append(steps, &step{query: `INSERT INTO changes (seq, account_id, resource, record_id, deleted, changed_at)
SELECT b.base + v.column1, ?, ?, v.column2, v.column3, ` + clockSQL + `
FROM (VALUES ` + rows.String() + `) v, (` + lastSeq + `) b`, args: args})
	// Delivered to the listeners (WaitChanges) when the transaction
	// commits, not before.
	if notify := s.d.notify(changesChannel, strconv.FormatInt(acct, 10)); notify != nil {
		steps = append(steps, notify)
	}
	return steps
}

// changesChannel is the channel of the feed's notifications; the payload
// is the account's id.
const changesChannel = "inboxsync_changes"

// lastSeq is the highest Seq given so far, as base: the latest change's,
// or the counter's when the retention pruned them (PruneChanges keeps it).
const lastSeq = `SELECT MAX(s) AS base FROM (SELECT MAX(seq) AS s FROM changes UNION ALL SELECT seq FROM change_counter WHERE id = 1) m`

// appendChanges runs changeSteps in tx (the transactions of this package
// that are not a page's pipeline).
func (s *Store) appendChanges(ctx context.Context, tx *sql.Tx, acct int64, resource string, ids ...int64) error {
	for _, st := range s.changeSteps(acct, resource, ids, nil) {
		if _, err := s.exec(ctx, tx, st.query, st.args...); err != nil {
			return fmt.Errorf("inboxsync: appending changes: %w", err)
		}
	}
	return nil
}

// changeListener is the Postgres connection that LISTENs for the store's
// changes and wakes WaitChanges.
type changeListener struct {
	once   sync.Once
	cancel context.CancelFunc
	done   chan struct{}
}

// listenChanges starts the listener once.
func (s *Store) listenChanges() {
	s.listener.once.Do(func() {
		ctx, cancel := context.WithCancel(context.Background())
		s.listener.cancel, s.listener.done = cancel, make(chan struct{})
		go func() {
			defer close(s.listener.done)
			for ctx.Err() == nil {
				err := s.d.listen(ctx, changesChannel, func(payload string) {
					if acct, err := strconv.ParseInt(payload, 10, 64); err == nil {
						s.changeSignal.fire(acct)
					}
				}, s.changeSignal.fireAll)
				if err != nil && ctx.Err() == nil {
					sleep(ctx, time.After(time.Second))
				}
			}
		}()
	})
}

// stopListening ends the listener, if it runs.
func (s *Store) stopListening() {
	s.listener.once.Do(func() {}) // no listener may start after Close
	if s.listener.cancel != nil {
		s.listener.cancel()
		<-s.listener.done
	}
}
