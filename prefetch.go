package bookingsync

import (
	"context"
	"errors"
	"sync"
)

// WithPrefetch lets All iterators fetch up to n pages ahead, concurrently,
// once the first page has told how many there are (X-Total-Pages). Items
// are still yielded in order; at most n+1 pages are held at once; breaking
// out of the loop or ending the context stops every fetch in flight; and no
// fetch is started that the last known rate budget (Rate.Remaining) cannot
// pay for. Off (0) by default.
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
// c.prefetch of them are fetched ahead. It returns the page to continue
// with sequentially (when the listing grew past last) or 0 when done,
// stopped or failed.
func prefetchPages[T any, O any, PO pageLister[O]](ctx context.Context, c *Client, base O, from, last int, list listFunc[T, PO], yield func(T, error) bool) int {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()

	launch := func(page int) chan pageResult[T] {
		ch := make(chan pageResult[T], 1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			o := base
			p := PO(&o)
			p.listOptions().Page = page
			items, resp, err := list(ctx, p)
			ch <- pageResult[T]{items, resp, err}
		}()
		return ch
	}

	var queue []chan pageResult[T]
	page := from
	fill := func() {
		for page <= last && len(queue) < c.prefetch && (len(queue) == 0 || c.budgetAllows(len(queue))) {
			queue = append(queue, launch(page))
			page++
		}
	}
	fill()
	for len(queue) > 0 {
		var r pageResult[T]
		select {
		case r = <-queue[0]:
		case <-ctx.Done():
			var zero T
			yield(zero, ctx.Err())
			return 0
		}
		queue = queue[1:]
		if r.err != nil {
			var zero T
			yield(zero, r.err)
			return 0
		}
		if len(r.items) == 0 {
			return 0
		}
		// Refill before yielding: n pages are fetched while the consumer
		// works on this one, which makes the n+1 pages held at most.
		fill()
		for _, it := range r.items {
			if !yield(it, nil) {
				return 0
			}
		}
		if page > last && len(queue) == 0 && r.resp != nil && r.resp.NextPage > last {
			return r.resp.NextPage
		}
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
