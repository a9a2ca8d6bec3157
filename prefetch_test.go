package bookingsync

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// slowPages serves total conversations, per per page, each page after
// delay, and records the most requests it had in flight at once.
type slowPages struct {
	*testServer
	inFlight, maxInFlight atomic.Int32
	remaining             atomic.Int32
}

func newSlowPages(t *testing.T, total, per int, delay time.Duration) *slowPages {
	s := &slowPages{}
	s.remaining.Store(1000)
	pages := (total + per - 1) / per
	_, mux, srv := setup(t)
	s.testServer = srv
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		n := s.inFlight.Add(1)
		defer s.inFlight.Add(-1)
		for {
			m := s.maxInFlight.Load()
			if n <= m || s.maxInFlight.CompareAndSwap(m, n) {
				break
			}
		}
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		if page < pages {
			w.Header().Set("Link", fmt.Sprintf(`<http://%s/api/v3/inbox/conversations?page=%d>; rel="next"`, r.Host, page+1))
		}
		w.Header().Set("X-Total-Pages", strconv.Itoa(pages))
		w.Header().Set("X-RateLimit-Limit", "1000")
		rem := s.remaining.Load()
		if rem > 2 { // a low budget stays low (and never spent) for the test
			rem = s.remaining.Add(-1)
		}
		w.Header().Set("X-RateLimit-Remaining", strconv.Itoa(int(rem)))
		w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10))
		body := []byte(`{"conversations":[`)
		for i := (page-1)*per + 1; i <= min(page*per, total); i++ {
			if i > (page-1)*per+1 {
				body = append(body, ',')
			}
			body = fmt.Appendf(body, `{"id":%d}`, i)
		}
		w.Write(append(body, "]}"...))
	})
	return s
}

func TestPrefetchYieldsInOrderWithBoundedConcurrency(t *testing.T) {
	s := newSlowPages(t, 1000, 10, 2*time.Millisecond)
	c := s.client(t, WithPrefetch(4))
	var want int64 = 1
	for conv, err := range c.Conversations.All(context.Background(), &ConversationListOptions{ListOptions: ListOptions{PerPage: 10}}) {
		require.NoError(t, err)
		require.Equal(t, want, conv.ID)
		want++
	}
	assert.Equal(t, int64(1001), want)
	assert.Len(t, s.requests(), 100, "each page once")
	assert.LessOrEqual(t, s.maxInFlight.Load(), int32(4))
	assert.Greater(t, s.maxInFlight.Load(), int32(1), "pages were fetched ahead")
}

func TestPrefetchStopsInFlightFetchesOnBreak(t *testing.T) {
	s := newSlowPages(t, 1000, 10, 5*time.Millisecond)
	c := s.client(t, WithPrefetch(8))
	n := 0
	for _, err := range c.Conversations.All(context.Background(), &ConversationListOptions{ListOptions: ListOptions{PerPage: 10}}) {
		require.NoError(t, err)
		if n++; n == 25 {
			break
		}
	}
	// When the loop has ended, every fetch has ended too: nothing more
	// arrives later.
	sent := len(s.requests())
	assert.LessOrEqual(t, sent, 1+2+8, "the first page, the pages read, and at most 8 ahead")
	assert.Eventually(t, func() bool { return s.inFlight.Load() == 0 }, time.Second, time.Millisecond)
	assert.Equal(t, sent, len(s.requests()))
}

func TestPrefetchHonoursContext(t *testing.T) {
	s := newSlowPages(t, 1000, 10, 2*time.Millisecond)
	c := s.client(t, WithPrefetch(4))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var gotErr error
	n := 0
	for _, err := range c.Conversations.All(ctx, &ConversationListOptions{ListOptions: ListOptions{PerPage: 10}}) {
		if err != nil {
			gotErr = err
			break
		}
		if n++; n == 30 {
			cancel()
		}
	}
	assert.ErrorIs(t, gotErr, context.Canceled)
	assert.Less(t, len(s.requests()), 100)
}

func TestPrefetchStaysWithinTheRateBudget(t *testing.T) {
	s := newSlowPages(t, 200, 10, time.Millisecond)
	s.remaining.Store(2)
	c := s.client(t, WithPrefetch(8))
	n := 0
	for _, err := range c.Conversations.All(context.Background(), &ConversationListOptions{ListOptions: ListOptions{PerPage: 10}}) {
		require.NoError(t, err)
		n++
	}
	assert.Equal(t, 200, n)
	assert.Equal(t, int32(1), s.maxInFlight.Load(), "a low budget fetches one page at a time")
}

func TestPrefetchReportsAPageError(t *testing.T) {
	var mu sync.Mutex
	calls := 0
	_, mux, srv := setup(t)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls++
		mu.Unlock()
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		if page == 3 {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		w.Header().Set("X-Total-Pages", "6")
		w.Header().Set("Link", fmt.Sprintf(`<http://x/api/v3/inbox/conversations?page=%d>; rel="next"`, page+1))
		fmt.Fprintf(w, `{"conversations":[{"id":%d}]}`, page)
	})
	c := srv.client(t, WithPrefetch(2))
	var ids []int64
	var errs []error
	for conv, err := range c.Conversations.All(context.Background(), nil) {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		ids = append(ids, conv.ID)
	}
	assert.Equal(t, []int64{1, 2}, ids, "items before the failed page, in order")
	require.Len(t, errs, 1)
	assert.ErrorIs(t, errs[0], ErrNotFound)
}

func TestWithPrefetchRejectsNegative(t *testing.T) {
	_, err := NewClient(WithPrefetch(-1))
	assert.Error(t, err)
}

// With WithPrefetch(n), n pages are on their way while the consumer works
// on the current one: with n=1 the next page is requested before the
// consumer has finished the page it holds.
func TestPrefetchFetchesAheadWhileTheConsumerWorks(t *testing.T) {
	requested := make(chan int, 10)
	_, mux, srv := setup(t)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		requested <- page
		w.Header().Set("X-Total-Pages", "4")
		if page < 4 {
			w.Header().Set("Link", fmt.Sprintf(`<http://x/api/v3/inbox/conversations?page=%d>; rel="next"`, page+1))
		}
		fmt.Fprintf(w, `{"conversations":[{"id":%d}]}`, page)
	})
	c := srv.client(t, WithPrefetch(1))
	seen := map[int]bool{}
	var ids []int64
	for conv, err := range c.Conversations.All(context.Background(), nil) {
		require.NoError(t, err)
		ids = append(ids, conv.ID)
		if conv.ID < 2 || conv.ID == 4 {
			continue
		}
		// Holding page conv.ID, the next one must be on its way.
		for !seen[int(conv.ID)+1] {
			select {
			case p := <-requested:
				seen[p] = true
			case <-time.After(5 * time.Second):
				t.Fatalf("holding page %d, page %d was never requested", conv.ID, conv.ID+1)
			}
		}
	}
	assert.Equal(t, []int64{1, 2, 3, 4}, ids)
	assert.Len(t, srv.requests(), 4, "each page once")
}

// Responses of concurrent fetches can arrive out of order: within one
// rate window the client keeps the smallest budget it was told, and takes
// a new window's figure as it comes.
func TestRateKeepsTheSmallestBudgetOfAWindow(t *testing.T) {
	remaining := []string{"5", "9", "999"}
	resets := []string{"1700000000", "1700000000", "1700003600"}
	var mu sync.Mutex
	n := 0
	_, mux, srv := setup(t)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		i := n
		n++
		mu.Unlock()
		w.Header().Set("X-RateLimit-Limit", "1000")
		w.Header().Set("X-RateLimit-Remaining", remaining[i])
		w.Header().Set("X-RateLimit-Reset", resets[i])
		fmt.Fprint(w, `{"conversations":[{"id":1}]}`)
	})
	c := srv.client(t)
	for i, want := range []int{5, 5, 999} {
		_, _, err := c.Conversations.Get(context.Background(), 1)
		require.NoError(t, err)
		assert.Equal(t, want, c.Rate().Remaining, "after response %d", i+1)
	}
}
