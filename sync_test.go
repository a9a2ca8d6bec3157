package bookingsync

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// threePages serves /inbox/conversations as three pages, each with its own
// synced-at header (later as the walk goes on) and deleted ids that
// overlap. failPage, when non-zero, answers that page with a 500.
func threePages(failPage int) http.HandlerFunc {
	synced := []string{"2018-03-23 19:00:41 UTC", "2018-03-23 19:00:43 UTC", "2018-03-23 19:00:47 UTC"}
	deleted := [][]any{{5, 6}, {6, "7"}, {8, 5}}
	return func(w http.ResponseWriter, r *http.Request) {
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		if page < 1 || page > 3 {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		if page == failPage {
			w.WriteHeader(http.StatusInternalServerError)
			w.Write([]byte(`{"errors":[{"code":"internal"}]}`))
			return
		}
		w.Header().Set("X-Updated-Since-Request-Synced-At", synced[page-1])
		if page < 3 {
			w.Header().Set("Link", `<http://x/api/v3/inbox/conversations?page=`+strconv.Itoa(page+1)+`&per_page=100>; rel="next", <http://x/api/v3/inbox/conversations?page=3&per_page=100>; rel="last"`)
		}
		writeEnvelope(w, "conversations",
			[]any{conversationJSON(int64(page*10 + 1)), conversationJSON(int64(page*10 + 2))},
			map[string]any{"deleted_ids": deleted[page-1]})
	}
}

func TestSyncAllCursorAndDeletedIDsAcrossPages(t *testing.T) {
	t.Parallel()
	c, mux, srv := setup(t)
	mux.HandleFunc("/", threePages(0))
	since := time.Date(2018, 3, 22, 8, 0, 0, 0, time.UTC)
	opts := &ConversationListOptions{Include: []string{"participants"}, ListOptions: ListOptions{Page: 7}}
	res, err := SyncAll(context.Background(), since, opts, c.Conversations.List)
	require.NoError(t, err)
	var ids []int64
	for _, cv := range res.Items {
		ids = append(ids, cv.ID)
	}
	assert.Equal(t, []int64{11, 12, 21, 22, 31, 32}, ids, "items")
	assert.Equal(t, []int64{5, 6, 7, 8}, res.DeletedIDs, "deleted ids")
	assert.True(t, res.SyncedAt.Equal(time.Date(2018, 3, 23, 19, 0, 41, 0, time.UTC)), "synced at = %v, want the first page's", res.SyncedAt)
	// Pages 2 and 3 name deleted ids page 1 did not: records were deleted
	// during the walk, so the cursor is not to be persisted.
	assert.False(t, res.Settled, "settled after deletions between pages")
	assert.EqualValues(t, 3, res.Pages, "pages = %d", res.Pages)
	want := []string{
		"/api/v3/inbox/conversations?include=participants&page=1&per_page=100&updated_since=2018-03-22T08%3A00%3A00Z",
		"/api/v3/inbox/conversations?include=participants&page=2&per_page=100&updated_since=2018-03-22T08%3A00%3A00Z",
		"/api/v3/inbox/conversations?include=participants&page=3&per_page=100&updated_since=2018-03-22T08%3A00%3A00Z",
	}
	assert.Equal(t, want, srv.paths(), "requests")
	assert.Equal(t, 7, opts.Page, "caller's options changed")
	assert.True(t, opts.UpdatedSince.IsZero(), "caller's options changed: updated since %v", opts.UpdatedSince)
}

func TestSyncAllFailsWholeOnAnyPageError(t *testing.T) {
	t.Parallel()
	c, mux, srv := setup(t)
	mux.HandleFunc("/", threePages(2))
	res, err := SyncAll(context.Background(), time.Unix(1e9, 0), nil, c.Conversations.List)
	var er *ErrorResponse
	require.ErrorAs(t, err, &er)
	require.Equal(t, http.StatusInternalServerError, er.StatusCode)
	assert.Nil(t, res, "partial result returned: %+v", res)
	n := len(srv.requests())
	assert.EqualValues(t, 2, n, "%d requests, want 2 (no page after the failure)", n)
}

func TestSyncEachStreamsAndStopsOnCallbackError(t *testing.T) {
	t.Parallel()
	c, mux, srv := setup(t)
	mux.HandleFunc("/", threePages(0))
	stop := errors.New("disk full")
	var seen []int64
	sum, err := SyncEach(context.Background(), time.Unix(1e9, 0), nil, c.Conversations.List, func(cv *Conversation) error {
		seen = append(seen, cv.ID)
		if cv.ID == 21 {
			return stop
		}
		return nil
	})
	require.ErrorIs(t, err, stop)
	require.Nil(t, sum)
	assert.Equal(t, []int64{11, 12, 21}, seen, "seen")
	n := len(srv.requests())
	assert.EqualValues(t, 2, n, "%d requests, want 2", n)
}

func TestSyncAllWithoutSyncedAtHeader(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeEnvelope(w, "bookings", []any{bookingJSON(80)}, map[string]any{"deleted_ids": []int{3}})
	})
	res, err := SyncAll(context.Background(), time.Unix(1e9, 0), &BookingListOptions{IncludeCanceled: true}, c.Bookings.List)
	require.NoError(t, err)
	assert.True(t, res.SyncedAt.IsZero(), "synced at = %v, want zero", res.SyncedAt)
	assert.False(t, res.Settled, "settled without a cursor")
	require.Len(t, res.Items, 1)
	assert.EqualValues(t, 80, res.Items[0].ID)
	assert.Equal(t, []int64{3}, res.DeletedIDs)
	assert.Equal(t, 1, res.Pages)
}

func TestSyncAllStopsOnContext(t *testing.T) {
	t.Parallel()
	c, mux, srv := setup(t)
	mux.HandleFunc("/", threePages(0))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := SyncAll(ctx, time.Unix(1e9, 0), nil, c.Conversations.List)
	assert.ErrorIs(t, err, context.Canceled)
	n := len(srv.requests())
	assert.EqualValues(t, 0, n, "%d requests", n)
	var nilList func(context.Context, *BookingListOptions) ([]*Booking, *Response, error)
	_, err = SyncAll(context.Background(), time.Time{}, nil, nilList)
	assert.ErrorIs(t, err, ErrInvalidRequest, "nil list")
}

// TestSyncFailsOnAnEmptyPageThatLinksBack: an empty page whose next link
// points back to an earlier page fails the walk, with or without
// prefetch, rather than end it as complete with a cursor to persist.
func TestSyncFailsOnAnEmptyPageThatLinksBack(t *testing.T) {
	t.Parallel()
	for _, prefetch := range []int{0, 2} {
		_, mux, srv := setup(t)
		mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Updated-Since-Request-Synced-At", "2018-03-23 19:00:41 UTC")
			w.Header().Set("X-Total-Pages", "3")
			var items []any
			switch r.URL.Query().Get("page") {
			case "1":
				w.Header().Set("Link", `<http://x/api/v3/inbox/conversations?page=2>; rel="next"`)
				items = []any{conversationJSON(1)}
			case "2":
				w.Header().Set("Link", `<http://x/api/v3/inbox/conversations?page=3>; rel="next"`)
				items = []any{conversationJSON(2)}
			default:
				w.Header().Set("Link", `<http://x/api/v3/inbox/conversations?page=1>; rel="next"`)
				items = []any{}
			}
			writeEnvelope(w, "conversations", items, map[string]any{})
		})
		c := srv.client(t, WithPrefetch(prefetch))
		sum, err := SyncPages(context.Background(), c, time.Time{}, nil, c.Conversations.List, func(*SyncPage[*Conversation]) error { return nil })
		assert.ErrorContains(t, err, "page 3 of a listing links back to page 1", "prefetch %d", prefetch)
		assert.Nil(t, sum, "prefetch %d", prefetch)
	}
}

// An unreadable deleted id does not stop a sync walk: SyncPages hands it
// over with its page (once, verbatim), the summary lists it, and the walk
// is not Settled, so that the cursor stays before the deletion it stands
// for.
func TestSyncPagesPassesUnreadableDeletedIDsAlong(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	deleted := [][]any{{5, "abc"}, {"abc", 1.5, 6}}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		w.Header().Set("X-Updated-Since-Request-Synced-At", "2018-03-23 19:00:41 UTC")
		if page == 1 {
			w.Header().Set("Link", `<http://x/api/v3/inbox/conversations?page=2&per_page=100>; rel="next"`)
		}
		writeEnvelope(w, "conversations", []any{conversationJSON(int64(page))}, map[string]any{"deleted_ids": deleted[page-1]})
	})
	var pages [][]string
	sum, err := SyncPages(context.Background(), c, time.Time{}, (*ConversationListOptions)(nil), c.Conversations.List, func(p *SyncPage[*Conversation]) error {
		var raw []string
		for _, b := range p.UnreadableDeletedIDs {
			raw = append(raw, string(b))
		}
		pages = append(pages, raw)
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, [][]string{{`"abc"`}, {`1.5`}}, pages, "each page's new unreadable entries")
	assert.Equal(t, []int64{5, 6}, sum.DeletedIDs)
	assert.Len(t, sum.UnreadableDeletedIDs, 2)
	assert.False(t, sum.Settled, "settled with a deletion it could not read")
	assert.Equal(t, 2, sum.Pages)
}
