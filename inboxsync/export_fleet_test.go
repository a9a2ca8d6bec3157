package inboxsync

import (
	"testing"
	"time"

	"github.com/go-bookingsync/bookingsync/inboxsync/internal/testsignal"
)

// DeliveryBatch is how many due deliveries a run reads at once.
const DeliveryBatch = deliveryBatch

// FleetHooks is a test's hand on a Fleet: its beats and the events it
// signals (fleetSignals).
type FleetHooks struct{ f *Fleet }

// ArmFleet arms f's signals; call it before f.Run.
func ArmFleet(t *testing.T, f *Fleet) *FleetHooks {
	f.signals.beat.Init(t)
	f.signals.started.Init(t)
	f.signals.passed.Init(t)
	f.signals.beatNow = make(chan struct{})
	return &FleetHooks{f}
}

// Beat makes Run beat now (renew, balance, dispatch) and waits for the
// beat to end.
func (h *FleetHooks) Beat(t *testing.T) {
	t.Helper()
	select {
	case h.f.signals.beatNow <- struct{}{}:
	case <-time.After(testsignal.Timeout):
		t.Fatal("Run took no beat: is it running?")
	}
	h.f.signals.beat.Wait(t)
}

// Started waits for an account's run to start here and returns it.
func (h *FleetHooks) Started(t *testing.T) int64 { t.Helper(); return h.f.signals.started.Wait(t) }

// Passed waits for an account's Syncer to end a pass and returns the account.
func (h *FleetHooks) Passed(t *testing.T) int64 { t.Helper(); return h.f.signals.passed.Wait(t) }

// RequireNoStart fails t if a run started since the last Started.
func (h *FleetHooks) RequireNoStart(t *testing.T) { t.Helper(); h.f.signals.started.RequireEmpty(t) }
