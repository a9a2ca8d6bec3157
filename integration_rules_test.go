package bookingsync_test

import (
	"context"
	"errors"
	"testing"

	"github.com/go-bookingsync/bookingsync"
	"github.com/go-bookingsync/bookingsync/bookingsynctest"
)

// Only Hosts send, against the fake: the guest's participant is read once
// and refused every time; the host's, once known, costs no read.
func TestFakeOnlyHostsSend(t *testing.T) {
	srv, c := fakeClient(t)
	ctx := context.Background()
	msg := func(sender int64) *bookingsync.NewMessage {
		return &bookingsync.NewMessage{ConversationID: bookingsynctest.AirbnbConversationID, SenderID: sender, Content: "Hello",
			Origin: bookingsync.OriginBookingSyncInbox, Visibility: bookingsync.VisibilityExternal}
	}
	for range 2 {
		if _, _, err := c.Messages.Create(ctx, msg(bookingsynctest.AirbnbClientParticipantID)); !errors.Is(err, bookingsync.ErrRefused) {
			t.Fatalf("guest as sender: err = %v, want ErrRefused", err)
		}
	}
	if n := srv.RequestCount("POST", "inbox/messages"); n != 0 {
		t.Errorf("%d messages reached the server", n)
	}
	if n := srv.RequestCount("GET", "inbox/participants"); n != 1 {
		t.Errorf("%d participant reads, want 1", n)
	}

	p, err := c.Participants.EnsureHost(ctx, bookingsynctest.AirbnbConversationID, bookingsynctest.HostJanID)
	if err != nil || p.ID != bookingsynctest.AirbnbHostParticipantID {
		t.Fatalf("EnsureHost = %+v, %v", p, err)
	}
	if _, _, err := c.Messages.Create(ctx, msg(p.ID)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Messages.SendAsHost(ctx, bookingsynctest.AirbnbConversationID, bookingsynctest.HostJanID, &bookingsync.NewMessage{Content: "See you"}); err != nil {
		t.Fatal(err)
	}
	if n := srv.RequestCount("GET", "inbox/participants"); n != 1 {
		t.Errorf("%d participant reads after sending as the host, want still 1", n)
	}
	if n := srv.RequestCount("POST", "inbox/messages"); n != 2 {
		t.Errorf("%d messages sent, want 2", n)
	}
}
