package bookingsync

import (
	"os"
	"testing"
)

// TestMain runs the tests, or, in a test binary re-executed as the
// benchmarks' peer, serves that peer (see startPeer).
func TestMain(m *testing.M) {
	if os.Getenv(peerEnv) != "" {
		servePeer()
		return
	}
	os.Exit(m.Run())
}
