package bookingsync_test

import (
	"context"
	"fmt"
	"log"

	"github.com/go-bookingsync/bookingsync"
	"github.com/go-bookingsync/bookingsync/bookingsynctest"
)

// Print every open conversation as "guest name — rental — channel — last
// message": one request per page of conversations (participants and
// messages sideloaded), then one GetMany each of bookings, applications,
// guests and rentals, however many conversations there are.
func ExampleClient_Directory() {
	srv := bookingsynctest.NewServer() // the in-memory BookingSync, seeded
	defer srv.Close()
	client, err := bookingsync.NewClient(bookingsync.WithBaseURL(srv.URL), bookingsync.WithToken(srv.Token()))
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()

	opts := &bookingsync.ConversationListOptions{Include: []string{"participants", "messages"}}
	var open []*bookingsync.Conversation
	for conv, err := range client.Conversations.All(ctx, opts) {
		if err != nil {
			log.Fatal(err)
		}
		if !conv.IsClosed() {
			open = append(open, conv)
		}
	}
	dir, err := client.Directory(ctx, open)
	if err != nil {
		log.Fatal(err) // a missing scope is named: "… lacks the clients_read scope …"
	}
	for _, conv := range open {
		var rental, last string
		if r := dir.Rental(conv); r != nil {
			rental = r.Name
		}
		if m := dir.LastMessage(conv); m != nil {
			last = m.Content
		}
		fmt.Printf("#%d %s — %s — %s — %s\n", conv.ID, dir.Guest(conv).Name(), rental, dir.Channel(conv), last)
	}
	fmt.Println("requests:", len(srv.Requests()))
	// Output:
	// #11 Emma Dubois — Ocean View Loft — airbnb — Thanks in advance!
	// #12 Lukas Weber — Old Town Apartment — booking-com — And what is the wifi password?
	// requests: 5
}
