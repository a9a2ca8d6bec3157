package inboxsync_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/go-bookingsync/bookingsync"
	"github.com/go-bookingsync/bookingsync/bookingsynctest"
	"github.com/go-bookingsync/bookingsync/inboxsync"
)

// Mirror an account into SQLite, then read the conversations waiting for a
// reply from the copy alone.
func ExampleSyncer_Sync() {
	ctx := context.Background()
	srv := bookingsynctest.NewServer(bookingsynctest.WithConversationDelay(0)) // stands in for the API
	defer srv.Close()
	client, err := bookingsync.NewClient(bookingsync.WithBaseURL(srv.URL), bookingsync.WithToken(srv.Token()))
	if err != nil {
		panic(err)
	}
	dir, err := os.MkdirTemp("", "inboxsync-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)

	st, err := inboxsync.Open(ctx, "sqlite:"+filepath.Join(dir, "inbox.db"))
	if err != nil {
		panic(err)
	}
	defer st.Close()
	s := inboxsync.New(st, bookingsynctest.AccountID, client)
	rep, err := s.Sync(ctx)
	if err != nil {
		panic(err)
	}
	fmt.Printf("first pass: %d requests, %d records\n", rep.Requests, rep.Changed())

	waiting, err := st.Conversations(ctx, bookingsynctest.AccountID, inboxsync.ConversationQuery{
		Status: inboxsync.StatusOpen, AwaitingReply: true, Channel: bookingsync.ChannelAirbnb})
	if err != nil {
		panic(err)
	}
	for _, c := range waiting {
		msgs, _ := st.Messages(ctx, bookingsynctest.AccountID, c.ID)
		fmt.Printf("%s: %q\n", c.Subject, msgs[len(msgs)-1].Content)
	}
	// Output:
	// first pass: 10 requests, 37 records
	// Reservation 0000EG - Ocean View Loft: "Thanks in advance!"
}

// A webhook is a cue: the syncer re-reads the record it names (one GET)
// and schedules a pass for Run.
func ExampleSyncer_HandleEvent() {
	ctx := context.Background()
	srv := bookingsynctest.NewServer(bookingsynctest.WithConversationDelay(0))
	defer srv.Close()
	client, err := bookingsync.NewClient(bookingsync.WithBaseURL(srv.URL), bookingsync.WithToken(srv.Token()))
	if err != nil {
		panic(err)
	}
	dir, err := os.MkdirTemp("", "inboxsync-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	st, err := inboxsync.Open(ctx, "sqlite:"+filepath.Join(dir, "inbox.db"))
	if err != nil {
		panic(err)
	}
	defer st.Close()
	s := inboxsync.New(st, bookingsynctest.AccountID, client)

	// What WebhookHandler hands over once the signature checks out.
	id := srv.AddConversation(bookingsynctest.ConversationSeed{Subject: "Early check-in?"})
	e := &bookingsync.WebhookEvent{AccountID: bookingsynctest.AccountID, Event: bookingsync.EventInboxConversationCreated,
		Resource: json.RawMessage(fmt.Sprintf(`{"conversation": {"id": %d}}`, id))}
	if err := s.HandleEvent(ctx, e); err != nil {
		panic(err)
	}
	c, err := st.Conversation(ctx, bookingsynctest.AccountID, id)
	if err != nil {
		panic(err)
	}
	fmt.Println(c.Subject)
	// Output: Early check-in?
}
