package bookingsync_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/go-bookingsync/bookingsync"
)

// A webhook is a cue to re-read, not the news itself: deliveries can come
// late, twice or out of order, so the handler fetches the conversation's
// current state through the API instead of trusting the payload's copy.
func ExampleNewWebhookHandler() {
	// A stand-in for the BookingSync API, where the conversation has moved
	// on since the delivery was sent.
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v3/inbox/conversations/5" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/vnd.api+json")
		io.WriteString(w, `{"links":{},"conversations":[{"id":5,"subject":"Late check-in",
			"closed_at":"2024-05-02T10:00:00Z","links":{"account":1}}],"meta":{}}`)
	}))
	defer api.Close()

	client, err := bookingsync.NewClient(bookingsync.WithBaseURL(api.URL), bookingsync.WithToken("access-token"))
	if err != nil {
		log.Fatal(err)
	}

	const secret = "the application's client secret"
	receiver := httptest.NewServer(bookingsync.NewWebhookHandler(secret,
		func(ctx context.Context, ev *bookingsync.WebhookEvent) error {
			fmt.Println("received", ev.Event, "for account", ev.AccountID)
			stale, err := ev.Conversation()
			if errors.Is(err, bookingsync.ErrWrongEventKind) {
				return nil // not an event this program follows
			}
			if err != nil {
				return err
			}
			c, _, err := client.Conversations.Get(ctx, stale.ID)
			if err != nil {
				return err // a 500 makes BookingSync deliver again
			}
			fmt.Printf("conversation %d: delivered %q, now %q, closed: %v\n", c.ID, stale.Subject, c.Subject, c.IsClosed())
			return nil
		}))
	defer receiver.Close()

	// What BookingSync sends.
	body := `{"account_id":1,"event":"inbox_conversation_updated","resource":{"links":{},` +
		`"conversation":{"id":5,"subject":"Check-in time?","closed_at":null,"links":{"account":1}}}}`
	req, _ := http.NewRequest(http.MethodPost, receiver.URL, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(bookingsync.SignatureHeader, bookingsync.SignWebhook([]byte(body), secret))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	fmt.Println("answered", resp.StatusCode)

	// A forged delivery is refused before the callback runs.
	req, _ = http.NewRequest(http.MethodPost, receiver.URL, strings.NewReader(body))
	req.Header.Set(bookingsync.SignatureHeader, bookingsync.SignWebhook([]byte(body), "a guess"))
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	fmt.Println("forgery answered", resp.StatusCode)

	// Output:
	// received inbox_conversation_updated for account 1
	// conversation 5: delivered "Check-in time?", now "Late check-in", closed: true
	// answered 200
	// forgery answered 401
}

func ExampleValidateSignature() {
	body := []byte(`{"account_id":1,"event":"booking_created","resource":{"bookings":[{"id":3}]}}`)
	secret := "the application's client secret"
	signature := bookingsync.SignWebhook(body, secret) // what arrives in X-Content-Signature

	fmt.Println(bookingsync.ValidateSignature(body, signature, secret))
	body[len(body)-4] = '4' // tampered in transit
	err := bookingsync.ValidateSignature(body, signature, secret)
	fmt.Println(errors.Is(err, bookingsync.ErrInvalidSignature), err)
	// Output:
	// <nil>
	// true bookingsync: invalid webhook signature: signature does not match the body
}
