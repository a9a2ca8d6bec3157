package inboxsync_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/go-bookingsync/bookingsync"
	"github.com/go-bookingsync/bookingsync/bookingsynctest"
	"github.com/go-bookingsync/bookingsync/inboxsync"
)

// exampleStore is the examples' synced copy of the fake's account, and
// its syncer.
func exampleStore(ctx context.Context) (st *inboxsync.Store, s *inboxsync.Syncer, done func()) {
	srv := bookingsynctest.NewServer(bookingsynctest.WithConversationDelay(0)) // stands in for the API
	client, err := bookingsync.NewClient(bookingsync.WithBaseURL(srv.URL), bookingsync.WithToken(srv.Token()))
	if err != nil {
		panic(err)
	}
	dir, err := os.MkdirTemp("", "inboxsync-example")
	if err != nil {
		panic(err)
	}
	st, err = inboxsync.Open(ctx, "sqlite:"+filepath.Join(dir, "inbox.db"))
	if err != nil {
		panic(err)
	}
	s = inboxsync.New(st, bookingsynctest.AccountID, client)
	if _, err := s.Sync(ctx); err != nil {
		panic(err)
	}
	return st, s, func() { st.Close(); os.RemoveAll(dir); srv.Close() }
}

// An inbox page: one row per conversation with its guest, rental and last
// message, newest first, in a fixed number of queries; Next gives the
// following page.
func ExampleStore_Inbox() {
	ctx := context.Background()
	st, _, done := exampleStore(ctx)
	defer done()
	accountID := int64(bookingsynctest.AccountID)

	page, err := st.Inbox(ctx, accountID, inboxsync.InboxQuery{Status: inboxsync.StatusOpen, Limit: 2})
	if err != nil {
		panic(err)
	}
	for _, r := range page.Rows {
		fmt.Printf("%s | %s | %s | %q awaiting=%v\n", r.Guest.Fullname, r.Rental.Name, r.Channel, r.LastMessage.Content, r.AwaitingReply)
	}
	next, err := st.Inbox(ctx, accountID, inboxsync.InboxQuery{Status: inboxsync.StatusOpen, Limit: 2, Before: page.Next})
	if err != nil {
		panic(err)
	}
	fmt.Println("next page:", len(next.Rows), "row(s)")

	found, err := st.Inbox(ctx, accountID, inboxsync.InboxQuery{Search: "wifi"})
	if err != nil {
		panic(err)
	}
	fmt.Println("search wifi:", found.Rows[0].Conversation.Subject)
	// Output:
	// Sofia Costa | Harbour House | booking-com | "Hi, we just booked. What time is check-in?" awaiting=true
	// Lukas Weber | Old Town Apartment | booking-com | "And what is the wifi password?" awaiting=true
	// next page: 1 row(s)
	// search wifi: Booking 0000EH - Old Town Apartment
}
