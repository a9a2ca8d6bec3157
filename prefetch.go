package bookingsync

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
)

// WithPrefetch lets All iterators fetch up to n pages ahead, concurrently,
// once the first page has told how many there are (X-Total-Pages). Items
// are still yielded in order. A fetch starts as soon as another ends, not
// when the loop reaches its page, so the walk runs at the network's pace:
// at most n requests are in flight and at most 2n pages held (fetched or
// on their way, not yet yielded) at once. Breaking out of the loop or
// ending the context stops every fetch in flight, and no fetch is started
// that the last known rate budget (Rate.Remaining) cannot pay for. Off (0)
// by default.
//
// A client built without WithHTTPClient keeps n idle connections per host
// for it, so that a walk opens at most n connections; a caller's own
// transport should allow as many (http.Transport.MaxIdleConnsPerHost).
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

// prefetchPages yields the items of pages from..last in order while up to
// c.prefetch of them are fetched ahead by a launcher goroutine. It returns
// the page to continue with sequentially (when the listing grew past last)
// or 0 when done, stopped or failed.
func prefetchPages[T any, O any, PO pageLister[O]](ctx context.Context, c *Client, base O, from, last int, list listFunc[T, PO], yield func(T, error) bool) int {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()

	n := int32(c.prefetch)
	results := make([]chan pageResult[T], last-from+1)
	for i := range results {
		results[i] = make(chan pageResult[T], 1)
	}
	// inFlight counts the requests on their way; held the pages launched
	// and not yet yielded to the end (in flight included). Each change
	// wakes the launcher.
	var inFlight, held atomic.Int32
	wake := make(chan struct{}, 1)
	signal := func() {
		select {
		case wake <- struct{}{}:
		default:
		}
	}
	room := func() bool {
		f := inFlight.Load()
		return f < n && held.Load() < 2*n && (f == 0 || c.budgetAllows(int(f)))
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range results {
			for !room() {
				select {
				case <-wake:
				case <-ctx.Done():
					return
				}
			}
			inFlight.Add(1)
			held.Add(1)
			wg.Add(1)
			go func(page int, out chan<- pageResult[T]) {
				defer wg.Done()
				o := base
				p := PO(&o)
				p.listOptions().Page = page
				items, resp, err := list(ctx, p)
				out <- pageResult[T]{items, resp, err}
				inFlight.Add(-1)
				signal()
			}(from+i, results[i])
		}
	}()

	var r pageResult[T]
	for i := range results {
		select {
		case r = <-results[i]:
		case <-ctx.Done():
			var zero T
			yield(zero, ctx.Err())
			return 0
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
		held.Add(-1)
		signal()
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
