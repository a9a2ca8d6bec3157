package inboxsync

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// errLeaseLost means another replica took the resource's lease: this
// replica must not write what it fetched.
var errLeaseLost = errors.New("inboxsync: the resource's lease was taken by another replica")

// write says how apply treats one batch.
type write struct {
	// newer makes an upsert replace a stored record only when strictly
	// newer (a webhook's re-read); listings replace on equal updated_at too,
	// since a later pass lists again whatever changed in that second.
	newer bool
	// cursor, when set, is stored as the resource's cursor in the same
	// transaction: the batch is the last page of a complete walk.
	cursor *time.Time
	// holder, when set, is the lease the batch is written under: the
	// transaction renews it for leaseTTL, and fails with errLeaseLost when
	// another replica holds it.
	holder   string
	leaseTTL time.Duration
	// since is when the records were read from the API, less a margin for
	// replicas' clocks (see tombstoneMargin): only tombstones laid after it
	// can name one of them, since the API lists no record it deleted
	// before. Zero checks every tombstone.
	since time.Time
	// unreadable are the page's meta.deleted_ids entries that are no
	// integer (bookingsync.Meta.UnreadableDeletedIDs): each is set aside.
	unreadable []json.RawMessage
}

// tombstoneMargin allows for the clocks of replicas that lay tombstones.
const tombstoneMargin = 10 * time.Minute

// step is one statement of a transaction built ahead (a page's write, see
// apply) and, once run, the rows it affected.
type step struct {
	query string // with ? placeholders
	args  []any
	// fixed says the query's text is one of a few, not sized by the page
	// (the lease, the sweep, the cursor): SQLite keeps it prepared.
	fixed bool
	n     int64 // rows affected, set by runSteps
}

// applied counts what one batch changed.
type applied struct {
	Upserted int // records written (new or changed)
	Deleted  int // records removed
	// SetAside are the records (and deleted ids) that could not be
	// stored: the rest of the batch was written without them.
	SetAside []SetAside
	cursor   bool // the batch stored w.cursor
}

// SetAside is a record a pass could not store (or a deleted id it could
// not apply), and why: the rest of its page was written, and the
// resource's cursor stays where it was, so that the next pass lists the
// record again. It is kept in the store until then (Store.SetAsideRecords).
type SetAside struct {
	ID     int64  // the record's id, when it has a usable one
	Reason string // why it could not be stored
	Raw    []byte // the record or deleted_ids entry as the API sent it
}

// apply writes one page in one transaction: tombstones for deleted, the
// records (less those tombstoned), the lease renewal and the cursor if w
// says so. The statements are built first and run together (the dialect's
// runSteps: on Postgres, one pipeline).
func (s *Store) apply(ctx context.Context, acct int64, r *resource, items [][]byte, deleted []int64, w write) (applied, error) {
	var steps []*step
	add := func(fixed bool, query string, args ...any) *step {
		st := &step{query: query, args: args, fixed: fixed}
		steps = append(steps, st)
		return st
	}
	// The writers of one (account, resource) are serialized, so that a
	// tombstone and a concurrent re-read cannot cross; the statements after
	// the lock see what its previous holder committed.
	if lock := s.d.writeLock(writeLockKey(acct, r.name)); lock != nil {
		steps = append(steps, lock)
	}
	var removed, upserted, renewed, swept *step
	var aside []SetAside
	// An id of 0 or below names no record, an entry that is no integer
	// names nothing: set aside, not applied.
	for _, raw := range w.unreadable {
		aside = append(aside, SetAside{Reason: fmt.Sprintf("deleted_ids: %.40s is not a record id", raw), Raw: raw})
	}
	if slices.ContainsFunc(deleted, func(id int64) bool { return id <= 0 }) {
		var ok []int64
		for _, id := range deleted {
			if id > 0 {
				ok = append(ok, id)
			} else {
				aside = append(aside, SetAside{Reason: fmt.Sprintf("deleted_ids: %d is not a record id", id),
					Raw: strconv.AppendInt(nil, id, 10)})
			}
		}
		deleted = ok
	}
	if len(deleted) > 0 {
		now := time.Now()
		args := make([]any, 0, 4*len(deleted))
		for _, id := range deleted {
			args = append(args, acct, r.name, id, ts(s.d, &now))
		}
		add(false, "INSERT INTO sync_tombstones (account_id, resource, id, deleted_at) VALUES "+
			placeholders(len(deleted), 4)+" ON CONFLICT (account_id, resource, id) DO NOTHING", args...)
		list, idArgs := idList(deleted)
		removed = add(false, "DELETE FROM "+r.name+" WHERE account_id = ? AND id IN ("+list+")", append([]any{acct}, idArgs...)...)
	}
	var upsertedIDs []int64
	query, args, ids, bad := s.upsert(acct, r, items, w.newer)
	aside = append(aside, bad...)
	if len(args) > 0 {
		upserted = add(false, query, args...)
		upsertedIDs = ids
		// Remove again the records tombstoned since they were read: a
		// deletion that a concurrent writer recorded after the API listed
		// them.
		since := w.since
		if since.IsZero() {
			since = time.Unix(0, 0)
		}
		swept = add(true, "DELETE FROM "+r.name+" WHERE account_id = ? AND id IN (SELECT id FROM sync_tombstones WHERE account_id = ? AND resource = ? AND deleted_at >= ?)",
			acct, acct, r.name, ts(s.d, &since))
	}
	if w.holder != "" {
		renewed = s.renewLeaseStep(acct, r.name, w.holder, w.leaseTTL)
		steps = append(steps, renewed)
	}
	// A set-aside record keeps the cursor before it (see SetAside).
	cursor := w.cursor != nil && len(aside) == 0
	if cursor {
		add(true, `INSERT INTO sync_cursors (account_id, resource, synced_at) VALUES (?, ?, ?)
ON CONFLICT (account_id, resource) DO UPDATE SET synced_at = excluded.synced_at`, acct, r.name, ts(s.d, w.cursor))
	}
	// The set-aside table follows what this batch applied and skipped
	// (setaside.go).
	steps = append(steps, s.setAsideSteps(acct, r.name, append(slices.Clip(upsertedIDs), deleted...), aside, cursor)...)
	// The change feed's entries come last (changes.go).
	steps = append(steps, s.changeSteps(acct, r.name, upsertedIDs, deleted)...)
	err := s.d.runSteps(ctx, steps, func() error {
		if renewed != nil && renewed.n == 0 {
			return errLeaseLost
		}
		return nil
	})
	if err != nil {
		return applied{}, fmt.Errorf("inboxsync: writing %s: %w", r.name, err)
	}
	s.changeSignal.fire(acct)
	out := applied{SetAside: aside, cursor: cursor}
	if removed != nil {
		out.Deleted = int(removed.n)
	}
	if upserted != nil {
		out.Upserted = int(upserted.n - swept.n)
	}
	return out, nil
}

// placeholders returns "(?, ?, …), (…)": rows groups of n.
func placeholders(rows, n int) string {
	one := "(" + strings.TrimSuffix(strings.Repeat("?, ", n), ", ") + ")"
	return strings.TrimSuffix(strings.Repeat(one+", ", rows), ", ")
}

// idList returns "?, ?, …" for n ids and the ids as arguments.
func idList(ids []int64) (string, []any) {
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	return strings.TrimSuffix(strings.Repeat("?, ", len(ids)), ", "), args
}

// upsert is the batched INSERT … ON CONFLICT of the records, which never
// replaces a stored record with an older one, its arguments (none when no
// record can be stored) and the records' ids; the records that cannot be
// stored are set aside.
func (s *Store) upsert(acct int64, r *resource, items [][]byte, newer bool) (string, []any, []int64, []SetAside) {
	var aside []SetAside
	ncol := len(r.cols) + 2
	args := make([]any, 0, ncol*len(items))
	seen := make(map[int64]int, len(items)) // a page may list a record twice: the last is kept, in the first's place
	ids := make([]int64, 0, len(items))
	for _, raw := range items {
		at := len(args)
		row := args[at : at+ncol] // read in place, kept unless a duplicate
		id, err := r.fill(s.d, raw, row[1:ncol-1])
		if err != nil {
			aside = append(aside, SetAside{ID: max(id, 0), Reason: err.Error(), Raw: raw})
			clear(row)
			continue
		}
		row[0], row[ncol-1] = acct, string(raw)
		if first, ok := seen[id]; ok {
			copy(args[first:first+ncol], row)
			continue
		}
		seen[id] = at
		ids = append(ids, id)
		args = args[:at+ncol]
	}
	if len(args) == 0 {
		return "", nil, nil, aside
	}
	return upsertSQL(r, len(args)/ncol, newer), args, ids, aside
}

// upsertSQL is the batched upsert of n rows of r. A stored record is
// replaced only when the incoming one is as new (listings) or newer
// (re-reads), by updated_at; one without updated_at always replaces.
func upsertSQL(r *resource, n int, newer bool) string {
	var b strings.Builder
	b.WriteString("INSERT INTO " + r.name + " (account_id, " + strings.Join(r.cols, ", ") + ", raw) VALUES ")
	b.WriteString(placeholders(n, len(r.cols)+2))
	b.WriteString(" ON CONFLICT (account_id, id) DO UPDATE SET ")
	for _, c := range r.cols[1:] {
		b.WriteString(c + " = excluded." + c + ", ")
	}
	b.WriteString("raw = excluded.raw WHERE excluded.updated_at IS NULL OR " + r.name + ".updated_at IS NULL OR excluded.updated_at ")
	if newer {
		b.WriteString("> ")
	} else {
		b.WriteString(">= ")
	}
	b.WriteString(r.name + ".updated_at")
	return b.String()
}
