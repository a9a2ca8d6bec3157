package bookingsync

import (
	"context"
	"time"
)

// SyncSummary is what an incremental sync walk learned besides the items.
type SyncSummary struct {
	// DeletedIDs are the ids of records removed since the cursor: the union
	// of every page's meta.deleted_ids, each id once, in order of first
	// appearance. Apply them after the items.
	DeletedIDs []int64
	// SyncedAt is the FIRST page's X-Updated-Since-Request-Synced-At: the
	// cursor to persist and pass as the next since. Taking the first page's
	// makes the next walk see again whatever changed while this one ran,
	// rather than miss it. The API sends the header on every response, with
	// or without updated_since; SyncedAt is zero only when the first page
	// lacked it (a proxy stripped it, say): keep the previous cursor then.
	SyncedAt time.Time
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

// SyncAll walks every page of an updated_since listing and returns the
// changed records, the deleted ids and the next cursor. list is any
// service's List method, opts its options or nil:
//
//	res, err := bookingsync.SyncAll(ctx, cursor, nil, client.Conversations.List)
//	if err != nil {
//		return err // keep the old cursor; the walk is retried whole
//	}
//	// upsert res.Items, delete res.DeletedIDs, then persist res.SyncedAt
//
// since is sent as updated_since (it overrides opts.UpdatedSince); a zero
// since sends none and lists everything, the first full sync. Either way
// the API sends X-Updated-Since-Request-Synced-At on every response, so
// SyncedAt is the cursor for the next walk after a full sync too. Paging
// starts from page 1, MaxPerPage at a time unless opts sets PerPage.
//
// It stops at the first error and then returns only that error: a partial
// walk must not advance the cursor. SyncAll holds every changed record in
// memory; SyncEach streams them.
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
	if list == nil || fn == nil {
		return nil, invalid("sync", "nil list or record function")
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
	record := func(ctx context.Context, p PO) ([]T, *Response, error) {
		items, resp, err := list(ctx, p)
		if err != nil {
			return nil, resp, err
		}
		sum.Pages++
		if resp != nil {
			if sum.Pages == 1 {
				sum.SyncedAt = resp.SyncedAt
			}
			for _, id := range resp.Meta.DeletedIDs {
				if !seen[id] {
					seen[id] = true
					sum.DeletedIDs = append(sum.DeletedIDs, id)
				}
			}
		}
		return items, resp, nil
	}
	// No client, so no prefetch: record must see the pages in order.
	for it, err := range allPages(ctx, nil, p, record) {
		if err != nil {
			return nil, err
		}
		if err := fn(it); err != nil {
			return nil, err
		}
	}
	return sum, nil
}
