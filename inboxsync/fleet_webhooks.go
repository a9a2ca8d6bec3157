package inboxsync

// The fleet's webhook intake: whichever replica receives a delivery
// records it in fleet_deliveries (once per body) before answering, and the
// replica holding the account's lease acts on it.

import (
	"context"
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
		if err := f.st.Uninstall(ctx, e.AccountID, "accounts_application_destroyed webhook"); err != nil {
			return err
		}
		f.log.Warn("inboxsync: account uninstalled (accounts_application_destroyed)", "account", e.AccountID)
		f.forget(e.AccountID)
		return nil
	}
	fresh, err := f.recordDelivery(ctx, e)
	if err != nil {
		f.log.Error("inboxsync: recording a webhook delivery", "account", e.AccountID, "error", err.Error())
		return err
	}
	if !fresh {
		f.tel.webhook(ctx, "duplicate")
	}
	f.mu.Lock()
	_, mine := f.running[e.AccountID]
	f.mu.Unlock()
	if fresh && mine {
		select {
		case f.poke <- struct{}{}:
		default:
		}
	}
	return nil
}

// dispatch hands the deliveries pending for this replica's accounts to
// their runs.
func (f *Fleet) dispatch(ctx context.Context) {
	pending, err := f.pendingDeliveries(ctx, f.cfg.Replica, 500)
	if err != nil {
		f.beatFailed(ctx, err)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, d := range pending {
		r := f.running[d.event.AccountID]
		if r == nil || d.id <= r.dispatched {
			continue
		}
		select {
		case r.deliveries <- d:
			r.dispatched = d.id
		default: // full: the next look hands it over
		}
	}
}

// handleDeliveries acts on the account's deliveries one by one.
func (f *Fleet) handleDeliveries(ctx context.Context, id int64, r *accountRun) {
	for {
		select {
		case <-ctx.Done():
			return
		case d := <-r.deliveries:
			err := r.syncer.HandleEvent(ctx, d.event)
			if ctx.Err() != nil {
				return // not done: the next holder acts on it
			}
			if err != nil {
				f.log.Warn("inboxsync: acting on a webhook delivery failed", "account", id, "event", d.event.Event, "error", err.Error())
			}
			// Done is done, even if the run is stopping now.
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			ferr := f.finishDelivery(fctx, d.id, err != nil)
			cancel()
			if ferr != nil {
				f.log.Warn("inboxsync: recording a delivery done", "account", id, "error", ferr.Error())
			}
		}
	}
}

// maxDeliveryAttempts bounds how often a delivery whose handling fails is
// tried again; the periodic pass covers what it was about anyway.
const maxDeliveryAttempts = 5

// delivery is a recorded webhook delivery.
type delivery struct {
	id    int64
	event *bookingsync.WebhookEvent
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

// pendingDeliveries returns, oldest first, up to limit deliveries not yet
// acted on for the accounts whose lease replica holds.
func (f *Fleet) pendingDeliveries(ctx context.Context, replica string, limit int) ([]delivery, error) {
	db, err := f.st.controlDB()
	if err != nil {
		return nil, err
	}
	rows, err := f.st.query(ctx, db, `SELECT d.id, d.account_id, d.event, d.body FROM fleet_deliveries d
JOIN accounts a ON a.account_id = d.account_id
WHERE d.done_at IS NULL AND a.lease_holder = ? ORDER BY d.id LIMIT ?`, replica, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []delivery
	for rows.Next() {
		e := &bookingsync.WebhookEvent{}
		var id int64
		var body string
		if err := rows.Scan(&id, &e.AccountID, &e.Event, &body); err != nil {
			return nil, err
		}
		e.Resource = []byte(body)
		out = append(out, delivery{id: id, event: e})
	}
	return out, rows.Err()
}

// finishDelivery marks a delivery done, or counts a failed attempt (done
// too after maxDeliveryAttempts).
func (f *Fleet) finishDelivery(ctx context.Context, id int64, failed bool) error {
	q := `UPDATE fleet_deliveries SET done_at = db_clock(?), attempts = attempts + 1 WHERE id = ?`
	if failed {
		q = `UPDATE fleet_deliveries SET attempts = attempts + 1,
	done_at = CASE WHEN attempts + 1 >= ? THEN db_clock(?) ELSE NULL END WHERE id = ?`
		_, err := f.st.exec(ctx, f.st.db, q, maxDeliveryAttempts, f.st.clockAt(0), id)
		return err
	}
	_, err := f.st.exec(ctx, f.st.db, q, f.st.clockAt(0), id)
	return err
}

// pruneDeliveries drops deliveries done before age ago: BookingSync does
// not deliver the same body again that late.
func (f *Fleet) pruneDeliveries(ctx context.Context, age time.Duration) error {
	_, err := f.st.exec(ctx, f.st.db, `DELETE FROM fleet_deliveries WHERE done_at < db_clock(?)`, f.st.clockAt(-age))
	return err
}
