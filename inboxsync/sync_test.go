package inboxsync_test

import (
	"context"
	"testing"
	"time"

	"github.com/go-bookingsync/bookingsync/bookingsynctest"
)

// A first pass copies the account; a pass with nothing changed makes one
// request per walked resource and changes nothing; changes and deletions
// on the server arrive with the next pass.
func TestSyncConverges(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		f := setup(t, dsn)
		rep := mustSync(t, f.s)
		if d := diff(serverState(t, f.c), localState(t, f.st)); d != "" {
			t.Fatalf("after the first pass:\n%s", d)
		}
		if rep.Changed() == 0 {
			t.Fatal("first pass changed nothing")
		}

		time.Sleep(1100 * time.Millisecond) // the server's clock has whole seconds
		rep = mustSync(t, f.s)
		if rep.Requests != 8 {
			t.Errorf("no-change pass made %d requests, want 8 (one per walked resource)", rep.Requests)
		}

		conv := f.srv.AddConversation(bookingsynctest.ConversationSeed{Subject: "new", ClientID: 77})
		f.srv.AddMessage(bookingsynctest.MessageSeed{ConversationID: conv, SenderID: 1, Content: "hello"})
		f.srv.Delete("messages", 1)
		f.srv.Touch("hosts", bookingsynctest.HostJanID)
		rep = mustSync(t, f.s)
		if d := diff(serverState(t, f.c), localState(t, f.st)); d != "" {
			t.Fatalf("after changes:\n%s", d)
		}
		if rep.Changed() == 0 {
			t.Fatal("the pass after changes changed nothing")
		}

		// The read side answers from the copy.
		ctx := context.Background()
		c, err := f.st.Conversation(ctx, acct, conv)
		if err != nil || c.Subject != "new" {
			t.Fatalf("Conversation(%d) = %+v, %v", conv, c, err)
		}
	})
}
