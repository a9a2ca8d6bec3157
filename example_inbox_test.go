package bookingsync_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"

	"github.com/go-bookingsync/bookingsync"
)

// exampleInboxAPI starts a stand-in for the BookingSync API serving the
// given routes ("GET /inbox/conversations", relative to /api/v3) and
// returns a client for it. Call the returned func to stop it.
func exampleInboxAPI(routes map[string]http.HandlerFunc) (*bookingsync.Client, func()) {
	mux := http.NewServeMux()
	for pattern, h := range routes {
		method, path, _ := strings.Cut(pattern, " ")
		mux.HandleFunc(method+" /api/v3"+path, h)
	}
	srv := httptest.NewServer(mux)
	client, err := bookingsync.NewClient(
		bookingsync.WithBaseURL(srv.URL),
		bookingsync.WithToken("example-token"),
	)
	if err != nil {
		log.Fatal(err)
	}
	return client, srv.Close
}

// exampleReply writes items in the API's envelope.
func exampleReply(w http.ResponseWriter, status int, key string, items ...string) {
	w.Header().Set("Content-Type", "application/vnd.api+json; charset=utf-8")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"links":{},%q:[%s],"meta":{}}`, key, strings.Join(items, ","))
}

// List the open conversations with the channel each one lives on. The
// applications that created them are read once each, however many
// conversations they created.
func ExampleConversationsService_Origin() {
	client, stop := exampleInboxAPI(map[string]http.HandlerFunc{
		"GET /inbox/conversations": func(w http.ResponseWriter, r *http.Request) {
			exampleReply(w, 200, "conversations",
				`{"id":1,"subject":"Beach house, 3 nights","created_by_type":"Doorkeeper::Application","created_by_id":65,"closed_at":null}`,
				`{"id":2,"subject":"Old stay","created_by_type":"Doorkeeper::Application","created_by_id":65,"closed_at":"2024-01-02T10:00:00Z"}`,
				`{"id":3,"subject":"City flat, 1 week","created_by_type":"Doorkeeper::Application","created_by_id":66,"closed_at":null}`,
				`{"id":4,"subject":"Chalet, late check-in","created_by_type":"Doorkeeper::Application","created_by_id":65,"closed_at":null}`,
				`{"id":5,"subject":"Question by e-mail","created_by_type":"User","created_by_id":9,"default_channel":"email"}`,
			)
		},
		"GET /applications/{id}": func(w http.ResponseWriter, r *http.Request) {
			names := map[string]string{"65": "Airbnb", "66": "Booking.com"}
			exampleReply(w, 200, "applications", fmt.Sprintf(`{"id":%s,"name":%q}`, r.PathValue("id"), names[r.PathValue("id")]))
		},
	})
	defer stop()
	ctx := context.Background()

	for conv, err := range client.Conversations.All(ctx, nil) {
		if err != nil {
			log.Fatal(err)
		}
		if conv.IsClosed() {
			continue
		}
		origin, err := client.Conversations.Origin(ctx, conv)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("#%d %-24s %s\n", conv.ID, conv.Subject, origin.Channel)
	}
	// Output:
	// #1 Beach house, 3 nights    airbnb
	// #3 City flat, 1 week        booking-com
	// #4 Chalet, late check-in    airbnb
	// #5 Question by e-mail       email
}

// Add one of the account's hosts to a channel conversation and reply as
// that host. Only Host participants can send; the guest's Client
// participant belongs to the channel.
func ExampleMessagesService_SendAsHost() {
	var mu sync.Mutex
	participants := []string{`{"id":10,"links":{"conversation":7,"member":{"id":3,"type":"Client"}}}`}
	client, stop := exampleInboxAPI(map[string]http.HandlerFunc{
		"GET /inbox/conversations/7": func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			defer mu.Unlock()
			exampleReply(w, 200, "conversations", `{"id":7,"subject":"Beach house","participants":[`+strings.Join(participants, ",")+`]}`)
		},
		"POST /inbox/participants": func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			defer mu.Unlock()
			p := `{"id":11,"links":{"conversation":7,"member":{"id":42,"type":"Host"}}}`
			participants = append(participants, p)
			exampleReply(w, 201, "participants", p)
		},
		"POST /inbox/messages": func(w http.ResponseWriter, r *http.Request) {
			var body struct {
				Messages []map[string]any `json:"messages"`
			}
			json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&body)
			m := body.Messages[0]
			exampleReply(w, 201, "messages", fmt.Sprintf(`{"id":500,"content":%q,"origin":%q,"visibility":%q,"links":{"conversation":7,"sender":%v}}`,
				m["content"], m["origin"], m["visibility"], m["sender_id"]))
		},
	})
	defer stop()
	ctx := context.Background()

	// Host 42 joins conversation 7 (a no-op when already there).
	host, err := client.Participants.EnsureHost(ctx, 7, 42)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("host participant:", host.ID, host.IsHost())

	msg, err := client.Messages.SendAsHost(ctx, 7, 42, &bookingsync.NewMessage{
		Content: "Welcome! The keys are in the lockbox.",
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("message %d from participant %d: %q (%s, %s)\n", msg.ID, *msg.Links.Sender, msg.Content, msg.Origin, msg.Visibility)

	// A Client participant is refused before anything is sent.
	_, _, err = client.Participants.Create(ctx, &bookingsync.NewParticipant{ConversationID: 7, MemberID: 3, MemberType: "Client"})
	fmt.Println("refused:", errors.Is(err, bookingsync.ErrRefused))
	// Output:
	// host participant: 11 true
	// message 500 from participant 11: "Welcome! The keys are in the lockbox." (bookingsync_inbox, external)
	// refused: true
}

// Mark a conversation read for the host's participant.
func ExampleParticipantsService_MarkRead() {
	client, stop := exampleInboxAPI(map[string]http.HandlerFunc{
		"PUT /inbox/participants/{id}": func(w http.ResponseWriter, r *http.Request) {
			exampleReply(w, 200, "participants", fmt.Sprintf(`{"id":%s,"read_at":"2024-05-01T08:00:00Z","links":{"conversation":7,"member":{"id":42,"type":"Host"}}}`, r.PathValue("id")))
		},
	})
	defer stop()

	p, _, err := client.Participants.MarkRead(context.Background(), 11)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("participant", p.ID, "read at", p.ReadAt.Format("2006-01-02 15:04 MST"))
	// Output:
	// participant 11 read at 2024-05-01 08:00 UTC
}
