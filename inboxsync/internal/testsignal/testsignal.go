// Package testsignal lets a test wait for an event inside the code under
// test instead of sleeping (after river's internal/testsignal). A Signal
// is a field of the code's own struct; it does nothing until a test calls
// Init, so production pays one nil check per event.
//
//	type fleetSignals struct{ beat testsignal.Signal[struct{}] }
//	f.signals.beat.Signal(struct{}{})      // in the code
//	f.signals.beat.Init(t); …; f.signals.beat.Wait(t) // in the test
package testsignal

import "time"

// TB is what a Signal needs of a *testing.T: the code under test imports
// this package, and must not import testing.
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
}

// Timeout is how long Wait waits: long, since a loaded machine is slow,
// and only a broken test waits it out.
const Timeout = 30 * time.Second

// Signal carries events of type T from the code to a test.
type Signal[T any] struct {
	ch chan T
}

// Init arms the signal, before the code under test runs.
func (s *Signal[T]) Init(tb TB) {
	tb.Helper()
	s.ch = make(chan T, 1000)
}

// Signal records an event; nothing unless armed (or s is nil). A test that stops reading
// does not block the code: past 1000 unread events, later ones are lost.
func (s *Signal[T]) Signal(v T) {
	if s == nil || s.ch == nil {
		return
	}
	select {
	case s.ch <- v:
	default:
	}
}

// Wait returns the next event, failing tb if none comes within Timeout.
func (s *Signal[T]) Wait(tb TB) T {
	tb.Helper()
	select {
	case v := <-s.ch:
		return v
	case <-time.After(Timeout):
		tb.Fatalf("testsignal: no event within %v", Timeout)
	}
	var zero T
	return zero
}

// RequireEmpty fails tb if an event is waiting unread.
func (s *Signal[T]) RequireEmpty(tb TB) {
	tb.Helper()
	select {
	case v := <-s.ch:
		tb.Fatalf("testsignal: unexpected event %v", v)
	default:
	}
}
