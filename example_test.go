package bookingsync_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/go-bookingsync/bookingsync"
)

// exampleServer answers like the API for the examples: two pages of
// conversations, and a 404 for anything else.
func exampleServer() *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/vnd.api+json; charset=utf-8")
		switch {
		case r.URL.Path == "/api/v3/inbox/conversations" && r.URL.Query().Get("page") == "1":
			w.Header().Set("Link", `<http://`+r.Host+`/api/v3/inbox/conversations?page=2&per_page=100>; rel="next"`)
			fmt.Fprint(w, `{"conversations":[{"id":1,"subject":"Stay at Villa Azul","default_channel":"airbnb","links":{"account":1}}],"meta":{}}`)
		case r.URL.Path == "/api/v3/inbox/conversations":
			fmt.Fprint(w, `{"conversations":[{"id":2,"subject":"Booking 0000EG","default_channel":"booking-com","closed_at":"2026-11-20T10:00:00Z","links":{"account":1}}],"meta":{}}`)
		default:
			w.Header().Set("X-Request-Id", "4f1c")
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"errors":[{"code":"not_found","title":"Not found"}]}`)
		}
	}))
}

// Iterate over every conversation of the account; All fetches the pages as
// the loop needs them.
func ExampleConversationsService_All() {
	srv := exampleServer()
	defer srv.Close()

	client, err := bookingsync.NewClient(bookingsync.WithBaseURL(srv.URL), bookingsync.WithToken("example-token"))
	if err != nil {
		log.Fatal(err)
	}
	for conv, err := range client.Conversations.All(context.Background(), nil) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%d %-20s %-12s closed=%t\n", conv.ID, conv.Subject, conv.DefaultChannel, conv.IsClosed())
	}
	// Output:
	// 1 Stay at Villa Azul   airbnb       closed=false
	// 2 Booking 0000EG       booking-com  closed=true
}

// Errors match sentinels with errors.Is, and carry the details as
// *ErrorResponse.
func ExampleErrorResponse() {
	srv := exampleServer()
	defer srv.Close()
	client, _ := bookingsync.NewClient(bookingsync.WithBaseURL(srv.URL), bookingsync.WithToken("example-token"))

	_, _, err := client.Hosts.Get(context.Background(), 42)
	var er *bookingsync.ErrorResponse
	if errors.Is(err, bookingsync.ErrNotFound) && errors.As(err, &er) {
		fmt.Println(er.StatusCode, er.Message, er.RequestID)
	}
	// Output:
	// 404 Not found 4f1c
}

// The SDK refuses what the Inbox rules forbid, before sending anything.
func ExampleErrRefused() {
	client, _ := bookingsync.NewClient(bookingsync.WithToken("example-token"))
	req, _ := client.NewRequest(context.Background(), "POST", "inbox/conversations",
		map[string]any{"conversations": []any{map[string]string{"subject": "Hello"}}})
	_, err := client.Do(req, nil)
	fmt.Println(errors.Is(err, bookingsync.ErrRefused))
	// Output:
	// true
}
