// Package bench holds the measurements behind bench/cmd/bsbench and the
// package's iteration benchmarks: each runs the SDK against a
// bookingsynctest fake in the same process and returns its figures, so
// that the program and `go test -bench` measure the same thing.
package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"runtime/debug"
	"testing"
	"time"

	"github.com/go-bookingsync/bookingsync"
	"github.com/go-bookingsync/bookingsync/bookingsynctest"
)

// Fake starts a fake server holding n conversations, each with one Client
// participant, created in turn by three channel applications (Airbnb,
// Booking.com, HomeAway), answering every API request after latency. Its
// rate limit is high enough for any run. It returns the applications' ids.
func Fake(n int, latency time.Duration) (*bookingsynctest.Server, []int64) {
	s := bookingsynctest.NewServer(bookingsynctest.WithoutSeed(), bookingsynctest.WithRateLimit(1<<30),
		bookingsynctest.WithLatency(latency))
	apps := []int64{s.AddApplication("Airbnb"), s.AddApplication("Booking.com"), s.AddApplication("HomeAway")}
	s.GenerateConversations(n, apps...)
	return s, apps
}

// Client returns an SDK client for s.
func Client(s *bookingsynctest.Server, opts ...bookingsync.Option) (*bookingsync.Client, error) {
	return bookingsync.NewClient(append([]bookingsync.Option{
		bookingsync.WithBaseURL(s.URL), bookingsync.WithToken(s.Token()), bookingsync.WithHTTPClient(s.Client()),
	}, opts...)...)
}

// Iterate walks every conversation with Conversations.All, calling page
// (when not nil) after every bookingsync.MaxPerPage conversations, and
// returns how many it saw.
func Iterate(ctx context.Context, c *bookingsync.Client, page func()) (int, error) {
	n := 0
	for conv, err := range c.Conversations.All(ctx, nil) {
		if err != nil {
			return n, err
		}
		if conv == nil || conv.ID <= 0 {
			return n, fmt.Errorf("bench: conversation %d: bad item %+v", n, conv)
		}
		if n++; n%bookingsync.MaxPerPage == 0 && page != nil {
			page()
		}
	}
	return n, nil
}

// IterateResult is one timed walk.
type IterateResult struct {
	Elapsed  time.Duration
	Items    int
	Requests int
}

// TimeIterate walks every conversation of s with a client using prefetch
// (0: sequential) and times it.
func TimeIterate(ctx context.Context, s *bookingsynctest.Server, prefetch int) (IterateResult, error) {
	c, err := Client(s, bookingsync.WithPrefetch(prefetch))
	if err != nil {
		return IterateResult{}, err
	}
	s.ResetRequests()
	start := time.Now()
	n, err := Iterate(ctx, c, nil)
	return IterateResult{Elapsed: time.Since(start), Items: n, Requests: s.RequestCount("", "")}, err
}

// PeakHeap walks every conversation of s and returns the peak HeapInuse
// above the level measured, after a collection, just before the walk. It
// samples after every page; with gcEvery > 0 it collects garbage before
// every gcEvery-th sample, so that those samples show what the walk
// retains rather than how far the collector let garbage grow. It empties
// the fake's request log at every page too: the log grows with the number
// of requests and is the fake's memory, not the SDK's.
func PeakHeap(ctx context.Context, s *bookingsynctest.Server, gcEvery int) (peak uint64, items int, err error) {
	c, err := Client(s)
	if err != nil {
		return 0, 0, err
	}
	var ms runtime.MemStats
	s.ResetRequests()
	collect()
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	// The collector's pace follows the live heap, which here is mostly the
	// fake's data: left alone it lets a long walk's garbage grow further
	// than a short walk's before collecting. A fixed budget above the
	// current footprint makes both walks collect alike, so that the peak
	// shows what the walk holds: a walk that hoarded pages would overrun
	// the budget and show it.
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(int64(ms.Sys-ms.HeapReleased) + heapBudget))
	pages := 0
	items, err = Iterate(ctx, c, func() {
		s.ResetRequests()
		if pages++; gcEvery > 0 {
			if pages%gcEvery != 0 {
				return
			}
			collect()
		}
		runtime.ReadMemStats(&ms)
		if ms.HeapInuse > base {
			peak = max(peak, ms.HeapInuse-base)
		}
	})
	return peak, items, err
}

// heapBudget is the garbage a PeakHeap walk may make before the collector
// runs.
const heapBudget = 4 << 20

// collect runs the collector twice: the second also frees what the first
// found only unreachable from pools.
func collect() {
	runtime.GC()
	runtime.GC()
}

// TriageResult is what a triage sync cost.
type TriageResult struct {
	Conversations int
	Requests      int
	// Minimum is pages plus distinct applications: what a sync that
	// reads each page once and each application once must spend.
	Minimum  int
	Channels map[bookingsync.Channel]int
}

// Triage lists every conversation of s with its participants sideloaded
// and resolves the Origin of each, as an Inbox triage does, and counts the
// requests the fake received.
func Triage(ctx context.Context, s *bookingsynctest.Server) (TriageResult, error) {
	res := TriageResult{Channels: map[bookingsync.Channel]int{}}
	c, err := Client(s)
	if err != nil {
		return res, err
	}
	s.ResetRequests()
	apps := map[int64]bool{}
	opts := &bookingsync.ConversationListOptions{Include: []string{"participants"}}
	for conv, err := range c.Conversations.All(ctx, opts) {
		if err != nil {
			return res, err
		}
		if len(conv.Participants) == 0 {
			return res, fmt.Errorf("bench: conversation %d came without its participants", conv.ID)
		}
		o, err := c.Conversations.Origin(ctx, conv)
		if err != nil {
			return res, err
		}
		if o.Application == nil {
			return res, fmt.Errorf("bench: conversation %d: no application in its origin", conv.ID)
		}
		apps[o.Application.ID] = true
		res.Channels[o.Channel]++
		res.Conversations++
	}
	res.Requests = s.RequestCount("", "")
	pages := (res.Conversations + bookingsync.MaxPerPage - 1) / bookingsync.MaxPerPage
	res.Minimum = max(pages, 1) + len(apps)
	return res, nil
}

// replay is a transport answering every request with one recorded
// response, so that decoding is measured without a network.
type replay struct {
	header http.Header
	body   []byte
}

func (r *replay) RoundTrip(req *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: http.StatusOK, Status: "200 OK", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: r.header.Clone(), Body: io.NopCloser(bytes.NewReader(r.body)), ContentLength: int64(len(r.body)), Request: req}, nil
}

// record fetches the first page of n conversations from the fake as raw
// headers and body.
func record(n int) (*replay, error) {
	s, _ := Fake(n, 0)
	defer s.Close()
	req, err := http.NewRequest(http.MethodGet, s.APIURL()+"inbox/conversations?per_page=100", nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+s.Token())
	resp, err := s.Client().Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("bench: recording a page: %d %v", resp.StatusCode, err)
	}
	return &replay{header: resp.Header, body: body}, nil
}

// onePass is what one pass of encoding/json decodes a conversation into
// at best: Conversation's fields and the creator attributes the SDK folds
// into CreatedBy, declared flat (no embedded struct, which encoding/json
// pays for on every key) and without methods (no UnmarshalJSON per item).
type onePass struct {
	ID                 int64                         `json:"id"`
	Subject            string                        `json:"subject"`
	DefaultChannel     bookingsync.Channel           `json:"default_channel"`
	CreatedAt          time.Time                     `json:"created_at"`
	UpdatedAt          time.Time                     `json:"updated_at"`
	ClosedAt           *time.Time                    `json:"closed_at"`
	DeadlineResponseAt *time.Time                    `json:"deadline_response_at"`
	LastMessageAt      *time.Time                    `json:"last_message_at"`
	MarkedAsSpamAt     *time.Time                    `json:"marked_as_spam_at"`
	ReadAt             *time.Time                    `json:"read_at"`
	CreatedBy          bookingsync.Polymorphic       `json:"created_by"`
	Links              bookingsync.ConversationLinks `json:"links"`
	Participants       []*bookingsync.Participant    `json:"participants,omitempty"`
	Messages           []*bookingsync.Message        `json:"messages,omitempty"`
	CreatedByID        int64                         `json:"created_by_id"`
	CreatedByType      string                        `json:"created_by_type"`
}

// DecodeBenchmarks return two benchmarks over the same recorded page of
// n conversations, both through the same in-memory transport (no
// network): sdk is Conversations.List, the whole SDK path (request,
// headers, Link, rate, envelope, decoding); ref is what a hand-written
// client does: http.Client.Do, io.ReadAll and one json.Unmarshal into
// structs with the same fields (onePass).
func DecodeBenchmarks(n int) (sdk, ref func(*testing.B), err error) {
	rp, err := record(n)
	if err != nil {
		return nil, nil, err
	}
	hc := &http.Client{Transport: rp}
	c, err := bookingsync.NewClient(bookingsync.WithBaseURL("http://127.0.0.1"), bookingsync.WithToken("t"), bookingsync.WithHTTPClient(hc))
	if err != nil {
		return nil, nil, err
	}
	ctx := context.Background()
	opts := &bookingsync.ConversationListOptions{ListOptions: bookingsync.ListOptions{PerPage: bookingsync.MaxPerPage}}
	sdk = func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			convs, _, err := c.Conversations.List(ctx, opts)
			if err != nil || len(convs) != n {
				b.Fatalf("sdk: %d conversations, %v", len(convs), err)
			}
		}
	}
	ref = func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://127.0.0.1/api/v3/inbox/conversations?per_page=100", nil)
			req.Header.Set("Authorization", "Bearer t")
			req.Header.Set("Accept", "application/vnd.api+json")
			resp, err := hc.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			data, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				b.Fatal(err)
			}
			var env struct {
				Conversations []*onePass       `json:"conversations"`
				Meta          bookingsync.Meta `json:"meta"`
			}
			if err := json.Unmarshal(data, &env); err != nil || len(env.Conversations) != n {
				b.Fatalf("ref: %d conversations, %v", len(env.Conversations), err)
			}
		}
	}
	return sdk, ref, nil
}
