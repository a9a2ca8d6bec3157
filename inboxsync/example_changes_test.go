package inboxsync_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/go-bookingsync/bookingsync/bookingsynctest"
	"github.com/go-bookingsync/bookingsync/inboxsync"
)

// A reader following the change feed, as a page streaming updates would:
// note LastChange, read the copy, then wait for changes after the last
// Seq handled, read the records they name, and store that Seq to resume
// from after a restart. Behind the retention it reloads.
func ExampleStore_Changes() {
	ctx := context.Background()
	st, _, done := exampleStore(ctx)
	defer done()
	accountID := int64(bookingsynctest.AccountID)

	seq, err := st.LastChange(ctx, accountID) // before reading the copy whole
	if err != nil {
		panic(err)
	}
	// … render the inbox (Store.Inbox) …

	// Elsewhere, a reply is queued: a change.
	go st.Enqueue(ctx, accountID, inboxsync.Outgoing{ConversationID: bookingsynctest.AirbnbConversationID,
		HostID: bookingsynctest.HostJanID, Content: "Parking is free on the street.", Key: "reply-1"})

	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := st.WaitChanges(wctx, accountID, seq); err != nil {
		panic(err)
	}
	changes, err := st.Changes(ctx, accountID, seq, 100)
	if errors.Is(err, inboxsync.ErrChangesExpired) {
		// Too far behind: note LastChange, read the copy again, follow on.
		return
	}
	if err != nil {
		panic(err)
	}
	for _, c := range changes {
		fmt.Println(c.Resource, c.Deleted, c.Seq > seq)
		seq = c.Seq // stored by the reader to resume from
	}
	// Output: outbox false true
}
