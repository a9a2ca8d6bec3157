package inboxsync

// The fleet's balance: each beat renews this replica's account leases,
// stops the accounts it lost, and sheds or takes accounts towards its fair
// share; each account it holds runs a Syncer and its deliveries.

import (
	"context"
	"sort"
	"sync"
	"time"
)

// accountRun is an account this replica syncs.
type accountRun struct {
	cancel context.CancelFunc
	done   chan struct{}
	syncer *Syncer
	fence  *time.Timer // stops the run if the lease is not renewed in time
	// wake asks the run to look for due deliveries (handleDeliveries);
	// buffered, coalesced.
	wake chan struct{}
}

// wakeDeliveries asks the run to look for due deliveries.
func (r *accountRun) wakeDeliveries() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// balance is one beat: say this replica lives, renew its leases, stop the
// accounts it lost, shed its excess over the fair share or take its
// missing share.
func (f *Fleet) balance(ctx context.Context) {
	ttl := f.cfg.LeaseTTL
	start := time.Now()
	if err := f.st.heartbeat(ctx, f.cfg.Replica, ttl); err != nil {
		f.beatFailed(ctx, err)
		return
	}
	held, err := f.st.renewLeases(ctx, f.cfg.Replica, ttl)
	if err != nil {
		f.beatFailed(ctx, err)
		return
	}
	if err := f.forgetUninstalled(ctx); err != nil {
		f.beatFailed(ctx, err)
	}
	// The leases now run until at least start+ttl by any clock that
	// keeps time: stop an account by then unless renewed again.
	fence := time.Until(start.Add(ttl - ttl/6))
	f.mu.Lock()
	var lost []int64
	for id, r := range f.running {
		if held[id] {
			r.fence.Reset(fence)
		} else {
			lost = append(lost, id)
		}
	}
	f.mu.Unlock()
	for _, id := range lost {
		f.log.Warn("inboxsync: lease lost; account stopped here", "account", id)
	}
	f.stopAccounts(lost)

	share, err := f.st.fairShare(ctx)
	if err != nil {
		f.beatFailed(ctx, err)
		return
	}
	// No account installed (the share is 0 only then): say so once, and
	// look again at every beat.
	if share == 0 && !f.idle {
		f.log.Info("inboxsync: no account installed; waiting for installs (Store.Install)")
	}
	f.idle = share == 0
	switch {
	case len(held) > share:
		ids := sortedIDs(held)[share:]
		f.stopAccounts(ids)
		for _, id := range ids {
			delete(held, id)
		}
		if err := f.st.releaseLeases(ctx, f.cfg.Replica, ids); err != nil {
			f.beatFailed(ctx, err)
		}
		f.log.Info("inboxsync: leases released to other replicas", "accounts", ids)
	case len(held) < share:
		start = time.Now()
		taken, err := f.st.takeLeases(ctx, f.cfg.Replica, share-len(held), ttl)
		if err != nil {
			f.beatFailed(ctx, err)
			return
		}
		fence = time.Until(start.Add(ttl - ttl/6))
		for id := range taken {
			held[id] = true
			f.startAccount(ctx, id, fence)
		}
	}
	// Held but not running: after a fence fired and the lease survived.
	for id := range held {
		f.mu.Lock()
		_, running := f.running[id]
		f.mu.Unlock()
		if !running {
			f.startAccount(ctx, id, fence)
		}
	}
}

func (f *Fleet) beatFailed(ctx context.Context, err error) {
	if ctx.Err() == nil {
		f.log.Error("inboxsync: fleet beat failed; retrying", "error", err.Error())
	}
}

// startAccount runs the account's Syncer, and the deliveries for it, until
// stopped or its fence fires.
func (f *Fleet) startAccount(ctx context.Context, id int64, fence time.Duration) {
	fc, err := f.client(id)
	if err != nil {
		f.log.Error("inboxsync: account not started", "account", id, "error", err.Error())
		return
	}
	rctx, cancel := context.WithCancel(ctx)
	r := &accountRun{cancel: cancel, done: make(chan struct{}), wake: make(chan struct{}, 1),
		syncer: New(f.st, id, fc.c, append([]Option{WithLeaseTTL(f.cfg.LeaseTTL), WithMeterProvider(f.cfg.MeterProvider),
			WithTracerProvider(f.cfg.TracerProvider)}, f.cfg.SyncOptions...)...)}
	r.syncer.passed = &f.signals.passed
	r.fence = time.AfterFunc(fence, func() {
		f.log.Warn("inboxsync: lease not renewed in time; account stopped here", "account", id)
		cancel()
	})
	r.wakeDeliveries() // what was recorded before the lease
	f.mu.Lock()
	f.running[id] = r
	f.mu.Unlock()
	f.log.Info("inboxsync: account leased; syncing", "account", id)
	f.signals.started.Signal(id)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		r.syncer.Run(rctx, f.cfg.Every)
	}()
	go func() {
		defer wg.Done()
		f.handleDeliveries(rctx, id, r)
	}()
	go func() {
		wg.Wait()
		r.fence.Stop()
		f.mu.Lock()
		if f.running[id] == r {
			delete(f.running, id)
		}
		f.mu.Unlock()
		f.log.Info("inboxsync: account stopped", "account", id)
		close(r.done)
	}()
}

// stopAccounts stops the accounts' runs here, all at once, and waits for
// them to end.
func (f *Fleet) stopAccounts(ids []int64) {
	f.mu.Lock()
	var runs []*accountRun
	for _, id := range ids {
		if r := f.running[id]; r != nil {
			runs = append(runs, r)
		}
	}
	f.mu.Unlock()
	for _, r := range runs {
		r.cancel()
	}
	for _, r := range runs {
		<-r.done
	}
}

// stop ends every run, then frees the leases and leaves the fleet.
func (f *Fleet) stop() {
	f.mu.Lock()
	ids := make([]int64, 0, len(f.running))
	for id := range f.running {
		ids = append(ids, id)
	}
	f.mu.Unlock()
	f.stopAccounts(ids)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := f.st.releaseLeases(ctx, f.cfg.Replica, nil); err != nil {
		f.log.Error("inboxsync: releasing leases at stop; they will expire", "error", err.Error())
	}
	if err := f.st.leaveFleet(ctx, f.cfg.Replica); err != nil {
		f.log.Error("inboxsync: leaving the fleet", "error", err.Error())
	}
}

func sortedIDs(set map[int64]bool) []int64 {
	ids := make([]int64, 0, len(set))
	for id := range set {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids
}
