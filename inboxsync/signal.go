package inboxsync

import "sync"

// signal wakes, within this process, the goroutines waiting on an
// account: a writer fires it after its transaction commits.
type signal struct {
	mu sync.Mutex
	ch map[int64]chan struct{}
}

// wait returns a channel closed at the account's next fire.
func (s *signal) wait(acct int64) <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch == nil {
		s.ch = map[int64]chan struct{}{}
	}
	c := s.ch[acct]
	if c == nil {
		c = make(chan struct{})
		s.ch[acct] = c
	}
	return c
}

// fire wakes the account's waiters.
func (s *signal) fire(acct int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.ch[acct]; c != nil {
		close(c)
		delete(s.ch, acct)
	}
}

// fireAll wakes every waiter (after a gap in what the signal saw).
func (s *signal) fireAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for acct, c := range s.ch {
		close(c)
		delete(s.ch, acct)
	}
}
