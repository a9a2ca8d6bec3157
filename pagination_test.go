package bookingsync

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestListOptionsEncoding(t *testing.T) {
	t.Parallel()
	q, err := encodeQuery(&ConversationListOptions{
		ListOptions: ListOptions{Page: 2, PerPage: 50, Fields: []string{"id", "subject"},
			UpdatedSince: time.Date(2018, 3, 23, 21, 0, 41, 0, time.FixedZone("CEST", 2*3600))},
		Include: []string{"participants"},
	})
	require.NoError(t, err)
	assert.Equal(t, "fields=id,subject&include=participants&page=2&per_page=50&updated_since=2018-03-23T19%3A00%3A41Z", q)

	q, err = encodeQuery((*ListOptions)(nil))
	require.NoError(t, err)
	assert.Empty(t, q)
	q, err = encodeQuery(&ListOptions{})
	require.NoError(t, err)
	assert.Empty(t, q)
}

func TestParseLinkPages(t *testing.T) {
	t.Parallel()
	cases := map[string][4]int{
		`<https://www.bookingsync.com/api/v3/inbox/conversations?page=1&per_page=2>; rel="first", <https://www.bookingsync.com/api/v3/inbox/conversations?page=1&per_page=2>; rel="prev", <https://www.bookingsync.com/api/v3/inbox/conversations?page=3&per_page=2>; rel="next", <https://www.bookingsync.com/api/v3/inbox/conversations?page=9&per_page=2>; rel="last"`: {1, 1, 3, 9},
		// percent-encoded query strings and commas inside the URL
		`<https://x/api/v3/bookings?status=booked%2Ctentative&fields=id,start_at&page=4&updated_since=2018-03-23T19%3A00%3A41Z>; rel="next",<https://x/api/v3/bookings?page=5&status=booked,tentative>;rel=last`: {0, 0, 4, 5},
		`<https://x/a?page=2>; rel="next last"`:              {0, 0, 2, 2},
		`<https://x/a?page=2>; type="text/html"; REL="Next"`: {0, 0, 2, 0},
		``:                                   {},
		`garbage`:                            {},
		`<https://x/a?page=abc>; rel="next"`: {},
		`<https://x/a?page=-3>; rel="next"`:  {},
		`<https://x/a?page=2; rel="next"`:    {},
		`<%zz>; rel="next"`:                  {},
		`<https://x/a?page=2>; rel=next, <https://x/a?page=1>; rel=prev`: {0, 1, 2, 0},
	}
	for header, want := range cases {
		f, p, n, l := parseLinkPages([]string{header})
		assert.Equal(t, want, [4]int{f, p, n, l}, header)
	}
	// Several Link header lines.
	_, _, n, l := parseLinkPages([]string{`<https://x/a?page=2>; rel="next"`, `<https://x/a?page=7>; rel="last"`})
	assert.Equal(t, [2]int{2, 7}, [2]int{n, l})
}

func TestResponseHeaders(t *testing.T) {
	t.Parallel()
	_, mux, srv := setup(t)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", `<`+"https://x/api/v3/inbox/conversations?page=3"+`>; rel="next"`)
		w.Header().Set("X-Total-Pages", "12")
		w.Header().Set("X-Total-Count", "1150")
		w.Header().Set("X-Per-Page", "100")
		w.Header().Set("X-Updated-Since-Request-Synced-At", "2018-03-23 19:00:41 UTC")
		serveJSON(w, 200, []byte(`{"conversations":[],"meta":{"deleted_ids":[4,5]}}`))
	})
	_, resp, err := srv.client(t).Conversations.List(context.Background(), &ConversationListOptions{ListOptions: ListOptions{Page: 2}})
	require.NoError(t, err)
	assert.Equal(t, 3, resp.NextPage)
	assert.Equal(t, 12, resp.TotalPages)
	assert.Equal(t, 1150, resp.TotalCount)
	assert.Equal(t, 100, resp.PerPage)
	assert.Equal(t, time.Date(2018, 3, 23, 19, 0, 41, 0, time.UTC), resp.SyncedAt)
	assert.Equal(t, []int64{4, 5}, resp.Meta.DeletedIDs)
}

func TestMissingAndBrokenPagingHeaders(t *testing.T) {
	t.Parallel()
	_, mux, srv := setup(t)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Total-Pages", "lots")
		w.Header().Set("X-Updated-Since-Request-Synced-At", "not a time")
		w.Header().Set("X-RateLimit-Reset", "soon")
		w.Header().Set("Link", "<<<>>>")
		w.Write([]byte(`{"conversations":[{"id":1}],"meta":{"Link":{"first":"https://x/a?page=1"},"X-Total-Pages":null}}`))
	})
	got, resp, err := srv.client(t).Conversations.List(context.Background(), nil)
	require.NoError(t, err)
	assert.Len(t, got, 1)
	assert.Zero(t, resp.TotalPages)
	assert.Zero(t, resp.NextPage)
	assert.Equal(t, 1, resp.FirstPage, "paging falls back to meta.Link")
	assert.True(t, resp.SyncedAt.IsZero())
	assert.True(t, resp.Rate.Reset.IsZero())
}

func TestMetaRepeatsPagingHeaders(t *testing.T) {
	t.Parallel()
	var m Meta
	require.NoError(t, m.UnmarshalJSON([]byte(`{"Link":{"next":"https://x/a?page=2&per_page=1"},"X-Total-Pages":"4","X-Total-Count":7,"X-Per-Page":"1"}`)))
	assert.Equal(t, 4, m.paging.totalPages)
	assert.Equal(t, 7, m.paging.totalCount)
	r := &Response{}
	r.setMeta(m)
	assert.Equal(t, 2, r.NextPage)
	assert.Equal(t, 4, r.TotalPages)
	// A deleted id that is no integer is kept aside, not a failure; a
	// count that is none is.
	require.NoError(t, m.UnmarshalJSON([]byte(`{"deleted_ids":["x"]}`)))
	assert.Equal(t, []json.RawMessage{json.RawMessage(`"x"`)}, m.UnreadableDeletedIDs)
	assert.Error(t, m.UnmarshalJSON([]byte(`{"X-Total-Pages":"x"}`)))
}

// pagedServer serves total conversations in pages, the API's way.
func pagedServer(t *testing.T, total int, withLinks bool) *testServer {
	_, mux, srv := setup(t)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		per, _ := strconv.Atoi(r.URL.Query().Get("per_page"))
		if page < 1 {
			page = 1
		}
		if per < 1 || per > 100 {
			per = 100
		}
		pages := (total + per - 1) / per
		if withLinks && page < pages {
			w.Header().Set("Link", fmt.Sprintf(`<http://%s/api/v3/inbox/conversations?page=%d&per_page=%d>; rel="next", <http://%s/api/v3/inbox/conversations?page=%d&per_page=%d>; rel="last"`, r.Host, page+1, per, r.Host, pages, per))
		}
		w.Header().Set("X-Total-Pages", strconv.Itoa(pages))
		body := []byte(`{"conversations":[`)
		for i := (page-1)*per + 1; i <= min(page*per, total); i++ {
			if i > (page-1)*per+1 {
				body = append(body, ',')
			}
			body = fmt.Appendf(body, `{"id":%d}`, i)
		}
		serveJSON(w, 200, append(body, "]}"...))
	})
	return srv
}

func TestAllPagesLazily(t *testing.T) {
	t.Parallel()
	for _, withLinks := range []bool{true, false} {
		srv := pagedServer(t, 250, withLinks)
		c := srv.client(t)
		var ids []int64
		for conv, err := range c.Conversations.All(context.Background(), nil) {
			require.NoError(t, err)
			ids = append(ids, conv.ID)
		}
		assert.Len(t, ids, 250)
		assert.Equal(t, int64(250), ids[249])
		reqs := srv.requests()
		require.Len(t, reqs, 3, "250 items at 100 a page")
		assert.Equal(t, "page=1&per_page=100", reqs[0].RawQuery)
		assert.Equal(t, "page=3&per_page=100", reqs[2].RawQuery)
	}

	// The caller's PerPage is kept, and breaking early stops fetching.
	srv := pagedServer(t, 250, true)
	c := srv.client(t)
	n := 0
	for _, err := range c.Conversations.All(context.Background(), &ConversationListOptions{ListOptions: ListOptions{PerPage: 10}}) {
		require.NoError(t, err)
		if n++; n == 15 {
			break
		}
	}
	reqs := srv.requests()
	require.Len(t, reqs, 2)
	assert.Equal(t, "page=2&per_page=10", reqs[1].RawQuery)
}

func TestAllYieldsFirstErrorOnceAndStops(t *testing.T) {
	t.Parallel()
	calls := 0
	_, mux, srv := setup(t)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		calls++
		if calls == 2 {
			w.WriteHeader(500)
			return
		}
		w.Header().Set("Link", `<http://x/api/v3/inbox/conversations?page=2>; rel="next"`)
		serveJSON(w, 200, []byte(`{"conversations":[{"id":1}]}`))
	})
	var items, errs int
	for conv, err := range srv.client(t).Conversations.All(context.Background(), nil) {
		if err != nil {
			errs++
			assert.Nil(t, conv)
			continue
		}
		items++
	}
	assert.Equal(t, 1, items)
	assert.Equal(t, 1, errs)
	assert.Equal(t, 2, calls)
}

func TestAllHonoursContext(t *testing.T) {
	t.Parallel()
	srv := pagedServer(t, 250, true)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var gotErr error
	n := 0
	for _, err := range srv.client(t).Conversations.All(ctx, &ConversationListOptions{ListOptions: ListOptions{PerPage: 10}}) {
		if err != nil {
			gotErr = err
			break
		}
		if n++; n == 10 {
			cancel()
		}
	}
	assert.ErrorIs(t, gotErr, context.Canceled)
	assert.Len(t, srv.requests(), 1)
}

// TestAllFailsOnABackwardsLink: a next link that points back fails the
// walk, rather than loop or end it as if complete.
func TestAllFailsOnABackwardsLink(t *testing.T) {
	t.Parallel()
	_, mux, srv := setup(t)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", `<http://x/api/v3/inbox/conversations?page=1>; rel="next"`)
		serveJSON(w, 200, []byte(`{"conversations":[{"id":1}]}`))
	})
	n := 0
	var errs []error
	for _, err := range srv.client(t).Conversations.All(context.Background(), nil) {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		n++
	}
	// The page's items come, then an error: the walk neither loops nor
	// passes the first page off as the whole listing.
	assert.Equal(t, 0, n, "items of a page whose next link points back")
	require.Len(t, errs, 1)
	assert.ErrorContains(t, errs[0], "links back to page 1")
	assert.Len(t, srv.requests(), 1)
}
