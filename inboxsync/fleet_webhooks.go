package inboxsync

// The fleet's webhook intake: whichever replica receives a delivery
// records it in fleet_deliveries (once per body) before answering, and the
// replica holding the account's lease acts on it.

import (
	"context"
	"database/sql"
	"encoding/json"
	"net/http"
	"time"

	"github.com/go-bookingsync/bookingsync"
)

// WebhookHandler returns the http.Handler of BookingSync's deliveries for
// every account, to mount on every replica. It verifies the signature
// (WebhookSecret), records the delivery in the database (the same delivery
// twice is recorded once) and answers 200 as soon as it is stored, before
// anything is done about it; the replica syncing the account then acts on
// it (HandleEvent: a re-read of the record and a pass soon), at once when
// that is this replica, within DeliveryPoll otherwise. A delivery that
// cannot be stored is answered 500 so that BookingSync delivers it again.
// Deliveries for accounts that are not installed are acknowledged and
// dropped.
//
// An accounts_application_destroyed delivery uninstalls the account
// (Store.Uninstall) before it is acknowledged.
func (f *Fleet) WebhookHandler() http.Handler {
	return f.tel.rejecting(bookingsync.NewWebhookHandler(f.cfg.WebhookSecret, f.receive))
}

func (f *Fleet) receive(ctx context.Context, e *bookingsync.WebhookEvent) error {
	if e.Event == bookingsync.EventApplicationDestroyed {
		return f.receiveUninstall(ctx, e)
	}
	fresh, err := f.recordDelivery(ctx, e)
	if err != nil {
		f.log.Error("inboxsync: recording a webhook delivery", "account", e.AccountID, "error", err.Error())
		return err
	}
	if !fresh {
		f.tel.webhook(ctx, "duplicate")
		return nil
	}
	f.mu.Lock()
	if r := f.running[e.AccountID]; r != nil {
		r.wakeDeliveries()
	}
	f.mu.Unlock()
	return nil
}

// dispatch wakes the runs of this replica's accounts that have deliveries
// due; each run then reads and acts on its own (handleDeliveries). The
// deliveries stay in the table until acted on or failed for good: nothing
// is handed over in memory, so nothing can be dropped on the way, and one
// account's backlog never hides another's.
func (f *Fleet) dispatch(ctx context.Context) {
	due, err := f.dueAccounts(ctx, f.cfg.Replica)
	if err != nil {
		f.beatFailed(ctx, err)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, id := range due {
		if r := f.running[id]; r != nil {
			r.wakeDeliveries()
		}
	}
}

// deliveryBatch is how many due deliveries a run reads, acts on, and
// records the outcomes of (in one transaction) at once. A run stopped
// mid-batch records what it did so far; one killed leaves the batch to
// the next holder, which acts on it again (HandleEvent does a delivery's
// work once, by digest).
const deliveryBatch = 100

// handleDeliveries acts on the account's due deliveries, oldest first,
// whenever woken (a delivery recorded here, dispatch), until ctx ends.
func (f *Fleet) handleDeliveries(ctx context.Context, id int64, r *accountRun) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-r.wake:
		}
		for {
			batch, err := f.dueDeliveries(ctx, id, deliveryBatch)
			if err != nil {
				if ctx.Err() == nil {
					f.log.Warn("inboxsync: reading webhook deliveries; retrying at the next look", "account", id, "error", err.Error())
				}
				break
			}
			var acted []actedOn
			for _, d := range batch {
				err := r.syncer.HandleEvent(ctx, d.event)
				if ctx.Err() != nil {
					break // not done: the next holder acts on it
				}
				acted = append(acted, actedOn{d, err})
			}
			f.recordOutcomes(ctx, id, acted)
			if ctx.Err() != nil {
				return
			}
			if len(batch) < deliveryBatch {
				break
			}
		}
	}
}

// actedOn is what acting on a delivery came to.
type actedOn struct {
	d   delivery
	err error
}

// recordOutcomes records what acting on deliveries came to, even if the
// run is stopping now: done is done.
func (f *Fleet) recordOutcomes(ctx context.Context, id int64, acted []actedOn) {
	if len(acted) == 0 {
		return
	}
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	gaveUp, err := f.finishDeliveries(fctx, acted)
	if err != nil {
		f.log.Warn("inboxsync: recording deliveries' outcomes; they will be acted on again", "account", id, "error", err.Error())
		return
	}
	for _, o := range acted {
		switch {
		case o.err == nil:
		case gaveUp[o.d.id]:
			f.log.Error("inboxsync: a webhook delivery failed for good; the periodic pass covers it", "account", id,
				"event", o.d.event.Event, "attempts", o.d.attempts+1, "error", o.err.Error())
		default:
			f.log.Warn("inboxsync: acting on a webhook delivery failed; retrying later", "account", id,
				"event", o.d.event.Event, "attempts", o.d.attempts+1, "error", o.err.Error())
		}
	}
}

// maxDeliveryAttempts bounds how often a delivery whose handling fails is
// tried; the periodic pass covers what it was about anyway.
const maxDeliveryAttempts = 5

// deliveryBackoff is the wait before the next attempt of a delivery that
// failed attempts times: 2s, 4s, 8s, … up to 5 minutes.
func deliveryBackoff(attempts int) time.Duration {
	return min(2*time.Second<<min(attempts-1, 20), 5*time.Minute)
}

// delivery is a recorded webhook delivery.
type delivery struct {
	id       int64
	attempts int // failed attempts so far
	event    *bookingsync.WebhookEvent
}

// recordDelivery stores e unless the same delivery was stored before, and
// only for an installed account. It reports whether e is new.
func (f *Fleet) recordDelivery(ctx context.Context, e *bookingsync.WebhookEvent) (bool, error) {
	res, err := f.st.exec(ctx, f.st.db, `INSERT INTO fleet_deliveries (account_id, digest, event, body, received_at)
SELECT ?, ?, ?, ?, db_clock(?) WHERE EXISTS (SELECT 1 FROM accounts WHERE account_id = ? AND token IS NOT NULL)
ON CONFLICT (account_id, digest) DO NOTHING`,
		e.AccountID, deliveryDigest(e), e.Event, string(e.Resource), f.st.clockAt(0), e.AccountID)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// due is the condition of a delivery to act on now.
const due = `d.done_at IS NULL AND (d.next_at IS NULL OR d.next_at <= db_clock(?))`

// dueAccounts returns the accounts whose lease replica holds that have
// deliveries due.
func (f *Fleet) dueAccounts(ctx context.Context, replica string) ([]int64, error) {
	db, err := f.st.controlDB()
	if err != nil {
		return nil, err
	}
	rows, err := f.st.query(ctx, db, `SELECT a.account_id FROM accounts a WHERE a.lease_holder = ?
AND EXISTS (SELECT 1 FROM fleet_deliveries d WHERE d.account_id = a.account_id AND `+due+`)`, replica, f.st.clockAt(0))
	if err != nil {
		return nil, err
	}
	set, err := scanIDSet(rows)
	return sortedIDs(set), err
}

// dueDeliveries returns, oldest first, up to limit deliveries of the
// account due now.
func (f *Fleet) dueDeliveries(ctx context.Context, accountID int64, limit int) ([]delivery, error) {
	rows, err := f.st.query(ctx, f.st.db, `SELECT d.id, d.attempts, d.event, d.body FROM fleet_deliveries d
WHERE d.account_id = ? AND `+due+` ORDER BY d.id LIMIT ?`, accountID, f.st.clockAt(0), limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []delivery
	for rows.Next() {
		e := &bookingsync.WebhookEvent{AccountID: accountID}
		d := delivery{event: e}
		var body string
		if err := rows.Scan(&d.id, &d.attempts, &e.Event, &body); err != nil {
			return nil, err
		}
		e.Resource = []byte(body)
		out = append(out, d)
	}
	return out, rows.Err()
}

// finishDeliveries records outcomes in one transaction: a delivery acted
// on is done; one that failed counts an attempt, and is tried again after
// a backoff, or is done, failed for good, after maxDeliveryAttempts (it is
// then in gaveUp).
func (f *Fleet) finishDeliveries(ctx context.Context, acted []actedOn) (gaveUp map[int64]bool, err error) {
	gaveUp = map[int64]bool{}
	var ok []int64
	err = f.st.inTx(ctx, func(tx *sql.Tx) error {
		for _, o := range acted {
			if o.err == nil {
				ok = append(ok, o.d.id)
				continue
			}
			msg := o.err.Error()
			if len(msg) > 500 {
				msg = msg[:500]
			}
			attempts := o.d.attempts + 1
			q, args := `UPDATE fleet_deliveries SET attempts = ?, next_at = db_clock(?), last_error = ? WHERE id = ?`,
				[]any{attempts, f.st.clockAt(deliveryBackoff(attempts)), msg, o.d.id}
			if attempts >= maxDeliveryAttempts {
				gaveUp[o.d.id] = true
				q, args = `UPDATE fleet_deliveries SET attempts = ?, done_at = db_clock(?), next_at = NULL, last_error = ? WHERE id = ?`,
					[]any{attempts, f.st.clockAt(0), msg, o.d.id}
			}
			if _, err := f.st.exec(ctx, tx, q, args...); err != nil {
				return err
			}
		}
		if len(ok) == 0 {
			return nil
		}
		list, args := idList(ok)
		_, err := f.st.exec(ctx, tx, `UPDATE fleet_deliveries SET done_at = db_clock(?), attempts = attempts + 1,
	next_at = NULL, last_error = NULL WHERE id IN (`+list+`)`, append([]any{f.st.clockAt(0)}, args...)...)
		return err
	})
	return gaveUp, err
}

// pruneDeliveries drops deliveries done before age ago: BookingSync does
// not deliver the same body again that late.
func (f *Fleet) pruneDeliveries(ctx context.Context, age time.Duration) error {
	_, err := f.st.exec(ctx, f.st.db, `DELETE FROM fleet_deliveries WHERE done_at < db_clock(?)`, f.st.clockAt(-age))
	return err
}

// receiveUninstall acts on an accounts_application_destroyed delivery: it
// uninstalls the account, unless the delivery is a replay, recognised by
// its digest (kept with the deliveries, done) or by the installation it
// refers to: the account's updated_at in it, the time of the uninstall,
// precedes the current installation, which it therefore never undoes.
func (f *Fleet) receiveUninstall(ctx context.Context, e *bookingsync.WebhookEvent) error {
	digest := deliveryDigest(e)
	var n int
	if err := f.st.queryRow(ctx, f.st.db, `SELECT COUNT(*) FROM fleet_deliveries WHERE account_id = ? AND digest = ?`,
		e.AccountID, digest).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		f.log.Info("inboxsync: accounts_application_destroyed delivered again; ignored", "account", e.AccountID)
		return nil
	}
	var cond revokeIf
	if at := uninstalledAt(e); !at.IsZero() {
		// The API writes whole seconds.
		cond.installedBy = at.Add(time.Second)
	}
	revoked, err := f.st.revoke(ctx, e.AccountID, cond, "accounts_application_destroyed webhook")
	if err != nil {
		return err
	}
	if revoked {
		f.log.Warn("inboxsync: account uninstalled (accounts_application_destroyed)", "account", e.AccountID)
		f.forget(e.AccountID)
	} else {
		f.log.Info("inboxsync: accounts_application_destroyed for an installation no longer current; ignored", "account", e.AccountID)
	}
	// Recorded after the uninstall: a failure here answers 500, and the
	// delivery again finds the account uninstalled.
	_, err = f.st.exec(ctx, f.st.db, `INSERT INTO fleet_deliveries (account_id, digest, event, body, received_at, attempts, done_at)
VALUES (?, ?, ?, ?, db_clock(?), 1, db_clock(?)) ON CONFLICT (account_id, digest) DO NOTHING`,
		e.AccountID, digest, e.Event, string(e.Resource), f.st.clockAt(0), f.st.clockAt(0))
	return err
}

// uninstalledAt is when an accounts_application_destroyed delivery says
// the application was removed (its account's updated_at); zero when it
// does not say.
func uninstalledAt(e *bookingsync.WebhookEvent) time.Time {
	type account struct {
		UpdatedAt time.Time `json:"updated_at"`
	}
	var res struct { // the one account, or a list of one, as the API wraps records
		Account  account   `json:"account"`
		Accounts []account `json:"accounts"`
	}
	if json.Unmarshal(e.Resource, &res) != nil {
		return time.Time{}
	}
	if len(res.Accounts) == 1 {
		return res.Accounts[0].UpdatedAt
	}
	return res.Account.UpdatedAt
}
