package inboxsync

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/go-bookingsync/bookingsync"
)

// HandleEvent takes a verified webhook delivery as a cue: an event of a
// record the copy holds (inbox_conversation_*, inbox_message_*, booking_*,
// client_*, rental_*) makes the syncer re-read that record at once (one
// GET) and write it unless the local copy already holds a newer one (by
// updated_at), or remove it if the API answers 404; every event of the
// account also schedules a pass soon (see Run), since deliveries can be
// lost and say little.
//
// The same delivery twice does the work once: a delivery whose body was
// already acted on is recognized (by digest, in the database, so across
// replicas) and only schedules a pass; two copies arriving at the same
// instant may both re-read, and still write once. Events of another
// account are ignored.
func (s *Syncer) HandleEvent(ctx context.Context, e *bookingsync.WebhookEvent) error {
	if e == nil {
		return errors.New("inboxsync: HandleEvent: nil event")
	}
	if e.AccountID != s.acct {
		s.log.DebugContext(ctx, "inboxsync: webhook for another account ignored", "account", e.AccountID)
		return nil
	}
	defer s.schedule()

	// An event of a walked resource (conversations, messages, bookings,
	// clients, rentals) is acted on by re-reading its record; any other
	// (accounts, reviews…, events the API adds later) is left to the
	// scheduled pass.
	res, _, typed := bookingsync.EventResource(e.Event)
	r := walkedResource(res)
	if !typed || r == nil {
		s.tel.webhook(ctx, "acted")
		return nil
	}
	id, err := e.RecordID()
	if err != nil {
		return fmt.Errorf("inboxsync: webhook %s: %w", e.Event, err)
	}

	digest := deliveryDigest(e)
	if seen, err := s.st.seen(ctx, s.acct, digest); err != nil || seen {
		if seen {
			s.tel.webhook(ctx, "duplicate")
		}
		return err
	}
	if err := s.reread(ctx, r, id); err != nil {
		return err
	}
	s.tel.webhook(ctx, "acted")
	return s.st.markSeen(ctx, s.acct, digest)
}

// reread GETs one record and writes it unless a newer one is stored; a 404
// tombstones it.
func (s *Syncer) reread(ctx context.Context, r *resource, id int64) error {
	var rep Report
	if err := s.ready(ctx, &rep); err != nil {
		return err
	}
	began := time.Now().Add(-tombstoneMargin)
	items, _, err := s.fetch(ctx, r.path+"/"+strconv.FormatInt(id, 10), r.key, &rep)
	if errors.Is(err, bookingsync.ErrNotFound) {
		n, err := s.st.apply(ctx, s.acct, r, nil, []int64{id}, write{})
		s.tel.record(ctx, r.name, n.Deleted)
		return err
	}
	if r.scoped && forbidden(err) {
		return nil // not mirrored without the scope
	}
	if err != nil {
		return fmt.Errorf("inboxsync: re-reading %s %d: %w", r.name, id, err)
	}
	n, err := s.st.apply(ctx, s.acct, r, items, nil, write{newer: true, since: began})
	s.tel.record(ctx, r.name, n.Upserted+n.Deleted)
	return err
}

// deliveryDigest names a delivery by its event and body: the same
// delivery twice has the same digest.
func deliveryDigest(e *bookingsync.WebhookEvent) string {
	sum := sha256.Sum256(append([]byte(e.Event+"\x00"), e.Resource...))
	return hex.EncodeToString(sum[:])
}

// schedule asks Run for a pass soon; cues coalesce.
func (s *Syncer) schedule() {
	select {
	case s.cue <- struct{}{}:
	default:
	}
}

// WebhookHandler returns an http.Handler for BookingSync's deliveries: it
// verifies each with secret (the application's client secret, see
// bookingsync.ParseWebhook) and passes it to HandleEvent.
func (s *Syncer) WebhookHandler(secret string) http.Handler {
	return s.tel.rejecting(bookingsync.NewWebhookHandler(secret, s.HandleEvent))
}

func (s *Store) seen(ctx context.Context, acct int64, digest string) (bool, error) {
	var n int
	err := s.queryRow(ctx, s.db, "SELECT COUNT(*) FROM webhook_seen WHERE account_id = ? AND digest = ?", acct, digest).Scan(&n)
	return n > 0, err
}

func (s *Store) markSeen(ctx context.Context, acct int64, digest string) error {
	now := time.Now()
	_, err := s.exec(ctx, s.db, "INSERT INTO webhook_seen (account_id, digest, seen_at) VALUES (?, ?, ?) ON CONFLICT (account_id, digest) DO NOTHING",
		acct, digest, ts(s.d, &now))
	return err
}

// forgetSeen drops the digests of deliveries older than before: the API
// does not redeliver that late.
func (s *Store) forgetSeen(ctx context.Context, acct int64, before time.Time) error {
	_, err := s.exec(ctx, s.db, "DELETE FROM webhook_seen WHERE account_id = ? AND seen_at < ?", acct, ts(s.d, &before))
	return err
}
