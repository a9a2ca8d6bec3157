package inboxsync

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/go-bookingsync/bookingsync"
)

// The webhook deliveries of a Fleet: whichever replica receives one
// records it in fleet_deliveries (once per body) before answering, and the
// replica holding the account's lease acts on it.

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
func (s *Store) recordDelivery(ctx context.Context, e *bookingsync.WebhookEvent) (bool, error) {
	sum := sha256.Sum256(append([]byte(e.Event+"\x00"), e.Resource...))
	res, err := s.exec(ctx, s.db, `INSERT INTO fleet_deliveries (account_id, digest, event, body, received_at)
SELECT ?, ?, ?, ?, db_clock(?) WHERE EXISTS (SELECT 1 FROM accounts WHERE account_id = ? AND token IS NOT NULL)
ON CONFLICT (account_id, digest) DO NOTHING`,
		e.AccountID, hex.EncodeToString(sum[:]), e.Event, string(e.Resource), s.clockAt(0), e.AccountID)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// pendingDeliveries returns, oldest first, up to limit deliveries not yet
// acted on for the accounts whose lease replica holds.
func (s *Store) pendingDeliveries(ctx context.Context, replica string, limit int) ([]delivery, error) {
	db, err := s.controlDB()
	if err != nil {
		return nil, err
	}
	rows, err := s.query(ctx, db, `SELECT d.id, d.account_id, d.event, d.body FROM fleet_deliveries d
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
func (s *Store) finishDelivery(ctx context.Context, id int64, failed bool) error {
	q := `UPDATE fleet_deliveries SET done_at = db_clock(?), attempts = attempts + 1 WHERE id = ?`
	if failed {
		q = `UPDATE fleet_deliveries SET attempts = attempts + 1,
	done_at = CASE WHEN attempts + 1 >= ? THEN db_clock(?) ELSE NULL END WHERE id = ?`
		_, err := s.exec(ctx, s.db, q, maxDeliveryAttempts, s.clockAt(0), id)
		return err
	}
	_, err := s.exec(ctx, s.db, q, s.clockAt(0), id)
	return err
}

// pruneDeliveries drops deliveries done before age ago: BookingSync does
// not deliver the same body again that late.
func (s *Store) pruneDeliveries(ctx context.Context, age time.Duration) error {
	_, err := s.exec(ctx, s.db, `DELETE FROM fleet_deliveries WHERE done_at < db_clock(?)`, s.clockAt(-age))
	return err
}
