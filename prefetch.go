package bookingsync

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
)

// WithPrefetch lets All iterators fetch up to n pages ahead, concurrently,
// once the first page has told how many there are (X-Total-Pages). Items
// are still yielded in order. A fetch starts as soon as another's response
// has been read (while that page is decoded), not when the loop reaches
// its page, so the walk runs at the network's pace: at most n requests are
// in flight and at most 2n pages held (fetched or on their way, not yet
// yielded) at once. Breaking out of the loop or ending the context stops
// every fetch in flight, and no fetch is started that the last known rate
// budget (Rate.Remaining) cannot pay for. Off (0) by default.
//
// A client built without WithHTTPClient keeps n idle connections per host
// for it, so that a walk reuses about n connections rather than opening
// new ones (a TLS handshake each) as pages come; a caller's own transport
// should allow as many (http.Transport.MaxIdleConnsPerHost).
func WithPrefetch(n int) Option {
	return func(c *Client) error {
		if n < 0 {
			return errors.New("bookingsync: WithPrefetch: n must not be negative")
		}
		c.prefetch = n
		return nil
	}
}

type pageResult[T any] struct {
	items []T
	resp  *Response
	err   error
}

// prefetchPages yields head, the items of the page before from, then the
// items of pages from..last in order, while up to c.prefetch of them are
// fetched ahead by a launcher goroutine: the first fetches are on their
// way before head is yielded, so that the caller's work on it is not
// added to the walk. It returns the page to continue with sequentially
// (when the listing grew past last) or 0 when done, stopped or failed.
//
// The launcher hands each page's result channel to the consumer, in page
// order, through queue: its capacity (2n-1, plus the page being yielded)
// bounds the pages held, and the launcher starts a fetch whenever fewer
// than n are in flight (a fetch is in flight until its body is read),
// without waiting for the consumer. Nothing is allocated per page before
// it is launched, however many pages the headers announce.
func prefetchPages[T any, O any, PO pageLister[O]](ctx context.Context, c *Client, base O, head []T, from, last int, list listFunc[T, PO], yield func(T, error) bool) int {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()

	n := c.prefetch
	queue := make(chan chan pageResult[T], 2*n-1)
	var inFlight atomic.Int32
	done := make(chan struct{}, 1) // a fetch ended: the launcher looks again
	room := func() bool {
		f := int(inFlight.Load())
		return f < n && (f == 0 || c.budgetAllows(f))
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(queue)
		for page := from; page <= last; page++ {
			for !room() {
				select {
				case <-done:
				case <-ctx.Done():
					return
				}
			}
			out := make(chan pageResult[T], 1)
			select {
			case queue <- out:
			case <-ctx.Done():
				return
			}
			inFlight.Add(1)
			wg.Add(1)
			go func(page int) {
				defer wg.Done()
				// The slot is free once the body is read: Do calls
				// release then, before it decodes the page (or list
				// returns having sent nothing). Gosched hands the
				// processor to the launcher, so that the next request
				// goes out before this decode, and the other pages'
				// that arrived with it, take the CPU.
				release := sync.OnceFunc(func() {
					inFlight.Add(-1)
					select {
					case done <- struct{}{}:
					default:
					}
					runtime.Gosched()
				})
				defer release()
				o := base
				p := PO(&o)
				p.listOptions().Page = page
				items, resp, err := list(context.WithValue(ctx, bodyReadKey{}, release), p)
				out <- pageResult[T]{items, resp, err}
			}(page)
		}
	}()

	for _, it := range head {
		if !yield(it, nil) {
			return 0
		}
	}
	var r pageResult[T]
	for {
		var out chan pageResult[T]
		var ok bool
		select {
		case out, ok = <-queue:
		case <-ctx.Done():
		}
		if ok {
			select {
			case r = <-out:
			case <-ctx.Done():
				ok = false
			}
		}
		if !ok {
			if err := ctx.Err(); err != nil {
				var zero T
				yield(zero, err)
				return 0
			}
			break // every page yielded
		}
		if r.err != nil {
			var zero T
			yield(zero, r.err)
			return 0
		}
		if len(r.items) == 0 {
			return 0
		}
		for _, it := range r.items {
			if !yield(it, nil) {
				return 0
			}
		}
	}
	if r.resp != nil && r.resp.NextPage > last {
		return r.resp.NextPage
	}
	return 0
}

// budgetAllows reports whether the last known rate budget leaves room for
// one more request beyond inFlight. An unknown budget allows it.
func (c *Client) budgetAllows(inFlight int) bool {
	r := c.Rate()
	if !r.known() {
		return true
	}
	return r.Remaining-inFlight > 1
}
