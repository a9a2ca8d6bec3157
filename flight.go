package bookingsync

import (
	"context"
	"errors"
	"sync"
)

// flightGroup lets concurrent calls for the same key share one execution:
// the first caller runs fn, the others wait for its result. Its zero value
// is ready for use.
type flightGroup[K comparable, V any] struct {
	mu    sync.Mutex
	calls map[K]*flightCall[V]
}

type flightCall[V any] struct {
	done chan struct{}
	val  V
	err  error
}

// do runs fn for key unless a call for key is already running, in which
// case it waits for that call's result or for ctx to end. fn runs with the
// first caller's context: when that context ends the flight fails, and a
// waiter whose own context is still live runs again rather than inherit
// someone else's cancellation.
func (g *flightGroup[K, V]) do(ctx context.Context, key K, fn func() (V, error)) (V, error) {
	for {
		g.mu.Lock()
		if g.calls == nil {
			g.calls = make(map[K]*flightCall[V])
		}
		c, running := g.calls[key]
		if !running {
			c = &flightCall[V]{done: make(chan struct{})}
			g.calls[key] = c
			g.mu.Unlock()
			g.run(key, c, fn)
			return c.val, c.err
		}
		g.mu.Unlock()
		select {
		case <-c.done:
		case <-ctx.Done():
			var zero V
			return zero, ctx.Err()
		}
		if c.err != nil && ctx.Err() == nil && (errors.Is(c.err, context.Canceled) || errors.Is(c.err, context.DeadlineExceeded)) {
			continue
		}
		return c.val, c.err
	}
}

// errFlightAborted is what the waiters of a call get when its fn panicked
// (the panic goes on up the first caller's stack).
var errFlightAborted = errors.New("bookingsync: concurrent call aborted")

// run calls fn for c and releases the waiters even if fn panics.
func (g *flightGroup[K, V]) run(key K, c *flightCall[V], fn func() (V, error)) {
	defer func() {
		g.mu.Lock()
		delete(g.calls, key)
		g.mu.Unlock()
		close(c.done)
	}()
	c.err = errFlightAborted
	c.val, c.err = fn()
}
