package bookingsync_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"time"

	"github.com/go-bookingsync/bookingsync"
)

// A GET answered 503 is retried with backoff; a POST never would be.
func ExampleWithRetry() {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/vnd.api+json")
		fmt.Fprint(w, `{"conversations":[{"id":5,"subject":"Late check-in"}],"meta":{}}`)
	}))
	defer srv.Close()

	client, err := bookingsync.NewClient(
		bookingsync.WithBaseURL(srv.URL),
		bookingsync.WithToken("example-token"),
		bookingsync.WithRetry(bookingsync.RetryPolicy{
			MaxAttempts: 4,
			MinBackoff:  time.Millisecond,
			MaxBackoff:  20 * time.Millisecond,
		}),
	)
	if err != nil {
		log.Fatal(err)
	}
	conv, _, err := client.Conversations.Get(context.Background(), 5)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s after %d requests\n", conv.Subject, n.Load())
	// Output: Late check-in after 2 requests
}

// Without WithRateLimitWait a 429 comes back at once as *RateLimitError,
// and the next request is held back, unsent, until the reset.
func ExampleWithRateLimitWait() {
	reset := time.Now().Add(time.Hour).Unix()
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		w.Header().Set("X-RateLimit-Limit", "1000")
		w.Header().Set("X-RateLimit-Remaining", "0")
		w.Header().Set("X-RateLimit-Reset", fmt.Sprint(reset))
		w.WriteHeader(http.StatusTooManyRequests)
		fmt.Fprint(w, `{"error":"API v3 rate limit exceeded."}`)
	}))
	defer srv.Close()

	// WithRateLimitWait(time.Minute) would wait up to a minute instead;
	// this reset is an hour away, so it would fail at once all the same.
	client, err := bookingsync.NewClient(bookingsync.WithBaseURL(srv.URL), bookingsync.WithToken("example-token"))
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	_, _, err = client.Conversations.Get(ctx, 5)
	var rl *bookingsync.RateLimitError
	fmt.Println(errors.As(err, &rl), rl.Rate.Reset.Unix() == reset)

	_, _, err = client.Conversations.Get(ctx, 6)
	var held *bookingsync.ThrottledError
	fmt.Println(errors.As(err, &held), errors.Is(err, bookingsync.ErrRateLimited), requests.Load())
	// Output:
	// true true
	// true true 1
}
