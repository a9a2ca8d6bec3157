package bookingsync_test

import (
	"context"
	"errors"
	"testing"
	"time"

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

// A token without bookings_read reads the reduced booking; the client
// tells "no conversations link" from "no conversations" and names the
// scope, after one request.
func TestFakeBookingConversationsWithoutBookingsRead(t *testing.T) {
	srv, _ := fakeClient(t)
	c, err := bookingsync.NewClient(bookingsync.WithBaseURL(srv.URL), bookingsync.WithToken(srv.IssueToken("inbox_read", "inbox_write")))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	b, _, err := c.Bookings.Get(ctx, bookingsynctest.AirbnbBookingID)
	if err != nil {
		t.Fatal(err)
	}
	if b.ConversationsKnown() {
		t.Fatalf("reduced booking has a conversations link: %v", b.Links.Conversations)
	}
	before := srv.RequestTotal()
	_, err = c.Bookings.Conversations(ctx, bookingsynctest.AirbnbBookingID)
	var se *bookingsync.ScopeError
	if !errors.Is(err, bookingsync.ErrForbidden) || !errors.As(err, &se) || se.Scope != bookingsync.ScopeBookingsRead {
		t.Fatalf("Conversations: err = %v, want a ScopeError for bookings_read", err)
	}
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if _, err := c.Bookings.WaitForConversations(wctx, bookingsynctest.AirbnbBookingID, time.Millisecond); !errors.As(err, &se) {
		t.Fatalf("WaitForConversations: err = %v, want a ScopeError", err)
	}
	if n := srv.RequestTotal() - before; n != 2 {
		t.Errorf("%d requests, want 2 (one booking read each)", n)
	}

	// With bookings_read the same booking lists its conversation.
	_, full := fakeClient(t)
	convs, err := full.Bookings.Conversations(ctx, bookingsynctest.AirbnbBookingID)
	if err != nil || len(convs) != 1 {
		t.Errorf("with bookings_read: %v, %v", convs, err)
	}
}

// The API, and so the fake, accepts duplicate Host participants. Two
// clients (two processes) that add the same host each get one; EnsureHost
// then settles every caller on the oldest.
func TestFakeDuplicateHostsSettleOnTheOldest(t *testing.T) {
	srv, a := fakeClient(t)
	ctx := context.Background()
	b, err := bookingsync.NewClient(bookingsync.WithBaseURL(srv.URL), bookingsync.WithToken(srv.Token()))
	if err != nil {
		t.Fatal(err)
	}
	host := srv.AddHost("Ann", "Lee", "ann@example.com")
	conv := int64(bookingsynctest.BookingComConversationID)
	p1, _, err := a.Participants.AddHost(ctx, conv, host)
	if err != nil {
		t.Fatal(err)
	}
	srv.Advance(time.Second)
	p2, _, err := b.Participants.AddHost(ctx, conv, host)
	if err != nil {
		t.Fatalf("the fake refused a duplicate Host participant: %v", err)
	}
	if p1.ID == p2.ID {
		t.Fatalf("one participant for two creations: %d", p1.ID)
	}
	for _, cl := range []*bookingsync.Client{a, b} {
		got, err := cl.Participants.EnsureHost(ctx, conv, host)
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != p1.ID {
			t.Errorf("EnsureHost = participant %d, want the oldest, %d", got.ID, p1.ID)
		}
	}
	if n := srv.RequestCount("POST", "inbox/participants"); n != 2 {
		t.Errorf("%d participants created, want 2", n)
	}
}

// Marked read then unread against the fake; a host's email and user
// cleared with an explicit null.
func TestFakeMarkUnreadAndClearHostFields(t *testing.T) {
	_, c := fakeClient(t)
	ctx := context.Background()
	p, _, err := c.Participants.MarkRead(ctx, bookingsynctest.AirbnbHostParticipantID)
	if err != nil || p.ReadAt == nil {
		t.Fatalf("MarkRead = %+v, %v", p, err)
	}
	p, _, err = c.Participants.MarkUnread(ctx, bookingsynctest.AirbnbHostParticipantID)
	if err != nil || p.ReadAt != nil {
		t.Fatalf("MarkUnread = %+v, %v; want ReadAt nil", p, err)
	}
	h, _, err := c.Hosts.Update(ctx, bookingsynctest.HostJanID, &bookingsync.HostUpdate{ClearEmail: true, ClearUserID: true})
	if err != nil {
		t.Fatal(err)
	}
	if h.Email != "" || h.Links.User != nil {
		t.Errorf("host after clearing: email %q, user %v", h.Email, h.Links.User)
	}
}

// GetManyWith sideloads like GetWith, against the fake.
func TestFakeGetManyWithSideloads(t *testing.T) {
	_, c := fakeClient(t)
	ids := []int64{bookingsynctest.AirbnbConversationID, bookingsynctest.BookingComConversationID}
	convs, _, err := c.Conversations.GetManyWith(context.Background(), ids, &bookingsync.ConversationGetOptions{Include: []string{"participants"}})
	if err != nil || len(convs) != 2 {
		t.Fatalf("GetManyWith = %v, %v", convs, err)
	}
	for _, conv := range convs {
		if len(conv.Participants) == 0 || len(conv.Participants) != len(conv.Links.Participants) {
			t.Errorf("conversation %d: %d participants sideloaded of %v", conv.ID, len(conv.Participants), conv.Links.Participants)
		}
	}
}
