package bookingsync

import (
	"context"
	"fmt"
	"iter"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/google/go-querystring/query"
)

// MaxPerPage is the largest page the API serves; iterators ask for it unless
// the caller set PerPage.
const MaxPerPage = 100

// ListOptions are the paging, field-limiting and incremental-sync options
// every listing accepts.
type ListOptions struct {
	// Page is the page to fetch, from 1. Zero means the first.
	Page int `url:"page,omitempty"`
	// PerPage is the page size; the server caps it (100 seen).
	PerPage int `url:"per_page,omitempty"`
	// Fields limits the attributes returned (?fields=id,subject).
	Fields []string `url:"fields,comma,omitempty"`
	// Include sideloads associations in each record, where the API
	// supports it (?include=availability,change_over on rentals; the
	// records come whole under the association's name).
	Include []string `url:"include,comma,omitempty"`
	// UpdatedSince returns only records changed since then, and fills
	// Response.Meta.DeletedIDs with those removed since then. Use the
	// previous walk's Response.SyncedAt, not the local clock.
	UpdatedSince time.Time `url:"-"`
}

// GetOptions limit the attributes of the records Get and GetMany return
// and sideload their associations, for the services that take them
// (GetWith, GetManyWith).
type GetOptions struct {
	// Fields limits the attributes returned (?fields=id,name); id and
	// links always come.
	Fields []string `url:"fields,comma,omitempty"`
	// Include sideloads associations where the API supports it
	// (?include=availability on rentals).
	Include []string `url:"include,comma,omitempty"`
}

func (o *ListOptions) listOptions() *ListOptions { return o }

// lister is implemented by every listing's options through the embedded
// ListOptions.
type lister interface{ listOptions() *ListOptions }

// extraEncoder is implemented by options with parameters url tags cannot
// express (times, lower-cased enums); encodeExtra adds them to v, or
// rejects the options with an error wrapping ErrInvalidRequest.
type extraEncoder interface{ encodeExtra(v url.Values) error }

// encodeQuery writes opts (a struct pointer with url tags, possibly nil) as
// a query string.
func encodeQuery(opts any) (string, error) {
	if opts == nil {
		return "", nil
	}
	if rv := reflect.ValueOf(opts); rv.Kind() == reflect.Pointer && rv.IsNil() {
		return "", nil
	}
	v, err := query.Values(opts)
	if err != nil {
		return "", err
	}
	if l, ok := opts.(lister); ok {
		if lo := l.listOptions(); lo != nil && !lo.UpdatedSince.IsZero() {
			v.Set("updated_since", formatTime(lo.UpdatedSince))
		}
	}
	// An options type with an Include of its own beside the embedded
	// ListOptions' (ConversationListOptions) sends one list of both.
	if inc := v["include"]; len(inc) > 1 {
		var all []string
		for _, l := range inc {
			for _, n := range strings.Split(l, ",") {
				if !slices.Contains(all, n) {
					all = append(all, n)
				}
			}
		}
		v.Set("include", strings.Join(all, ","))
	}
	if e, ok := opts.(extraEncoder); ok {
		if err := e.encodeExtra(v); err != nil {
			return "", err
		}
	}
	// go-querystring escapes the commas of comma lists; the API reads both,
	// but literal commas are what its own Link headers and docs use.
	return strings.ReplaceAll(v.Encode(), "%2C", ","), nil
}

// pageLister is an options type whose pointer carries ListOptions.
type pageLister[O any] interface {
	*O
	lister
}

// listFunc fetches one page.
type listFunc[T any, PO any] func(context.Context, PO) ([]T, *Response, error)

// listPage is one page of a walk over a listing (see pages).
type listPage[T any] struct {
	number int
	items  []T
	resp   *Response
	last   bool // the walk ends with this page
}

// allPages turns a one-page list function into a lazy iterator over every
// item of every page (see pages): the All methods.
func allPages[T any, O any, PO pageLister[O]](ctx context.Context, c *Client, opts PO, list listFunc[T, PO]) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		for pg, err := range pages(ctx, c, opts, list) {
			if err != nil {
				var zero T
				yield(zero, err)
				return
			}
			for _, it := range pg.items {
				if !yield(it, nil) {
					return
				}
			}
		}
	}
}

// pages turns a one-page list function into a lazy iterator over the pages
// of a listing, in order, the one walk under All and the sync walk
// (SyncPages). It copies opts, asks for MaxPerPage unless the caller set
// PerPage, follows NextPage (or X-Total-Pages when no Link header came),
// stops when the consumer stops, and yields the first error once, then
// ends. Every page fetched is yielded, an empty last one too, and the
// last is marked. Sequentially it holds only the current page; with
// WithPrefetch(n) see prefetcher.
func pages[T any, O any, PO pageLister[O]](ctx context.Context, c *Client, opts PO, list listFunc[T, PO]) iter.Seq2[*listPage[T], error] {
	return func(yield func(*listPage[T], error) bool) {
		var o O
		if opts != nil {
			o = *opts
		}
		p := PO(&o)
		lo := p.listOptions()
		if lo.PerPage == 0 {
			lo.PerPage = MaxPerPage
		}
		if lo.Page < 1 {
			lo.Page = 1
		}
		for {
			if err := ctx.Err(); err != nil {
				yield(nil, err)
				return
			}
			var ahead *prefetcher[T]
			lctx := ctx
			if c != nil && c.prefetch > 0 {
				// The pages ahead are sent for as soon as this page's
				// headers tell how many there are: before it is
				// decoded, and while the caller reads it.
				page, base := lo.Page, o
				lctx = context.WithValue(ctx, bodyReadKey{}, func(resp *Response) {
					if ahead != nil {
						return // one prefetcher a page, were list ever to send twice
					}
					if next, err := nextPage(page, resp, 1); err == nil && next != 0 && resp.TotalPages > next && resp.StatusCode/100 == 2 {
						ahead = startPrefetch(ctx, c, base, next, resp.TotalPages, list)
					}
				})
			}
			items, resp, err := list(lctx, p)
			var next int
			if err == nil {
				next, err = nextPage(lo.Page, resp, len(items))
			}
			if err != nil {
				ahead.stop()
				yield(nil, err)
				return
			}
			pg := &listPage[T]{number: lo.Page, items: items, resp: resp, last: next == 0}
			if ahead != nil && next != 0 {
				next = ahead.yieldPages(pg, yield)
			} else {
				ahead.stop() // if any: the page came empty
				if !yield(pg, nil) {
					return
				}
			}
			if next == 0 {
				return
			}
			lo.Page = next
		}
	}
}

// nextPage is the page after current, or 0 when current is the last (it
// held n items; an empty page is the last). A next link that points back
// is an error, on an empty page too: following it would loop, and
// stopping there would pass part of the listing off as all of it.
func nextPage(current int, resp *Response, n int) (int, error) {
	if resp == nil {
		return 0, nil
	}
	if resp.NextPage != 0 && resp.NextPage <= current {
		return 0, fmt.Errorf("bookingsync: page %d of a listing links back to page %d as the next", current, resp.NextPage)
	}
	if n == 0 {
		return 0, nil
	}
	if resp.NextPage > current {
		return resp.NextPage, nil
	}
	hasLinks := resp.LastPage != 0 || resp.FirstPage != 0 || resp.PrevPage != 0
	if !hasLinks && resp.TotalPages > current {
		return current + 1, nil
	}
	return 0, nil
}
