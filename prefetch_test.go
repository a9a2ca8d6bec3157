package bookingsync

import (
	"context"
	"fmt"
	"io"
	"iter"
	"net"
	"net/http"
	"net/http/httptest"
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
	t.Parallel()
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
	t.Parallel()
	s := newSlowPages(t, 1000, 10, 5*time.Millisecond)
	rt := &sendCounter{base: s.Client().Transport}
	c := s.client(t, WithPrefetch(8), WithHTTPClient(&http.Client{Transport: rt}))
	n := 0
	for _, err := range c.Conversations.All(context.Background(), &ConversationListOptions{ListOptions: ListOptions{PerPage: 10}}) {
		require.NoError(t, err)
		if n++; n == 25 {
			break
		}
	}
	// When the loop has ended, every fetch has ended too: nothing more is
	// sent. (The server may still see requests sent, then cancelled,
	// before the break: counted where they leave, not where they land.)
	sent := rt.sent.Load()
	assert.LessOrEqual(t, sent, int64(1+1+2*8), "the first page, the page read, and at most 2n held")
	time.Sleep(20 * time.Millisecond)
	assert.Equal(t, sent, rt.sent.Load())
	assert.Eventually(t, func() bool { return s.inFlight.Load() == 0 }, 5*time.Second, time.Millisecond)
}

// sendCounter counts the requests a client sends.
type sendCounter struct {
	base http.RoundTripper
	sent atomic.Int64
}

func (c *sendCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	c.sent.Add(1)
	return c.base.RoundTrip(r)
}

func TestPrefetchHonoursContext(t *testing.T) {
	t.Parallel()
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
	t.Parallel()
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
	t.Parallel()
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
	ids, errs := walkIDs(c.Conversations.All(context.Background(), nil))
	assert.Equal(t, []int64{1, 2}, ids, "items before the failed page, in order")
	require.Len(t, errs, 1)
	assert.ErrorIs(t, errs[0], ErrNotFound)
}

// walkIDs walks a conversations iterator to its end: the ids it yielded,
// and its errors.
func walkIDs(seq iter.Seq2[*Conversation, error]) (ids []int64, errs []error) {
	for conv, err := range seq {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		ids = append(ids, conv.ID)
	}
	return ids, errs
}

func TestWithPrefetchRejectsNegative(t *testing.T) {
	t.Parallel()
	_, err := NewClient(WithPrefetch(-1))
	assert.Error(t, err)
}

// With WithPrefetch(n), n pages are on their way while the consumer works
// on the current one, the first page included: with n=1 the next page is
// requested before the consumer has finished the page it holds.
func TestPrefetchFetchesAheadWhileTheConsumerWorks(t *testing.T) {
	t.Parallel()
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
		if conv.ID == 4 {
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
	t.Parallel()
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

// A fetch starts as soon as another ends, not when the loop reaches its
// page: holding page 2 with WithPrefetch(2), pages up to 2+2n-1 = 5 are
// requested (2n held), not only the n = 2 after it.
func TestPrefetchStartsFetchesWhilePagesWait(t *testing.T) {
	t.Parallel()
	s := newSlowPages(t, 100, 10, time.Millisecond)
	c := s.client(t, WithPrefetch(2))
	for conv, err := range c.Conversations.All(context.Background(), &ConversationListOptions{ListOptions: ListOptions{PerPage: 10}}) {
		require.NoError(t, err)
		if conv.ID == 11 { // the first item of page 2
			assert.Eventually(t, func() bool { return s.count("GET", "inbox/conversations") >= 5 }, 5*time.Second, time.Millisecond,
				"holding page 2, pages 3 to 5 are fetched")
			time.Sleep(10 * time.Millisecond)
			assert.Equal(t, 5, s.count("GET", "inbox/conversations"), "no more than 2n pages held")
		}
	}
	assert.Len(t, s.requests(), 10, "each page once")
	assert.LessOrEqual(t, s.maxInFlight.Load(), int32(2))
}

// latencyHandler answers pages pages of 100 conversations, each after
// latency, with the Content-Length that bookingsynctest and the API's
// buffered JSON answers carry (without it net/http would send the body
// chunked, and the client could not size its buffer).
func latencyHandler(pages int, latency time.Duration) http.Handler {
	body := conversationPage(100)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(latency)
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		if page < pages {
			w.Header().Set("Link", fmt.Sprintf(`<http://%s/api/v3/inbox/conversations?page=%d>; rel="next"`, r.Host, page+1))
		}
		w.Header().Set("X-Total-Pages", strconv.Itoa(pages))
		w.Header().Set("Content-Type", mediaType)
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Write(body)
	})
}

// latencyPages serves latencyHandler in this process and counts the
// connections it accepts.
func latencyPages(b *testing.B, pages int, latency time.Duration) (*httptest.Server, *atomic.Int64) {
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(latencyHandler(pages, latency))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	b.Cleanup(srv.Close)
	return srv, &conns
}

// The peer is latencyHandler in a process of its own (TestPeerChild, in
// the test binary re-executed), as a real API is: its work does not share
// the client's Go scheduler.
const (
	peerPages   = 100
	peerLatency = 20 * time.Millisecond
)

// TestPeerChild is the peer: it serves latencyHandler on loopback,
// signals its URL and stops when its parent is gone.
func TestPeerChild(t *testing.T) {
	if !isChild("peer") {
		t.Skip("the peer of BenchmarkPrefetchWalk")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	signal("http://" + l.Addr().String())
	go http.Serve(l, latencyHandler(peerPages, peerLatency))
	untilParentGone()
}

// startPeer starts the peer and returns its URL.
func startPeer(b testing.TB) string {
	return startChild(b, "TestPeerChild", "peer").next(b)
}

// BenchmarkPrefetchWalk walks 100 pages of 100 conversations at 20 ms a
// request with WithPrefetch(8) and the client's default transport, a new
// client each walk, against a server in this process and against the peer
// (the same server in a process of its own). The bound of the walk is
// 1 + ceil(99/8) = 14 rounds of 20 ms (the first page tells how many there
// are): x-bound is the walk's time over it. The baselines of the same run:
//   - /round is one request through the SDK, and x-rounds the walk's time
//     over 14 of those (the latency plus what a request costs here);
//   - /raw-round is one bare net/http GET of the same page, read and not
//     decoded, and x-raw-rounds the walk's time over 14 of those;
//   - /raw-walk is the same walk in bare net/http (8 GETs in flight, each
//     page read and not decoded), and x-raw-walk the walk's time over it:
//     the floor of this machine for the walk, with no SDK at all.
//
// conns/walk counts the connections each walk opened (goal: at most 8;
// counted in this process only).
func BenchmarkPrefetchWalk(b *testing.B) {
	const pages, n, latency = peerPages, 8, peerLatency
	srv, conns := latencyPages(b, pages, latency)
	ctx := context.Background()
	for _, where := range []struct {
		name  string
		url   func() string
		conns *atomic.Int64
	}{
		{"in-process", func() string { return srv.URL }, conns},
		{"peer", func() string { return startPeer(b) }, nil},
	} {
		b.Run(where.name, func(b *testing.B) {
			url := where.url()
			newClient := func() *Client {
				c, err := NewClient(WithBaseURL(url), WithToken(testToken), WithPrefetch(n))
				if err != nil {
					b.Fatal(err)
				}
				return c
			}
			var raw, round, rawWalk time.Duration
			b.Run("raw-round", func(b *testing.B) {
				hc := &http.Client{Transport: &http.Transport{}}
				start := time.Now()
				for b.Loop() {
					resp, err := hc.Get(url + "/api/v3/inbox/conversations")
					if err != nil {
						b.Fatal(err)
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				raw = time.Since(start) / time.Duration(b.N)
			})
			b.Run("round", func(b *testing.B) {
				c := newClient()
				start := time.Now()
				for b.Loop() {
					if _, _, err := c.Conversations.List(ctx, nil); err != nil {
						b.Fatal(err)
					}
				}
				round = time.Since(start) / time.Duration(b.N)
			})
			b.Run("raw-walk", func(b *testing.B) {
				start := time.Now()
				for b.Loop() {
					bareWalk(b, url, pages, n)
				}
				rawWalk = time.Since(start) / time.Duration(b.N)
			})
			b.Run("walk", func(b *testing.B) {
				var total time.Duration
				if where.conns != nil {
					where.conns.Store(0)
				}
				for b.Loop() {
					c := newClient()
					start := time.Now()
					items := 0
					for _, err := range c.Conversations.All(ctx, nil) {
						if err != nil {
							b.Fatal(err)
						}
						items++
					}
					total += time.Since(start)
					if items != pages*100 {
						b.Fatal(items)
					}
				}
				rounds := 1 + (pages-1+n-1)/n
				walk := float64(total) / float64(b.N)
				b.ReportMetric(walk/float64(time.Duration(rounds)*latency), "x-bound")
				b.ReportMetric(walk/float64(time.Duration(rounds)*round), "x-rounds")
				b.ReportMetric(walk/float64(time.Duration(rounds)*raw), "x-raw-rounds")
				b.ReportMetric(walk/float64(rawWalk), "x-raw-walk")
				if where.conns != nil {
					b.ReportMetric(float64(where.conns.Load())/float64(b.N), "conns/walk")
				}
			})
		})
	}
}

// bareWalk reads pages 1..pages of the conversations listing at url with
// bare net/http, page 1 first, then n at a time, each next GET sent as
// soon as a body has been read: the walk with no SDK.
func bareWalk(b testing.TB, url string, pages, n int) {
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: n}}
	defer hc.CloseIdleConnections()
	get := func(page int) {
		resp, err := hc.Get(fmt.Sprintf("%s/api/v3/inbox/conversations?page=%d", url, page))
		if err != nil {
			b.Error(err)
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	get(1)
	slots := make(chan struct{}, n)
	var wg sync.WaitGroup
	for page := 2; page <= pages; page++ {
		slots <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			get(page)
			<-slots
		}()
	}
	wg.Wait()
}

// A hostile X-Total-Pages costs nothing up front: nothing is allocated for
// a page before it is launched, and the walk ends at the first empty page.
func TestPrefetchSurvivesAHugeTotalPages(t *testing.T) {
	t.Parallel()
	_, mux, srv := setup(t)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		w.Header().Set("X-Total-Pages", "2000000000")
		if page > 3 {
			fmt.Fprint(w, `{"conversations":[]}`)
			return
		}
		fmt.Fprintf(w, `{"conversations":[{"id":%d}]}`, page)
	})
	c := srv.client(t, WithPrefetch(4))
	var ids []int64
	for conv, err := range c.Conversations.All(context.Background(), nil) {
		require.NoError(t, err)
		ids = append(ids, conv.ID)
	}
	assert.Equal(t, []int64{1, 2, 3}, ids)
	// The first page, pages 2 to 4 (the empty one), and while the empty
	// page is read, at most 2n-1 more on their way.
	assert.LessOrEqual(t, len(srv.requests()), 1+3+2*4-1)
}

// writerFunc is an io.Writer for Do's v: Do copies the raw body into it,
// where the decode would happen.
type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// Prefetch frees a fetch slot when the body has been read, and starts
// fetching ahead once a page's headers are known: Do calls the context's
// bodyReadKey func once, before it decodes, with the response; on an error
// answer too, and with nil when no response came whole.
func TestDoCallsBodyReadBeforeDecoding(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t, WithRetry(RetryPolicy{MaxAttempts: 1}))
	mux.HandleFunc("/inbox/conversations", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"conversations":[]}`)
	})
	mux.HandleFunc("/inbox/messages", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"errors":[{"code":"nope"}]}`, http.StatusUnprocessableEntity)
	})
	mux.HandleFunc("/inbox/participants", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "100")
		fmt.Fprint(w, `{"participants":[`) // and the connection ends
	})
	for path, status := range map[string]int{"inbox/conversations": 200, "inbox/messages": 422, "inbox/participants": 0} {
		var reads atomic.Int32
		var got *Response
		ctx := context.WithValue(context.Background(), bodyReadKey{}, func(r *Response) { reads.Add(1); got = r })
		req, err := c.NewRequest(ctx, http.MethodGet, path, nil)
		require.NoError(t, err)
		var readBeforeDecode int32
		_, err = c.Do(req, writerFunc(func(p []byte) (int, error) {
			readBeforeDecode = reads.Load()
			return len(p), nil
		}))
		if status == 200 {
			require.NoError(t, err)
			assert.Equal(t, int32(1), readBeforeDecode, path)
		} else {
			require.Error(t, err)
		}
		assert.Equal(t, int32(1), reads.Load(), path)
		if status == 0 {
			assert.Nil(t, got, path)
		} else if assert.NotNil(t, got, path) {
			assert.Equal(t, status, got.StatusCode, path)
		}
	}
}

// Fetching ahead starts from the first page's headers, before its body is
// decoded; a first page that then comes empty, or does not decode, ends
// the walk with the fetches it started, and nothing is sent after it.
func TestPrefetchFromHeadersStopsOnABadFirstPage(t *testing.T) {
	t.Parallel()
	for name, first := range map[string]string{
		"empty":     `{"conversations":[]}`,
		"undecoded": `{"conversations":[{"id":"one"}]}`,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, mux, srv := setup(t)
			mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
				page, _ := strconv.Atoi(r.URL.Query().Get("page"))
				w.Header().Set("X-Total-Pages", "50")
				if page == 1 {
					fmt.Fprint(w, first)
					return
				}
				fmt.Fprintf(w, `{"conversations":[{"id":%d}]}`, page)
			})
			rt := &sendCounter{base: srv.Client().Transport}
			c := srv.client(t, WithPrefetch(4), WithHTTPClient(&http.Client{Transport: rt}))
			ids, errs := walkIDs(c.Conversations.All(context.Background(), nil))
			assert.Empty(t, ids)
			if name == "empty" {
				assert.Empty(t, errs)
			} else {
				require.Len(t, errs, 1)
				var de *DecodeError
				assert.ErrorAs(t, errs[0], &de)
			}
			sent := rt.sent.Load()
			assert.LessOrEqual(t, sent, int64(1+2*4), "the first page, and what was on its way")
			time.Sleep(20 * time.Millisecond)
			assert.Equal(t, sent, rt.sent.Load(), "nothing is sent after the walk")
		})
	}
}
