package inboxsync_test

import (
	"testing"

	"github.com/go-bookingsync/bookingsync/inboxsync/internal/testsignal"
)

// eventually waits until cond holds: testsignal.Eventually, the one poll
// of these tests. Its bound is testsignal.EventuallyTimeout whatever the
// caller expects, since a loaded machine is slow and a timing never
// decides a pass.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testsignal.Eventually(t, what, cond)
}
