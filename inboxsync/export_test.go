package inboxsync

import (
	"testing"
	"time"

	"github.com/go-bookingsync/bookingsync/inboxsync/internal/testsignal"
)

// QueryCount is the number of statements the store has run through its
// own query path: a test compares it before and after a call.
func QueryCount(s *Store) int64 { return s.queries.Load() }

// ArmWaitChanges arms the store's signal of a WaitChanges that found
// nothing and waits; call it before WaitChanges.
func ArmWaitChanges(t *testing.T, s *Store) { s.waiting.Init(t) }

// WaitingForChanges waits until a WaitChanges of the store found nothing
// new and waits, and returns its account.
func WaitingForChanges(t *testing.T, s *Store) int64 { t.Helper(); return s.waiting.Wait(t) }

// Wait is a wait a Syncer began (SyncerWaits): how long it asked for,
// and the hand that ends it.
type Wait struct {
	D   time.Duration
	end chan time.Time
}

// End ends the wait, as if D had passed.
func (w Wait) End() { w.end <- time.Time{} }

// SyncerWaits makes s's waits (Run's period, backoff and cue delay,
// keepReserve's wait for the reset) the test's: each is sent on the
// returned signal, and lasts until the test ends it. Call it before s
// runs.
func SyncerWaits(t *testing.T, s *Syncer) *testsignal.Signal[Wait] {
	sig := &testsignal.Signal[Wait]{}
	sig.Init(t)
	s.after = func(d time.Duration) <-chan time.Time {
		w := Wait{D: d, end: make(chan time.Time, 1)}
		sig.Signal(w)
		return w.end
	}
	return sig
}

// ShiftClock moves the database's clock, as s reads it, d ahead: a test
// sees the leases and claims of a process it killed lapse at once, and
// deliveries' backoffs end, instead of waiting them out.
func ShiftClock(s *Store, d time.Duration) { s.clockShift.Add(int64(d)) }
