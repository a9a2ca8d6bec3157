package inboxsync

// QueryCount is the number of statements the store has run through its
// own query path: a test compares it before and after a call.
func QueryCount(s *Store) int64 { return s.queries.Load() }
