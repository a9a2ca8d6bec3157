package inboxsync

import "time"

// QueryCount is the number of statements the store has run through its
// own query path: a test compares it before and after a call.
func QueryCount(s *Store) int64 { return s.queries.Load() }

// WaitsForChanges reports whether a WaitChanges of the account is waiting
// on the store's signal.
func WaitsForChanges(s *Store, acct int64) bool {
	s.changeSignal.mu.Lock()
	defer s.changeSignal.mu.Unlock()
	return s.changeSignal.ch[acct] != nil
}

// ShiftClock moves the database's clock, as s reads it, d ahead: a test
// sees the leases and claims of a process it killed lapse at once, and
// deliveries' backoffs end, instead of waiting them out.
func ShiftClock(s *Store, d time.Duration) { s.clockShift.Add(int64(d)) }
