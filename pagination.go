package bookingsync

import (
	"context"
	"encoding/json"
	"iter"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
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
	// UpdatedSince returns only records changed since then, and fills
	// Response.Meta.DeletedIDs with those removed since then. Use the
	// previous walk's Response.SyncedAt, not the local clock.
	UpdatedSince time.Time `url:"-"`
}

// GetOptions limit the attributes of the records Get and GetMany return,
// for the services that take them (GetWith, GetManyWith).
type GetOptions struct {
	// Fields limits the attributes returned (?fields=id,name); id and
	// links always come.
	Fields []string `url:"fields,comma,omitempty"`
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
	if e, ok := opts.(extraEncoder); ok {
		if err := e.encodeExtra(v); err != nil {
			return "", err
		}
	}
	// go-querystring escapes the commas of comma lists; the API reads both,
	// but literal commas are what its own Link headers and docs use.
	return strings.ReplaceAll(v.Encode(), "%2C", ","), nil
}

// Meta is the envelope's meta object.
type Meta struct {
	// DeletedIDs lists the records removed since ListOptions.UpdatedSince.
	DeletedIDs []int64 `json:"-"`
	// Link repeats the Link header's URLs by relation, on some responses.
	Link map[string]string `json:"Link,omitempty"`
	// TotalPages, TotalCount and PerPage repeat the headers of the same
	// names, on some responses; 0 when absent or null.
	TotalPages int `json:"-"`
	TotalCount int `json:"-"`
	PerPage    int `json:"-"`
}

// UnmarshalJSON accepts ids and counts written as numbers or strings, and
// nulls.
func (m *Meta) UnmarshalJSON(b []byte) error {
	var w struct {
		DeletedIDs []flexInt         `json:"deleted_ids"`
		Link       map[string]string `json:"Link"`
		TotalPages flexInt           `json:"X-Total-Pages"`
		TotalCount flexInt           `json:"X-Total-Count"`
		PerPage    flexInt           `json:"X-Per-Page"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	// Like the headers, a negative count means none.
	count := func(n flexInt) int { return int(max(n, 0)) }
	*m = Meta{Link: w.Link, TotalPages: count(w.TotalPages), TotalCount: count(w.TotalCount), PerPage: count(w.PerPage)}
	if len(w.DeletedIDs) > 0 {
		m.DeletedIDs = make([]int64, len(w.DeletedIDs))
		for i, id := range w.DeletedIDs {
			m.DeletedIDs[i] = int64(id)
		}
	}
	return nil
}

// Response wraps the HTTP response with what the API says in its headers
// and meta. Its body has been read and closed.
type Response struct {
	*http.Response

	// FirstPage, PrevPage, NextPage and LastPage come from the Link header
	// (or meta); 0 when absent. NextPage 0 means this is the last page.
	FirstPage, PrevPage, NextPage, LastPage int
	// TotalPages, TotalCount and PerPage come from X-Total-Pages,
	// X-Total-Count and X-Per-Page (or meta); 0 when absent.
	TotalPages, TotalCount, PerPage int

	// Rate is the rate-limit budget after this request.
	Rate Rate
	// RequestID is X-Request-Id.
	RequestID string
	// SyncedAt is X-Updated-Since-Request-Synced-At: the cursor to persist
	// and pass as the next ListOptions.UpdatedSince. Zero when absent.
	SyncedAt time.Time
	// Meta is the envelope's meta: deleted ids of an updated_since listing.
	Meta Meta
}

func newResponse(r *http.Response) *Response {
	resp := &Response{Response: r, Rate: parseRate(r.Header), RequestID: r.Header.Get("X-Request-Id")}
	resp.FirstPage, resp.PrevPage, resp.NextPage, resp.LastPage = parseLinkPages(r.Header.Values("Link"))
	resp.TotalPages = headerInt(r.Header, "X-Total-Pages")
	resp.TotalCount = headerInt(r.Header, "X-Total-Count")
	resp.PerPage = headerInt(r.Header, "X-Per-Page")
	if s := r.Header.Get("X-Updated-Since-Request-Synced-At"); s != "" {
		resp.SyncedAt, _ = parseServerTime(s)
	}
	return resp
}

// setMeta records meta and fills paging fields the headers left empty.
func (r *Response) setMeta(m Meta) {
	r.Meta = m
	if r.TotalPages == 0 {
		r.TotalPages = m.TotalPages
	}
	if r.TotalCount == 0 {
		r.TotalCount = m.TotalCount
	}
	if r.PerPage == 0 {
		r.PerPage = m.PerPage
	}
	if r.FirstPage == 0 && r.NextPage == 0 && r.PrevPage == 0 && r.LastPage == 0 && len(m.Link) > 0 {
		r.FirstPage = pageOf(m.Link["first"])
		r.PrevPage = pageOf(m.Link["prev"])
		r.NextPage = pageOf(m.Link["next"])
		r.LastPage = pageOf(m.Link["last"])
	}
}

func headerInt(h http.Header, key string) int {
	n, err := strconv.Atoi(strings.TrimSpace(h.Get(key)))
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// parseLinkPages reads RFC 8288 Link headers: `<url>; rel="next", <url>;
// rel="last"`. URLs may themselves hold commas and semicolons, so it scans
// for the angle brackets rather than splitting.
func parseLinkPages(values []string) (first, prev, next, last int) {
	for _, v := range values {
		for len(v) > 0 {
			open := strings.IndexByte(v, '<')
			if open < 0 {
				break
			}
			end := strings.IndexByte(v[open:], '>')
			if end < 0 {
				break
			}
			target := v[open+1 : open+end]
			v = v[open+end+1:]
			params := v
			if i := strings.IndexByte(v, '<'); i >= 0 {
				params = v[:i]
			}
			page := pageOf(target)
			for _, rel := range linkRels(params) {
				switch rel {
				case "first":
					first = page
				case "prev", "previous":
					prev = page
				case "next":
					next = page
				case "last":
					last = page
				}
			}
		}
	}
	return first, prev, next, last
}

// linkRels returns the relation types in a link's parameters
// (`; rel="next last"`).
func linkRels(params string) []string {
	for _, p := range strings.Split(params, ";") {
		k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(k), "rel") {
			continue
		}
		return strings.Fields(strings.ToLower(strings.Trim(strings.TrimSpace(strings.TrimRight(strings.TrimSpace(v), ",")), `"`)))
	}
	return nil
}

func pageOf(rawURL string) int {
	if rawURL == "" {
		return 0
	}
	u, err := url.Parse(strings.TrimSpace(rawURL))
	if err != nil {
		return 0
	}
	n, err := strconv.Atoi(u.Query().Get("page"))
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// pageLister is an options type whose pointer carries ListOptions.
type pageLister[O any] interface {
	*O
	lister
}

// listFunc fetches one page.
type listFunc[T any, PO any] func(context.Context, PO) ([]T, *Response, error)

// allPages turns a one-page list function into a lazy iterator over every
// item of every page. It copies opts, asks for MaxPerPage unless the caller
// set PerPage, follows NextPage (or X-Total-Pages when no Link header came),
// stops when the consumer stops, and yields the first error once, then
// ends. Sequentially it holds only the current page; with WithPrefetch(n)
// see prefetchPages.
func allPages[T any, O any, PO pageLister[O]](ctx context.Context, c *Client, opts PO, list listFunc[T, PO]) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
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
				var zero T
				yield(zero, err)
				return
			}
			items, resp, err := list(ctx, p)
			if err != nil {
				var zero T
				yield(zero, err)
				return
			}
			for _, it := range items {
				if !yield(it, nil) {
					return
				}
			}
			next := nextPage(lo.Page, resp, len(items))
			if next == 0 {
				return
			}
			if c != nil && c.prefetch > 0 && resp.TotalPages > next {
				next = prefetchPages(ctx, c, o, next, resp.TotalPages, list, yield)
				if next == 0 {
					return
				}
			}
			lo.Page = next
		}
	}
}

// nextPage is the page after current, or 0 when current is the last.
func nextPage(current int, resp *Response, n int) int {
	if resp == nil || n == 0 {
		return 0
	}
	if resp.NextPage > current {
		return resp.NextPage
	}
	hasLinks := resp.NextPage != 0 || resp.LastPage != 0 || resp.FirstPage != 0 || resp.PrevPage != 0
	if !hasLinks && resp.TotalPages > current {
		return current + 1
	}
	return 0
}
