package bookingsync_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/go-bookingsync/bookingsync"
	"github.com/go-bookingsync/bookingsync/bookingsynctest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Only Hosts send, against the fake: the guest's participant is read once
// and refused every time; the host's, once known, costs no read.
func TestFakeOnlyHostsSend(t *testing.T) {
	t.Parallel()
	srv, c := fakeClient(t)
	ctx := context.Background()
	msg := func(sender int64) *bookingsync.NewMessage {
		return &bookingsync.NewMessage{ConversationID: bookingsynctest.AirbnbConversationID, SenderID: sender, Content: "Hello",
			Origin: bookingsync.OriginBookingSyncInbox, Visibility: bookingsync.VisibilityExternal}
	}
	for range 2 {
		_, _, err := c.Messages.Create(ctx, msg(bookingsynctest.AirbnbClientParticipantID))
		require.ErrorIs(t, err, bookingsync.ErrRefused, "guest as sender: err = %v, want ErrRefused", err)
	}
	n := srv.RequestCount("POST", "inbox/messages")
	assert.EqualValues(t, 0, n, "%d messages reached the server", n)
	n = srv.RequestCount("GET", "inbox/participants")
	assert.EqualValues(t, 1, n, "%d participant reads, want 1", n)

	p, err := c.Participants.EnsureHost(ctx, bookingsynctest.AirbnbConversationID, bookingsynctest.HostJanID)
	require.NoError(t, err, "EnsureHost")
	assert.EqualValues(t, bookingsynctest.AirbnbHostParticipantID, p.ID, "EnsureHost")
	_, _, err = c.Messages.Create(ctx, msg(p.ID))
	require.NoError(t, err)
	_, err = c.Messages.SendAsHost(ctx, bookingsynctest.AirbnbConversationID, bookingsynctest.HostJanID, &bookingsync.NewMessage{Content: "See you"})
	require.NoError(t, err)
	n = srv.RequestCount("GET", "inbox/participants")
	assert.EqualValues(t, 1, n, "%d participant reads after sending as the host, want still 1", n)
	n = srv.RequestCount("POST", "inbox/messages")
	assert.EqualValues(t, 2, n, "%d messages sent, want 2", n)
}

// A token without bookings_read reads the reduced booking; the client
// tells "no conversations link" from "no conversations" and names the
// scope, after one request.
func TestFakeBookingConversationsWithoutBookingsRead(t *testing.T) {
	t.Parallel()
	srv, _ := fakeClient(t)
	c, err := bookingsync.NewClient(bookingsync.WithBaseURL(srv.URL), bookingsync.WithToken(srv.IssueToken("inbox_read", "inbox_write")))
	require.NoError(t, err)
	ctx := context.Background()
	b, _, err := c.Bookings.Get(ctx, bookingsynctest.AirbnbBookingID)
	require.NoError(t, err)
	require.False(t, b.ConversationsKnown(), "reduced booking has a conversations link: %v", b.Links.Conversations)
	before := srv.RequestTotal()
	_, err = c.Bookings.Conversations(ctx, bookingsynctest.AirbnbBookingID)
	var se *bookingsync.ScopeError
	require.ErrorIs(t, err, bookingsync.ErrForbidden, "Conversations")
	require.ErrorAs(t, err, &se, "Conversations")
	require.Equal(t, bookingsync.ScopeBookingsRead, se.Scope, "Conversations")
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	_, err = c.Bookings.WaitForConversations(wctx, bookingsynctest.AirbnbBookingID, time.Millisecond)
	require.True(t, errors.As(err, &se), "WaitForConversations: err = %v, want a ScopeError", err)
	n := srv.RequestTotal() - before
	assert.EqualValues(t, 2, n, "%d requests, want 2 (one booking read each)", n)

	// With bookings_read the same booking lists its conversation.
	_, full := fakeClient(t)
	convs, err := full.Bookings.Conversations(ctx, bookingsynctest.AirbnbBookingID)
	assert.NoError(t, err, "with bookings_read")
	assert.Len(t, convs, 1, "with bookings_read")
}

// The API, and so the fake, accepts duplicate Host participants. Two
// clients (two processes) that add the same host each get one; EnsureHost
// then settles every caller on the oldest.
func TestFakeDuplicateHostsSettleOnTheOldest(t *testing.T) {
	t.Parallel()
	srv, a := fakeClient(t)
	ctx := context.Background()
	b, err := bookingsync.NewClient(bookingsync.WithBaseURL(srv.URL), bookingsync.WithToken(srv.Token()))
	require.NoError(t, err)
	host := srv.AddHost("Ann", "Lee", "ann@example.com")
	conv := int64(bookingsynctest.BookingComConversationID)
	p1, _, err := a.Participants.AddHost(ctx, conv, host)
	require.NoError(t, err)
	srv.Advance(time.Second)
	p2, _, err := b.Participants.AddHost(ctx, conv, host)
	require.NoError(t, err, "the fake refused a duplicate Host participant")
	require.NotEqual(t, p2.ID, p1.ID, "one participant for two creations: %d", p1.ID)
	for _, cl := range []*bookingsync.Client{a, b} {
		got, err := cl.Participants.EnsureHost(ctx, conv, host)
		require.NoError(t, err)
		assert.EqualValues(t, p1.ID, got.ID, "EnsureHost = participant %d, want the oldest, %d", got.ID, p1.ID)
	}
	n := srv.RequestCount("POST", "inbox/participants")
	assert.EqualValues(t, 2, n, "%d participants created, want 2", n)
}

// Marked read then unread against the fake; a host's email and user
// cleared with an explicit null.
func TestFakeMarkUnreadAndClearHostFields(t *testing.T) {
	t.Parallel()
	_, c := fakeClient(t)
	ctx := context.Background()
	p, _, err := c.Participants.MarkRead(ctx, bookingsynctest.AirbnbHostParticipantID)
	require.NoError(t, err, "MarkRead")
	assert.NotNil(t, p.ReadAt, "MarkRead")
	p, _, err = c.Participants.MarkUnread(ctx, bookingsynctest.AirbnbHostParticipantID)
	require.NoError(t, err, "MarkUnread")
	assert.Nil(t, p.ReadAt, "MarkUnread")
	h, _, err := c.Hosts.Update(ctx, bookingsynctest.HostJanID, &bookingsync.HostUpdate{ClearEmail: true, ClearUserID: true})
	require.NoError(t, err)
	assert.Empty(t, h.Email, "host after clearing")
	assert.Nil(t, h.Links.User, "host after clearing")
}

// GetManyWith sideloads like GetWith, against the fake.
func TestFakeGetManyWithSideloads(t *testing.T) {
	t.Parallel()
	_, c := fakeClient(t)
	ids := []int64{bookingsynctest.AirbnbConversationID, bookingsynctest.BookingComConversationID}
	convs, _, err := c.Conversations.GetManyWith(context.Background(), ids, &bookingsync.ConversationGetOptions{Include: []string{"participants"}})
	require.NoError(t, err)
	require.Len(t, convs, 2)
	for _, conv := range convs {
		assert.NotEmpty(t, conv.Participants, "conversation %d", conv.ID)
		assert.Len(t, conv.Participants, len(conv.Links.Participants), "conversation %d: sideloaded of %v", conv.ID, conv.Links.Participants)
	}
}
