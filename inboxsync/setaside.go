package inboxsync

// The set-aside table (sync_set_aside): the records, and deleted ids, a
// write could not store, kept with their reason and raw bytes until a
// later write applies them, so that what a pass skipped is seen and not
// only logged.

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"strconv"
	"strings"
	"time"
)

// SetAsideRecord is a record (or a deleted id) that a write could not
// store, as Store.SetAsideRecords lists it. Its row stays until a later
// write applies the record or the deleted id, or until a complete walk of
// its resource moves the cursor, which it does only when it met nothing
// to set aside: by then the API no longer lists the entry that failed.
type SetAsideRecord struct {
	Resource string // the mirrored table: "conversations", "messages", …
	// ID is the record's id; 0 when it has no usable one (an id of 0 or
	// below, none at all, a deleted id that is no integer): Raw tells it.
	ID     int64
	Reason string // why it could not be stored, as last seen
	// Raw is the record, or the meta.deleted_ids entry, byte for byte as
	// the API last sent it (a deleted id of 0 or below in decimal).
	Raw []byte
	// FirstSeen and LastSeen are when a write first and last set it aside.
	FirstSeen, LastSeen time.Time
	// Attempts counts the writes that set it aside.
	Attempts int
}

// SetAsideRecords lists the account's set-aside records, by resource,
// oldest first.
func (s *Store) SetAsideRecords(ctx context.Context, acct int64) ([]SetAsideRecord, error) {
	rows, err := s.query(ctx, s.db, `SELECT resource, id, reason, raw, first_seen, last_seen, attempts FROM sync_set_aside
WHERE account_id = ? ORDER BY resource, first_seen, entry`, acct)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []SetAsideRecord
	for rows.Next() {
		var r SetAsideRecord
		var id sql.NullInt64
		var first, last any
		if err := rows.Scan(&r.Resource, &id, &r.Reason, &r.Raw, &first, &last, &r.Attempts); err != nil {
			return nil, err
		}
		r.ID = id.Int64
		if r.FirstSeen, err = scanTime(first); err != nil {
			return nil, err
		}
		if r.LastSeen, err = scanTime(last); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// setAsideSteps are a batch's statements on the set-aside table (see
// apply): with the cursor stored (settled), the resource's rows go; else
// the rows of the ids the batch applied go, and the entries it set aside
// are recorded, or counted again.
func (s *Store) setAsideSteps(acct int64, res string, applied []int64, aside []SetAside, settled bool) []*step {
	var steps []*step
	switch {
	case settled:
		steps = append(steps, &step{query: "DELETE FROM sync_set_aside WHERE account_id = ? AND resource = ?",
			args: []any{acct, res}, fixed: true})
	case len(applied) > 0:
		list, args := idList(applied)
		steps = append(steps, &step{query: "DELETE FROM sync_set_aside WHERE account_id = ? AND resource = ? AND id IN (" + list + ")",
			args: append([]any{acct, res}, args...)})
	}
	if len(aside) == 0 {
		return steps
	}
	now := time.Now()
	at := ts(s.d, &now)
	args := make([]any, 0, 9*len(aside))
	seen := make(map[string]bool, len(aside)) // one row per entry: an upsert may not touch a row twice
	for i := len(aside) - 1; i >= 0; i-- {    // the last of an entry wins
		a := aside[i]
		entry, id := setAsideEntry(a)
		if seen[entry] {
			continue
		}
		seen[entry] = true
		args = append(args, acct, res, entry, id, columnText(strings.ToValidUTF8(a.Reason, "\uFFFD")), a.Raw, at, at, 1)
	}
	return append(steps, &step{query: "INSERT INTO sync_set_aside (account_id, resource, entry, id, reason, raw, first_seen, last_seen, attempts) VALUES " +
		placeholders(len(args)/9, 9) + ` ON CONFLICT (account_id, resource, entry) DO UPDATE SET id = excluded.id,
reason = excluded.reason, raw = excluded.raw, last_seen = excluded.last_seen, attempts = sync_set_aside.attempts + 1`, args: args})
}

// setAsideEntry names a set-aside entry in its table: its id, or the
// digest of its raw bytes when it has no usable id (the id argument is
// then NULL).
func setAsideEntry(a SetAside) (entry string, id any) {
	if a.ID > 0 {
		return strconv.FormatInt(a.ID, 10), a.ID
	}
	sum := sha256.Sum256(a.Raw)
	return "sha256:" + hex.EncodeToString(sum[:]), nil
}
