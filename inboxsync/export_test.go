package inboxsync

import "testing"

// QueryCount is the number of statements the store has run through its
// own query path: a test compares it before and after a call.
func QueryCount(s *Store) int64 { return s.queries.Load() }

// ArmWaitChanges arms the store's signal of a WaitChanges that found
// nothing and waits; call it before WaitChanges.
func ArmWaitChanges(t *testing.T, s *Store) { s.waiting.Init(t) }

// WaitingForChanges waits until a WaitChanges of the store found nothing
// new and waits, and returns its account.
func WaitingForChanges(t *testing.T, s *Store) int64 { t.Helper(); return s.waiting.Wait(t) }
