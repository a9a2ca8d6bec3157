package inboxsync_test

import (
	"testing"
	"time"

	"github.com/go-bookingsync/bookingsync/inboxsync/internal/testsignal"
)

// eventually waits until cond holds: testsignal.Eventually, the one poll
// of these tests. The duration says, for the reader, how soon the caller
// expects it; the bound is testsignal.EventuallyTimeout whatever it says,
// since a loaded machine is slow and a timing never decides a pass.
func eventually(t *testing.T, _ time.Duration, what string, cond func() bool) {
	t.Helper()
	testsignal.Eventually(t, what, cond)
}
