package inboxsync

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/go-bookingsync/bookingsync"
)

// OutboxPolicy says how a Syncer delivers the outbox (WithOutboxPolicy);
// a zero field takes its default.
type OutboxPolicy struct {
	// Claim is how long an attempt holds an item (default 2 minutes): no
	// other replica tries it meanwhile. The send itself is cut at half of
	// it, so that when the claim of a replica that died runs out, what it
	// sent has long reached the API or never will.
	Claim time.Duration
	// MinBackoff and MaxBackoff bound the wait before an item is tried
	// again after a transient failure (defaults 2s and 5 minutes),
	// doubling from one to the other.
	MinBackoff, MaxBackoff time.Duration
	// Poll is how often Run looks for replies queued by other processes
	// (default 5s); those of this process wake it at once.
	Poll time.Duration
}

func (p OutboxPolicy) withDefaults() OutboxPolicy {
	if p.Claim <= 0 {
		p.Claim = 2 * time.Minute
	}
	if p.MinBackoff <= 0 {
		p.MinBackoff = 2 * time.Second
	}
	if p.MaxBackoff < p.MinBackoff {
		p.MaxBackoff = max(p.MinBackoff, 5*time.Minute)
	}
	if p.Poll <= 0 {
		p.Poll = 5 * time.Second
	}
	return p
}

// WithOutboxPolicy sets how the syncer delivers the outbox (see
// OutboxPolicy for the defaults).
func WithOutboxPolicy(p OutboxPolicy) Option {
	return func(s *Syncer) { s.outbox = p.withDefaults() }
}

// outcome is how one attempt at an item ended.
type outcome struct {
	state     string        // the item's state from now on
	messageID int64         // sent
	why       string        // failed, or why it is tried again
	retry     time.Duration // queued or sending: not before
	err       error         // the failure, for Deliver's error
}

// maxOutboxBatch bounds the items one Deliver looks at.
const maxOutboxBatch = 200

// Deliver sends the account's replies that are due now, oldest first, and
// returns how many it sent. Run and Fleet.Run call it continuously (at
// once for a reply this process enqueued, every OutboxPolicy.Poll for the
// others'); call it yourself when you run no syncer.
//
// Each reply goes through Messages.SendAsHost (the host's participant is
// ensured), as the host, external, with a sent_at fixed at the first
// attempt and unique among the conversation's replies; the message's id
// is recorded. At most one message per item reaches the API, whatever
// happens:
//
//   - An item is claimed in the database before it is sent (state
//     sending, until OutboxPolicy.Claim): syncers delivering at once, in
//     one process or in replicas, send it once.
//   - A send whose outcome is unknown (a 5xx, which may come after the
//     API processed the POST; a connection reset or a timeout; a replica
//     killed after sending) is never resent blindly: the next attempt,
//     after a backoff or once the dead replica's claim ran out, first
//     reads the conversation back (GET
//     /inbox/conversations/{id}?include=participants,messages) and looks
//     for a message from the host with the item's exact content and
//     sent_at: found, it is recorded as sent; absent, the reply is sent
//     again, with the same sent_at.
//   - A failure the API states ends the item failed, with the reason in
//     words: a 422 (the message refused), a 403 (the token may not
//     write), a 404 (the conversation is gone), or a reply refused before
//     sending (ErrRefused, ErrInvalidRequest).
//   - What the API did not process (a 429, a 401, the client's own rate
//     throttle) and unknown outcomes are tried again after a backoff
//     (OutboxPolicy), for as long as it takes.
//
// Replies of one conversation leave in order: one not sent yet holds back
// the later ones. The error reports the replies left for later (joined),
// or a database failure; the items tell each reply's state.
func (s *Syncer) Deliver(ctx context.Context) (sent int, err error) {
	items, due, err := s.st.pendingOutbox(ctx, s.acct, maxOutboxBatch)
	if err != nil {
		return 0, err
	}
	if len(items) > 0 {
		// Sent with a token of another account, a reply would go out
		// under that account's name.
		if err := s.ready(ctx, &Report{}); err != nil {
			return 0, err
		}
	}
	held := map[int64]bool{} // conversations with an earlier reply not sent
	var later []error
	for i, it := range items {
		if held[it.ConversationID] || !due[i] {
			held[it.ConversationID] = true
			continue
		}
		maybeSent := it.State == OutboxSending
		ok, err := s.st.claimOutbox(ctx, s.acct, it, s.holder, s.outbox.Claim)
		if err != nil {
			return sent, fmt.Errorf("inboxsync: outbox: claiming item %d: %w", it.ID, err)
		}
		if !ok {
			held[it.ConversationID] = true // another syncer has it
			continue
		}
		o := s.attempt(ctx, it, maybeSent)
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		err = s.st.finishOutbox(fctx, s.acct, it, s.holder, o)
		cancel()
		if err != nil {
			return sent, fmt.Errorf("inboxsync: outbox: recording item %d: %w", it.ID, err)
		}
		switch o.state {
		case OutboxSent:
			sent++
		case OutboxFailed:
			s.log.WarnContext(ctx, "inboxsync: reply failed", "account", s.acct, "item", it.ID, "error", o.why)
		default:
			held[it.ConversationID] = true
			later = append(later, fmt.Errorf("item %d (%s): %w", it.ID, o.state, o.err))
		}
		if ctx.Err() != nil {
			return sent, ctx.Err()
		}
	}
	if len(later) > 0 {
		return sent, fmt.Errorf("inboxsync: outbox: %d replies left for later: %w", len(later), errors.Join(later...))
	}
	return sent, nil
}

// attempt sends it once, after reading the conversation back when an
// earlier attempt may have reached the API.
func (s *Syncer) attempt(ctx context.Context, it *OutboxItem, maybeSent bool) outcome {
	ctx, cancel := context.WithTimeout(ctx, s.outbox.Claim/2)
	defer cancel()
	if maybeSent {
		id, err := s.findSent(ctx, it)
		if err != nil {
			return s.failure(it, err, true)
		}
		if id != 0 {
			return outcome{state: OutboxSent, messageID: id}
		}
	}
	msg, err := s.c.Messages.SendAsHost(ctx, it.ConversationID, it.HostID, &bookingsync.NewMessage{Content: it.Content, SentAt: it.SentAt})
	if err != nil {
		return s.failure(it, err, false)
	}
	return outcome{state: OutboxSent, messageID: msg.ID}
}

// findSent reads the conversation back and returns the id of the item's
// message, or 0 when there is none: a message of one of the host's
// participants with the item's sent_at (unique among the conversation's
// replies, to the second) and content.
func (s *Syncer) findSent(ctx context.Context, it *OutboxItem) (int64, error) {
	c, _, err := s.c.Conversations.GetWith(ctx, it.ConversationID, &bookingsync.ConversationGetOptions{Include: []string{"participants", "messages"}})
	if err != nil {
		return 0, err
	}
	parts, msgs := c.Participants, c.Messages
	if parts == nil && len(c.Links.Participants) > 0 { // not sideloaded
		if parts, _, err = s.c.Participants.GetMany(ctx, c.Links.Participants); err != nil {
			return 0, err
		}
	}
	if msgs == nil && len(c.Links.Messages) > 0 {
		if msgs, _, err = s.c.Messages.GetMany(ctx, c.Links.Messages); err != nil {
			return 0, err
		}
	}
	host := map[int64]bool{}
	for _, p := range parts {
		if p.IsHost() && p.Links.Member.ID == it.HostID {
			host[p.ID] = true
		}
	}
	for _, m := range msgs {
		if m.Links.Sender != nil && host[*m.Links.Sender] && m.SentAt != nil && m.SentAt.Equal(it.SentAt) &&
			sameContent(m.Content, it.Content) {
			return m.ID, nil
		}
	}
	return 0, nil
}

// sameContent compares contents as the API may store them: line endings
// and surrounding space aside.
func sameContent(a, b string) bool {
	norm := func(s string) string { return strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n")) }
	return norm(a) == norm(b)
}

// failure classifies a failed attempt; reading says it failed while
// reading the conversation back, before anything was sent this time.
func (s *Syncer) failure(it *OutboxItem, err error, reading bool) outcome {
	retry := s.outbox.MinBackoff
	for i := 1; i < it.Attempts && retry < s.outbox.MaxBackoff; i++ {
		retry *= 2
	}
	retry = min(retry, s.outbox.MaxBackoff)
	failed := func(why string) outcome { return outcome{state: OutboxFailed, why: why + ": " + err.Error(), err: err} }
	var er *bookingsync.ErrorResponse
	var th *bookingsync.ThrottledError
	var rl *bookingsync.RateLimitError
	status := 0
	switch {
	case errors.As(err, &rl):
		status = http.StatusTooManyRequests
	case errors.As(err, &er):
		status = er.StatusCode
	}
	switch {
	case status == http.StatusNotFound:
		return failed("the conversation is gone")
	case status == http.StatusForbidden:
		return failed("the API forbids this reply (403: the token may lack the inbox_write scope)")
	case !reading && (errors.Is(err, bookingsync.ErrRefused) || errors.Is(err, bookingsync.ErrInvalidRequest)):
		return failed("refused before sending")
	case status == http.StatusUnprocessableEntity:
		return failed("the API refused the message (422)")
	case status >= 400 && status < 500 && status != http.StatusUnauthorized && status != http.StatusRequestTimeout &&
		status != http.StatusTooManyRequests:
		return failed(fmt.Sprintf("the API refused the message (%d)", status))
	}
	o := outcome{state: OutboxSending, retry: retry, err: err, why: "to be read back and tried again: " + err.Error()}
	if !reading && (status == http.StatusUnauthorized || status == http.StatusTooManyRequests || errors.As(err, &th)) {
		// Not processed: nothing was sent this time.
		// (An earlier attempt that may have been processed was read back
		// first and was not.)
		o.state, o.why = OutboxQueued, "to be tried again: "+err.Error()
	}
	return o
}

// deliverLoop runs Deliver until ctx ends: at once, when this process
// enqueues a reply for the account, and every OutboxPolicy.Poll.
func (s *Syncer) deliverLoop(ctx context.Context) {
	for {
		wake := s.st.outboxSignal.wait(s.acct)
		if _, err := s.Deliver(ctx); err != nil && ctx.Err() == nil {
			s.log.LogAttrs(ctx, slog.LevelWarn, "inboxsync: outbox", slog.Int64("account", s.acct), slog.String("error", err.Error()))
		}
		t := time.NewTimer(s.outbox.Poll)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-wake:
			t.Stop()
		case <-t.C:
		}
	}
}
