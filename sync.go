package bookingsync

import (
	"context"
	"encoding/json"
	"time"
)

// SyncSummary is what an incremental sync walk learned besides the items.
type SyncSummary struct {
	// DeletedIDs are the ids of records removed since the cursor: the union
	// of every page's meta.deleted_ids, each id once, in order of first
	// appearance. Apply them after the items.
	DeletedIDs []int64
	// UnreadableDeletedIDs are the entries of the pages' meta.deleted_ids
	// that are no integer (Meta.UnreadableDeletedIDs), each once, in order
	// of first appearance: deletions that cannot be applied. A walk that
	// met one is not Settled.
	UnreadableDeletedIDs []json.RawMessage
	// SyncedAt is the FIRST page's X-Updated-Since-Request-Synced-At: the
	// cursor to pass as the next since. Taking the first page's makes the
	// next walk see again whatever changed while this one ran, rather than
	// miss it. The API sends the header on every response, with or without
	// updated_since; SyncedAt is zero only when the first page lacked it (a
	// proxy stripped it, say).
	//
	// Persist SyncedAt only when Settled: otherwise keep the previous
	// cursor, and the next walk reads the same window again.
	SyncedAt time.Time
	// Settled reports that SyncedAt is a cursor that misses nothing: the
	// first page stated it, and no page after the first told of a
	// deletion (a deleted id no earlier page listed, or a total smaller
	// than the first page's) and no page held an unreadable deleted id
	// (the deletion it stands for would be missed). A record deleted
	// during the walk shifts the later pages left, so that a record of
	// the listing can fall between two pages, unseen; the next walk from
	// the old cursor sees it. The items and DeletedIDs of an unsettled
	// walk are real changes all the same: apply them.
	Settled bool
	// Pages is the number of pages fetched.
	Pages int
}

// SyncResult is the outcome of SyncAll.
type SyncResult[T any] struct {
	// Items are the records created or changed since the cursor, in the
	// order the pages listed them.
	Items []T
	SyncSummary
}

// SyncPage is one page of a sync walk, as SyncPages hands it over.
type SyncPage[T any] struct {
	// Number is the page's number, from 1.
	Number int
	// Items are the page's records.
	Items []T
	// DeletedIDs are the ids of the page's meta.deleted_ids that no
	// earlier page of the walk listed: apply them after the items.
	DeletedIDs []int64
	// UnreadableDeletedIDs are the entries of the page's meta.deleted_ids
	// that are no integer and no earlier page listed, verbatim (see
	// SyncSummary.UnreadableDeletedIDs).
	UnreadableDeletedIDs []json.RawMessage
	// Response is the page's response.
	Response *Response
	// Last reports that the walk ends with this page: no more follow.
	Last bool
	// SyncedAt and Settled are the walk's so far, this page included (see
	// SyncSummary). On the last page they are final: a caller that writes
	// each page in a transaction of its own writes the cursor in the last
	// page's, when Settled.
	SyncedAt time.Time
	Settled  bool
}

// SyncAll walks every page of an updated_since listing and returns the
// changed records, the deleted ids and the next cursor. list is any
// service's List method, opts its options or nil:
//
//	res, err := bookingsync.SyncAll(ctx, cursor, nil, client.Conversations.List)
//	if err != nil {
//		return err // keep the old cursor; the walk is retried whole
//	}
//	// upsert res.Items, delete res.DeletedIDs, then, only if res.Settled,
//	// persist res.SyncedAt
//
// since is sent as updated_since (it overrides opts.UpdatedSince); a zero
// since sends none and lists everything, the first full sync. Either way
// the API sends X-Updated-Since-Request-Synced-At on every response, so
// SyncedAt is the cursor for the next walk after a full sync too. Paging
// starts from page 1, MaxPerPage at a time unless opts sets PerPage.
//
// It stops at the first error and then returns only that error: a partial
// walk must not advance the cursor. SyncAll holds every changed record in
// memory; SyncEach streams them, SyncPages hands them over page by page.
func SyncAll[T any, O any, PO pageLister[O]](ctx context.Context, since time.Time, opts PO, list func(context.Context, PO) ([]T, *Response, error)) (*SyncResult[T], error) {
	var items []T
	sum, err := SyncEach(ctx, since, opts, list, func(it T) error {
		items = append(items, it)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &SyncResult[T]{Items: items, SyncSummary: *sum}, nil
}

// SyncEach is SyncAll streaming: it hands each changed record to fn as
// its page arrives, holding one page at a time, and returns the summary
// once the walk is complete. An error from fn stops the walk and is
// returned as it is. On any error the records already handed to fn were
// real changes, but the cursor must not advance.
func SyncEach[T any, O any, PO pageLister[O]](ctx context.Context, since time.Time, opts PO, list func(context.Context, PO) ([]T, *Response, error), fn func(T) error) (*SyncSummary, error) {
	if fn == nil {
		return nil, invalid("sync", "nil record function")
	}
	return SyncPages(ctx, nil, since, opts, list, func(p *SyncPage[T]) error {
		for _, it := range p.Items {
			if err := fn(it); err != nil {
				return err
			}
		}
		return nil
	})
}

// SyncPages is the sync walk of SyncAll and SyncEach page by page, for a
// caller that writes each page as it comes (in a transaction of its own,
// say) and the cursor with the last one: fn gets every page in order,
// with the deleted ids it adds and, on the last page (Last), the walk's
// final SyncedAt and Settled. An error from fn stops the walk and is
// returned as it is; on any error nothing fetched after the failing page
// is handed over, and the cursor must not advance.
//
// c is the client whose WithPrefetch setting applies, or nil for none.
// With prefetch, list is called for the pages ahead concurrently, from
// other goroutines, and must be safe for that; fn is still called in page
// order, one page at a time, from the caller's goroutine. list may be a
// caller's own function (reading a page raw through Client.Do, say): it
// gets opts' copy with Page, PerPage and UpdatedSince set, and returns
// the page's records and *Response.
func SyncPages[T any, O any, PO pageLister[O]](ctx context.Context, c *Client, since time.Time, opts PO, list func(context.Context, PO) ([]T, *Response, error), fn func(*SyncPage[T]) error) (*SyncSummary, error) {
	if list == nil || fn == nil {
		return nil, invalid("sync", "nil list or page function")
	}
	var o O
	if opts != nil {
		o = *opts
	}
	p := PO(&o)
	lo := p.listOptions()
	lo.UpdatedSince = since
	lo.Page = 1

	sum := &SyncSummary{}
	seen := map[int64]bool{}
	seenRaw := map[string]bool{}
	firstTotal := 0
	shifted := false
	for pg, err := range pages(ctx, c, p, listFunc[T, PO](list)) {
		if err != nil {
			return nil, err
		}
		sum.Pages++
		var deleted []int64
		var unreadable []json.RawMessage
		resp := pg.resp
		if resp != nil {
			for _, id := range resp.Meta.DeletedIDs {
				if !seen[id] {
					seen[id] = true
					deleted = append(deleted, id)
				}
			}
			for _, raw := range resp.Meta.UnreadableDeletedIDs {
				if !seenRaw[string(raw)] {
					seenRaw[string(raw)] = true
					unreadable = append(unreadable, raw)
				}
			}
			if sum.Pages == 1 {
				sum.SyncedAt, firstTotal = resp.SyncedAt, resp.TotalCount
			} else if len(deleted) > 0 || resp.TotalCount < firstTotal {
				// Deleted since the first page: the pages after it
				// shifted left, and a record may have slipped past.
				shifted = true
			}
		}
		sum.DeletedIDs = append(sum.DeletedIDs, deleted...)
		sum.UnreadableDeletedIDs = append(sum.UnreadableDeletedIDs, unreadable...)
		sum.Settled = !shifted && !sum.SyncedAt.IsZero() && len(sum.UnreadableDeletedIDs) == 0
		err = fn(&SyncPage[T]{Number: pg.number, Items: pg.items, DeletedIDs: deleted, UnreadableDeletedIDs: unreadable, Response: resp,
			Last: pg.last, SyncedAt: sum.SyncedAt, Settled: sum.Settled})
		if err != nil {
			return nil, err
		}
	}
	return sum, nil
}
