package inboxsync

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
