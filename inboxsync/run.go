package inboxsync

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"time"
)

// Run keeps the account in sync until ctx ends: a pass now, then one every
// every, and one soon after webhook cues (HandleEvent), several cues
// arriving together making one pass; meanwhile it delivers the account's
// outbox (see Deliver). A failed pass is retried with
// exponential backoff (from 1s up to every, with jitter) and never stops
// Run. Each pass keeps the rate-limit reserve (WithRateReserve), waiting
// for the reset rather than spending it. Run returns nil once ctx ends,
// after the pass under way stops at its next request or transaction; what
// that pass wrote stays consistent (see Sync).
func (s *Syncer) Run(ctx context.Context, every time.Duration) error {
	if every <= 0 {
		every = 5 * time.Minute
	}
	const cueDelay = time.Second // lets a burst of cues become one pass
	defer s.st.observe(s.mp)()
	delivering := make(chan struct{})
	go func() { defer close(delivering); s.deliverLoop(ctx) }()
	defer func() { <-delivering }()
	backoff := time.Duration(0)
	for {
		rep, err := s.Sync(ctx)
		if ctx.Err() != nil {
			return nil
		}
		s.passed.Signal(s.acct)
		wait := every
		if err == nil && rep != nil && rep.unsettled() {
			// Records were deleted during a walk, so its cursor stayed:
			// walk that window again soon rather than a period later.
			wait = min(every, 10*time.Second)
		}
		if err != nil {
			backoff = min(max(2*backoff, time.Second), every)
			wait = backoff/2 + rand.N(backoff/2+1)
			s.log.LogAttrs(ctx, slog.LevelWarn, "inboxsync: pass failed; retrying", slog.Int64("account", s.acct),
				slog.Duration("in", wait), slog.String("error", err.Error()))
		} else {
			backoff = 0
			if err := s.st.forgetSeen(ctx, s.acct, s.now().Add(-7*24*time.Hour)); err != nil && ctx.Err() == nil {
				s.log.WarnContext(ctx, "inboxsync: pruning webhook digests", "error", err.Error())
			}
			if err := s.st.PruneChanges(ctx, s.st.changeRetention()); err != nil && ctx.Err() == nil {
				s.log.WarnContext(ctx, "inboxsync: pruning the change feed", "error", err.Error())
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-s.after(wait):
		case <-s.cue:
			if err == nil {
				if !sleep(ctx, s.after(cueDelay)) {
					return nil
				}
			} else if !sleep(ctx, s.after(wait)) { // a cue does not cut a backoff short
				return nil
			}
		}
	}
}

// sleep waits for done or until ctx ends; it reports whether done came.
func sleep(ctx context.Context, done <-chan time.Time) bool {
	select {
	case <-ctx.Done():
		return false
	case <-done:
		return true
	}
}
