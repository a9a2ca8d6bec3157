package inboxsync

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/fnv"
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
	// transaction renews it until leaseUntil, and fails with errLeaseLost
	// when another replica holds it.
	holder     string
	leaseUntil time.Time
	// since is when the records were read from the API, less a margin for
	// replicas' clocks (see tombstoneMargin): only tombstones laid after it
	// can name one of them, since the API lists no record it deleted
	// before. Zero checks every tombstone.
	since time.Time
}

// tombstoneMargin allows for the clocks of replicas that lay tombstones.
const tombstoneMargin = 10 * time.Minute

// applied counts what one batch changed.
type applied struct {
	Upserted int // records written (new or changed)
	Deleted  int // records removed
}

// apply writes one page in one transaction: tombstones for deleted, the
// records (less those tombstoned), the lease renewal and the cursor if w
// says so.
func (s *Store) apply(ctx context.Context, acct int64, r *resource, items [][]byte, deleted []int64, w write) (applied, error) {
	var out applied
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		out = applied{}
		// On Postgres the writers of one (account, resource) are
		// serialized by an advisory lock, so that a tombstone and a
		// concurrent re-read cannot cross (SQLite's BEGIN IMMEDIATE
		// already serializes every writer). A page of records only takes
		// it in its upsert statement, a round trip saved; anything else
		// takes it first.
		lockInUpsert := s.d.name == "postgres" && len(deleted) == 0 && len(items) > 0
		if s.d.name == "postgres" && !lockInUpsert {
			if _, err := s.exec(ctx, tx, "SELECT pg_advisory_xact_lock(?)", lockKey(acct, r.name)); err != nil {
				return err
			}
		}
		if len(deleted) > 0 {
			n, err := s.tombstone(ctx, tx, acct, r, deleted)
			if err != nil {
				return err
			}
			out.Deleted = n
		}
		if len(items) > 0 {
			var lock []any
			if lockInUpsert {
				lock = []any{lockKey(acct, r.name)}
			}
			n, err := s.upsert(ctx, tx, acct, r, items, w.newer, lock...)
			if err != nil {
				return err
			}
			out.Upserted = n
		}
		if w.holder != "" || len(items) > 0 {
			swept, err := s.renewAndSweep(ctx, tx, acct, r, w, len(items) > 0)
			if err != nil {
				return err
			}
			out.Upserted -= swept
		}
		if w.cursor != nil {
			if _, err := s.exec(ctx, tx, `INSERT INTO sync_cursors (account_id, resource, synced_at) VALUES (?, ?, ?)
ON CONFLICT (account_id, resource) DO UPDATE SET synced_at = excluded.synced_at`, acct, r.name, s.d.ts(w.cursor)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return applied{}, fmt.Errorf("inboxsync: writing %s: %w", r.name, err)
	}
	return out, nil
}

// lockKey is the advisory lock of one (account, resource).
func lockKey(acct int64, name string) int64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "inboxsync/%d/%s", acct, name)
	return int64(h.Sum64())
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

// tombstone records deleted ids and removes their rows; it returns how
// many rows were removed.
func (s *Store) tombstone(ctx context.Context, tx *sql.Tx, acct int64, r *resource, ids []int64) (int, error) {
	now := time.Now()
	args := make([]any, 0, 4*len(ids))
	for _, id := range ids {
		args = append(args, acct, r.name, id, s.d.ts(&now))
	}
	if _, err := s.exec(ctx, tx, "INSERT INTO sync_tombstones (account_id, resource, id, deleted_at) VALUES "+
		placeholders(len(ids), 4)+" ON CONFLICT (account_id, resource, id) DO NOTHING", args...); err != nil {
		return 0, err
	}
	list, idArgs := idList(ids)
	res, err := s.exec(ctx, tx, "DELETE FROM "+r.name+" WHERE account_id = ? AND id IN ("+list+")", append([]any{acct}, idArgs...)...)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// upsert writes the records in one INSERT … ON CONFLICT, never replacing a
// stored record with an older one. Given an advisory lock key (Postgres),
// the statement takes that lock before it inserts its first row.
func (s *Store) upsert(ctx context.Context, tx *sql.Tx, acct int64, r *resource, items [][]byte, newer bool, lock ...any) (int, error) {
	ids := make([]int64, 0, len(items))
	rows := make([][]any, 0, len(items))
	for _, raw := range items {
		id, vals, err := r.row(s.d, raw)
		if err != nil {
			return 0, err
		}
		ids = append(ids, id)
		rows = append(rows, vals)
	}
	ncol := len(r.cols) + 2
	args := make([]any, 0, ncol*len(items))
	seen := make(map[int64]int, len(items)) // a page may list a record twice; keep the last
	for i, raw := range items {
		if j, ok := seen[ids[i]]; ok {
			copy(args[j*ncol:], append(append([]any{acct}, rows[i]...), string(raw)))
			continue
		}
		seen[ids[i]] = len(args) / ncol
		args = append(args, acct)
		args = append(args, rows[i]...)
		args = append(args, string(raw))
	}
	n := len(args) / ncol
	if n == 0 {
		return 0, nil
	}
	res, err := s.exec(ctx, tx, upsertSQL(r, n, newer, len(lock) > 0), append(lock, args...)...)
	if err != nil {
		return 0, err
	}
	affected, err := res.RowsAffected()
	return int(affected), err
}

// upsertSQL is the batched upsert of n rows of r. A stored record is
// replaced only when the incoming one is as new (listings) or newer
// (re-reads), by updated_at; one without updated_at always replaces.
//
// With lock (Postgres), its first parameter is an advisory lock key, taken
// before the first row is inserted: the first row's account_id goes
// through a scalar subquery on the locking CTE, which Postgres evaluates
// once, on first use. The statement's snapshot predates the wait, which
// the upsert does not mind (ON CONFLICT sees the latest committed rows)
// and the sweep after it, a statement of its own, does not share.
func upsertSQL(r *resource, n int, newer, lock bool) string {
	var b strings.Builder
	values := placeholders(n, len(r.cols)+2)
	if lock {
		b.WriteString("WITH lock AS (SELECT pg_advisory_xact_lock(?)) ")
		values = "(COALESCE((SELECT NULL::bigint FROM lock), ?)" + strings.TrimPrefix(values, "(?")
	}
	b.WriteString("INSERT INTO " + r.name + " (account_id, " + strings.Join(r.cols, ", ") + ", raw) VALUES ")
	b.WriteString(values)
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

// renewAndSweep renews w's lease (errLeaseLost when another replica took
// it) and, after an upsert, removes again the records tombstoned since
// w.since: a deletion that a concurrent writer recorded after these records
// were read. It returns how many it removed. On Postgres both are one
// statement (one round trip); the advisory lock taken first makes every
// tombstone laid before it visible here.
func (s *Store) renewAndSweep(ctx context.Context, tx *sql.Tx, acct int64, r *resource, w write, sweep bool) (int, error) {
	since := w.since
	if since.IsZero() {
		since = time.Unix(0, 0)
	}
	const renew = "UPDATE sync_leases SET expires_at = ? WHERE account_id = ? AND resource = ? AND holder = ?"
	sweepSQL := "DELETE FROM " + r.name + " WHERE account_id = ? AND id IN (SELECT id FROM sync_tombstones WHERE account_id = ? AND resource = ? AND deleted_at >= ?)"
	renewArgs := []any{s.d.ts(&w.leaseUntil), acct, r.name, w.holder}
	sweepArgs := []any{acct, acct, r.name, s.d.ts(&since)}
	if s.d.name == "postgres" && w.holder != "" && sweep {
		var held, swept int
		if err := s.queryRow(ctx, tx, "WITH lease AS ("+renew+" RETURNING 1), swept AS ("+sweepSQL+" RETURNING 1) "+
			"SELECT (SELECT COUNT(*) FROM lease), (SELECT COUNT(*) FROM swept)", append(renewArgs, sweepArgs...)...).Scan(&held, &swept); err != nil {
			return 0, err
		}
		if held == 0 {
			return 0, errLeaseLost
		}
		return swept, nil
	}
	if w.holder != "" {
		res, err := s.exec(ctx, tx, renew, renewArgs...)
		if err != nil {
			return 0, err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return 0, errLeaseLost
		}
	}
	if !sweep {
		return 0, nil
	}
	res, err := s.exec(ctx, tx, sweepSQL, sweepArgs...)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}
