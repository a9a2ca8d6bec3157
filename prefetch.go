package bookingsync

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
)

// WithPrefetch lets All iterators fetch up to n pages ahead, concurrently,
// once the first page's headers have told how many there are
// (X-Total-Pages): before that page is decoded, and while the loop reads
// it. Items are still yielded in order. A fetch starts as soon as
// another's response has been read (while that page is decoded), not when
// the loop reaches its page, so the walk runs at the network's pace: at
// most n requests are in flight and at most 2n pages held (fetched or on
// their way, not yet yielded) at once. A first page that comes empty or
// does not decode ends the walk, and the fetches it started. Breaking out
// of the loop or ending the context stops every fetch in flight, and no
// fetch is started that the last known rate budget (Rate.Remaining)
// cannot pay for. Off (0) by default.
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
	page  int
	items []T
	resp  *Response
	err   error
}

// prefetcher fetches pages from..last of a listing ahead of the caller,
// from the moment startPrefetch returns; yieldPages hands them over in
// page order.
//
// A launcher goroutine hands each page's result channel to the consumer,
// in page order, through queue: its capacity (2n-1, plus the page being
// yielded) bounds the pages held, and the launcher starts a fetch whenever
// fewer than n are in flight (a fetch is in flight until its body is
// read), without waiting for the consumer. Nothing is allocated per page
// before it is launched, however many pages the headers announce.
type prefetcher[T any] struct {
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	queue  chan chan pageResult[T]
	last   int
}

// startPrefetch starts fetching pages from..last of list, base being the
// listing's options, up to c.prefetch at once.
func startPrefetch[T any, O any, PO pageLister[O]](ctx context.Context, c *Client, base O, from, last int, list listFunc[T, PO]) *prefetcher[T] {
	n := c.prefetch
	f := &prefetcher[T]{queue: make(chan chan pageResult[T], 2*n-1), last: last}
	f.ctx, f.cancel = context.WithCancel(ctx)
	ctx = f.ctx
	var inFlight atomic.Int32
	done := make(chan struct{}, 1) // a fetch ended: the launcher looks again
	room := func() bool {
		busy := int(inFlight.Load())
		return busy < n && (busy == 0 || c.budgetAllows(busy))
	}
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		defer close(f.queue)
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
			case f.queue <- out:
			case <-ctx.Done():
				return
			}
			inFlight.Add(1)
			f.wg.Add(1)
			go func(page int) {
				defer f.wg.Done()
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
				read := func(*Response) { release() }
				items, resp, err := list(context.WithValue(ctx, bodyReadKey{}, read), p)
				out <- pageResult[T]{page, items, resp, err}
			}(page)
		}
	}()
	return f
}

// stop ends every fetch in flight and waits for them. A nil f is stopped.
func (f *prefetcher[T]) stop() {
	if f != nil {
		f.cancel()
		f.wg.Wait()
	}
}

// yieldPages yields head, the page before the prefetched ones, then those
// in order, and stops f. It returns the page to continue with
// sequentially (when the listing grew past the last page prefetched) or 0
// when done, stopped or failed. A page that comes empty ends the walk and
// is the last; so is page last unless the listing grew past it.
func (f *prefetcher[T]) yieldPages(head *listPage[T], yield func(*listPage[T], error) bool) int {
	defer f.stop()
	if !yield(head, nil) {
		return 0
	}
	for {
		var out chan pageResult[T]
		var ok bool
		var r pageResult[T]
		select {
		case out, ok = <-f.queue:
		case <-f.ctx.Done():
		}
		if ok {
			select {
			case r = <-out:
			case <-f.ctx.Done():
				ok = false
			}
		}
		if !ok {
			if err := f.ctx.Err(); err != nil {
				yield(nil, err)
			}
			return 0
		}
		next := 0
		if r.err == nil {
			next, r.err = nextPage(r.page, r.resp, len(r.items))
		}
		if r.err != nil {
			yield(nil, r.err)
			return 0
		}
		more := len(r.items) > 0 && (r.page < f.last || next > f.last)
		if !yield(&listPage[T]{number: r.page, items: r.items, resp: r.resp, last: !more}, nil) || !more {
			return 0
		}
		if r.page == f.last {
			return next
		}
	}
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
