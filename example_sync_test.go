package bookingsync_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/go-bookingsync/bookingsync"
	"github.com/go-bookingsync/bookingsync/bookingsynctest"
)

// cursorStore stands for wherever a program keeps its sync cursor: a file,
// a database row. It stores the cursor as text.
type cursorStore struct{ saved string }

func (s *cursorStore) Load() (time.Time, error) {
	if s.saved == "" {
		// First run: start before the account existed.
		return time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), nil
	}
	return time.Parse(time.RFC3339, s.saved)
}

func (s *cursorStore) Save(t time.Time) error {
	s.saved = t.UTC().Format(time.RFC3339)
	return nil
}

// An incremental sync loop: each run asks only for what changed since the
// persisted cursor, applies changes then deletions, and persists the
// server's SyncedAt as the next cursor, never the local clock.
func ExampleSyncAll() {
	srv := httptest.NewServer(http.HandlerFunc(fakeBookingsSync))
	defer srv.Close()
	client, err := bookingsync.NewClient(bookingsync.WithBaseURL(srv.URL), bookingsync.WithToken("token"))
	if err != nil {
		fmt.Println(err)
		return
	}

	ctx := context.Background()
	store := &cursorStore{}
	local := map[int64]string{} // booking id -> status: the program's copy

	for run := 1; run <= 2; run++ {
		cursor, err := store.Load()
		if err != nil {
			fmt.Println(err)
			return
		}
		res, err := bookingsync.SyncAll(ctx, cursor, &bookingsync.BookingListOptions{IncludeCanceled: true}, client.Bookings.List)
		if err != nil {
			fmt.Println("sync failed, cursor kept:", err)
			return
		}
		for _, b := range res.Items {
			local[b.ID] = string(b.Status)
		}
		for _, id := range res.DeletedIDs {
			delete(local, id)
		}
		if res.Settled { // persist only a cursor that missed nothing
			if err := store.Save(res.SyncedAt); err != nil {
				fmt.Println(err)
				return
			}
		}
		ids := make([]int64, 0, len(local))
		for id := range local {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		fmt.Printf("run %d: %d changed, %d deleted; local bookings %v; next cursor %s\n",
			run, len(res.Items), len(res.DeletedIDs), ids, store.saved)
	}
	// Output:
	// run 1: 2 changed, 0 deleted; local bookings [1 2]; next cursor 2026-05-01T12:00:00Z
	// run 2: 1 changed, 1 deleted; local bookings [2]; next cursor 2026-05-01T13:00:00Z
}

// fakeBookingsSync answers /api/v3/bookings as the API does for
// updated_since: the first run sees two bookings, the second an update and
// a deletion.
func fakeBookingsSync(w http.ResponseWriter, r *http.Request) {
	booking := func(id int64, status string) map[string]any {
		return map[string]any{"id": id, "status": status, "links": map[string]any{"account": 1}}
	}
	var items []any
	var deleted []int64
	switch r.URL.Query().Get("updated_since") {
	case "2000-01-01T00:00:00Z":
		w.Header().Set("X-Updated-Since-Request-Synced-At", "2026-05-01 12:00:00 UTC")
		items = []any{booking(1, "Booked"), booking(2, "Tentative")}
	case "2026-05-01T12:00:00Z":
		w.Header().Set("X-Updated-Since-Request-Synced-At", "2026-05-01 13:00:00 UTC")
		items = []any{booking(2, "Booked")}
		deleted = []int64{1}
	default:
		http.Error(w, `{"errors":[{"code":"unexpected cursor"}]}`, http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/vnd.api+json")
	json.NewEncoder(w).Encode(map[string]any{"links": map[string]any{}, "bookings": items, "meta": map[string]any{"deleted_ids": deleted}})
}

// rawConversations is one page of the conversations listing with its
// records kept as the API sent them.
type rawConversations struct {
	Conversations []json.RawMessage `json:"conversations"`
}

// SyncPages hands the sync walk over a page at a time, for a program that
// writes each page in a transaction of its own and the cursor with the
// last one, only when the walk is settled. Here the pages are read raw,
// through the client's NewRequest and Do, from the options SyncPages fills
// in (page, per_page, updated_since); the walk fetches ahead under
// WithPrefetch and hands the pages over in order.
func ExampleSyncPages() {
	srv := bookingsynctest.NewServer(bookingsynctest.WithConversationDelay(0), bookingsynctest.WithPageSizeCap(2))
	defer srv.Close()
	client, err := bookingsync.NewClient(bookingsync.WithBaseURL(srv.URL), bookingsync.WithToken(srv.Token()), bookingsync.WithPrefetch(2))
	if err != nil {
		fmt.Println(err)
		return
	}
	list := func(ctx context.Context, o *bookingsync.ListOptions) ([]json.RawMessage, *bookingsync.Response, error) {
		q := url.Values{}
		q.Set("page", strconv.Itoa(o.Page))
		q.Set("per_page", strconv.Itoa(o.PerPage))
		q.Set("updated_since", o.UpdatedSince.Format(time.RFC3339))
		req, err := client.NewRequest(ctx, http.MethodGet, "inbox/conversations?"+q.Encode(), nil)
		if err != nil {
			return nil, nil, err
		}
		var page rawConversations
		resp, err := client.Do(req, &page)
		return page.Conversations, resp, err
	}
	since := time.Date(2010, 1, 1, 0, 0, 0, 0, time.UTC)
	_, err = bookingsync.SyncPages(context.Background(), client, since, nil, list, func(p *bookingsync.SyncPage[json.RawMessage]) error {
		// BEGIN; upsert p.Items; delete p.DeletedIDs; then, on the last
		// page of a settled walk, save p.SyncedAt as the cursor; COMMIT.
		fmt.Printf("page %d: %d conversations, last %v", p.Number, len(p.Items), p.Last)
		if p.Last && p.Settled {
			fmt.Print(", cursor saved")
		}
		fmt.Println()
		return nil
	})
	if err != nil {
		fmt.Println(err)
	}
	// Output:
	// page 1: 2 conversations, last false
	// page 2: 2 conversations, last true, cursor saved
}
