package testsignal

import "time"

// EventuallyTimeout is how long Eventually waits: longer than Timeout,
// since a condition may need many events (a flood of deliveries worked
// through on a loaded machine); only a broken test waits it out.
const EventuallyTimeout = time.Minute

// Eventually returns once cond holds, failing tb if it does not within
// EventuallyTimeout, what naming the condition in the failure.
//
// It is for conditions no event of the code under test announces: rows
// another goroutine, process or database session writes (pg_locks, a
// table, a gauge). So it polls: at once, then after 1ms, the interval
// doubling to 50ms. The interval only bounds how late a met condition is
// seen; no timing decides a pass. Prefer a Signal where the code can send
// one.
func Eventually(tb TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(EventuallyTimeout)
	for wait := time.Millisecond; !cond(); wait = min(2*wait, 50*time.Millisecond) {
		if time.Now().After(deadline) {
			tb.Fatalf("not within %v: %s", EventuallyTimeout, what)
		}
		time.Sleep(wait) // the poll's interval (see above)
	}
}
