package inboxsync_test

import (
	"context"
	"fmt"

	"github.com/go-bookingsync/bookingsync/bookingsynctest"
	"github.com/go-bookingsync/bookingsync/inboxsync"
)

// A reply through the outbox: written to the database first, under the
// caller's key (the same key queues once), then sent by the syncer, which
// records the message's id. Run and Fleet.Run deliver by themselves.
func ExampleStore_Enqueue() {
	ctx := context.Background()
	st, s, done := exampleStore(ctx)
	defer done()
	accountID := int64(bookingsynctest.AccountID)

	reply := inboxsync.Outgoing{ConversationID: bookingsynctest.BookingComConversationID, HostID: bookingsynctest.HostJanID,
		Content: "The password is on the fridge.", Key: "form-7f3a"}
	item, err := st.Enqueue(ctx, accountID, reply)
	if err != nil {
		panic(err)
	}
	again, _ := st.Enqueue(ctx, accountID, reply) // a double submit
	fmt.Println(item.State, item.ID == again.ID)

	sent, err := s.Deliver(ctx) // what Run does continuously
	if err != nil {
		panic(err)
	}
	item, err = st.OutboxItem(ctx, accountID, "form-7f3a")
	if err != nil {
		panic(err)
	}
	fmt.Println(sent, item.State, item.MessageID != 0)
	// Output:
	// queued true
	// 1 sent true
}
