package inboxsync_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/go-bookingsync/bookingsync/bookingsynctest"
	"github.com/go-bookingsync/bookingsync/inboxsync"
	"github.com/go-bookingsync/bookingsync/inboxsync/internal/dbtest"
)

// inbox reads a page and fails t on error.
func inbox(t *testing.T, st *inboxsync.Store, q inboxsync.InboxQuery) *inboxsync.InboxPage {
	t.Helper()
	p, err := st.Inbox(context.Background(), acct, q)
	if err != nil {
		t.Fatalf("Inbox(%+v): %v", q, err)
	}
	return p
}

// rowIDs are the conversation ids of a page's rows.
func rowIDs(p *inboxsync.InboxPage) []int64 {
	var ids []int64
	for _, r := range p.Rows {
		ids = append(ids, r.Conversation.ID)
	}
	return ids
}

// The seeded inbox's rows carry their guest, rental, booking, channel,
// last message and awaiting flag, newest activity first.
func TestInboxRows(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dsn string) {
		f := setup(t, dsn)
		mustSync(t, f.s)
		p := inbox(t, f.st, inboxsync.InboxQuery{})
		if p.Next != "" {
			t.Errorf("one page holds the seed, yet Next = %q", p.Next)
		}
		byID := map[int64]inboxsync.InboxRow{}
		for _, r := range p.Rows {
			byID[r.Conversation.ID] = r
		}
		want, err := f.st.Conversations(context.Background(), acct, inboxsync.ConversationQuery{})
		if err != nil {
			t.Fatal(err)
		}
		var wantIDs []int64
		for _, c := range want {
			wantIDs = append(wantIDs, c.ID)
		}
		if got := rowIDs(p); !slices.Equal(got, wantIDs) {
			t.Fatalf("rows %v; want the order of Conversations, %v", got, wantIDs)
		}
		for _, tc := range []struct {
			id                int64
			guest, rental, ch string
			booking           int64
			awaiting          bool
			last              string
		}{
			{bookingsynctest.AirbnbConversationID, "Emma Dubois", "Ocean View Loft", "airbnb", bookingsynctest.AirbnbBookingID, true, "Thanks in advance!"},
			{bookingsynctest.BookingComConversationID, "Lukas Weber", "Old Town Apartment", "booking-com", bookingsynctest.BookingComBookingID, true, "And what is the wifi password?"},
			{bookingsynctest.ClosedConversationID, "Liam Byrne", "", "email", 0, false, ""},
		} {
			r, ok := byID[tc.id]
			if !ok {
				t.Fatalf("conversation %d missing", tc.id)
			}
			if r.Guest == nil || r.Guest.Fullname != tc.guest {
				t.Errorf("conversation %d: guest %+v; want %s", tc.id, r.Guest, tc.guest)
			}
			if (r.Rental == nil) != (tc.rental == "") || (r.Rental != nil && r.Rental.Name != tc.rental) {
				t.Errorf("conversation %d: rental %+v; want %q", tc.id, r.Rental, tc.rental)
			}
			if (r.Booking == nil) != (tc.booking == 0) || (r.Booking != nil && r.Booking.ID != tc.booking) {
				t.Errorf("conversation %d: booking %+v; want %d", tc.id, r.Booking, tc.booking)
			}
			if r.Channel != tc.ch || r.AwaitingReply != tc.awaiting {
				t.Errorf("conversation %d: channel %q awaiting %v; want %q %v", tc.id, r.Channel, r.AwaitingReply, tc.ch, tc.awaiting)
			}
			if r.LastMessage == nil {
				t.Errorf("conversation %d: no last message", tc.id)
			} else if tc.last != "" && r.LastMessage.Content != tc.last {
				t.Errorf("conversation %d: last message %q; want %q", tc.id, r.LastMessage.Content, tc.last)
			}
		}
	})
}

// Keyset pages cover every conversation once, newest first, whatever the
// page size, and a page costs the same number of queries at any size.
func TestInboxPagesAndQueryCount(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dsn string) {
		f := setup(t, dsn)
		f.srv.GenerateInbox(60, 150) // pages of 50 and fewer: several
		mustSync(t, f.s)
		all := rowIDs(inbox(t, f.st, inboxsync.InboxQuery{Limit: inboxsync.MaxInboxLimit}))
		if len(all) < 60 {
			t.Fatalf("%d rows; want every conversation", len(all))
		}
		for _, size := range []int{1, 7, 50} {
			var got []int64
			q := inboxsync.InboxQuery{Limit: size}
			for pages := 0; ; pages++ {
				if pages > len(all) {
					t.Fatalf("size %d: paging does not end", size)
				}
				before := inboxsync.QueryCount(f.st)
				p := inbox(t, f.st, q)
				if n := inboxsync.QueryCount(f.st) - before; n > 4 {
					t.Fatalf("size %d: a page took %d queries; want at most 4 whatever its size", size, n)
				}
				if len(p.Rows) > size {
					t.Fatalf("size %d: %d rows", size, len(p.Rows))
				}
				got = append(got, rowIDs(p)...)
				if p.Next == "" {
					break
				}
				q.Before = p.Next
			}
			if !slices.Equal(got, all) {
				t.Fatalf("size %d: pages give %d rows, differing from one page of all %d", size, len(got), len(all))
			}
		}
		if _, err := f.st.Inbox(context.Background(), acct, inboxsync.InboxQuery{Before: "garbage!"}); !errors.Is(err, inboxsync.ErrBadCursor) {
			t.Errorf("a bad cursor: %v; want ErrBadCursor", err)
		}
		if _, err := f.st.Inbox(context.Background(), acct, inboxsync.InboxQuery{Status: "pending"}); err == nil {
			t.Error("an unknown status is accepted")
		}
	})
}

// Filters and search select the conversations a person would expect.
func TestInboxFiltersAndSearch(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dsn string) {
		f := setup(t, dsn)
		mustSync(t, f.s)
		const (
			airbnb  = bookingsynctest.AirbnbConversationID
			booking = bookingsynctest.BookingComConversationID
			closed  = bookingsynctest.ClosedConversationID
			delayed = bookingsynctest.DelayedConversationID
		)
		sorted := func(ids []int64) []int64 { slices.Sort(ids); return ids }
		for _, tc := range []struct {
			q    inboxsync.InboxQuery
			want []int64
		}{
			{inboxsync.InboxQuery{Status: inboxsync.StatusClosed}, []int64{closed}},
			{inboxsync.InboxQuery{Channel: "airbnb"}, []int64{airbnb}},
			{inboxsync.InboxQuery{Channel: "email"}, []int64{closed}},
			{inboxsync.InboxQuery{Channel: "booking-com", AwaitingReply: true}, []int64{booking, delayed}},
			{inboxsync.InboxQuery{Search: "wifi"}, []int64{booking}},           // a message's word
			{inboxsync.InboxQuery{Search: "WIFI passw"}, []int64{booking}},     // case, a word's start, every word
			{inboxsync.InboxQuery{Search: "wifi parking"}, nil},                // not in one text
			{inboxsync.InboxQuery{Search: "Question"}, []int64{closed}},        // the subject
			{inboxsync.InboxQuery{Search: "dubois"}, []int64{airbnb}},          // the guest's name
			{inboxsync.InboxQuery{Search: "parking"}, []int64{airbnb, closed}}, // a message, a subject
			{inboxsync.InboxQuery{Search: "parking", Status: inboxsync.StatusOpen}, []int64{airbnb}},
			{inboxsync.InboxQuery{Search: `"'*)`}, nil}, // no word: every one, below
		} {
			got := sorted(rowIDs(inbox(t, f.st, tc.q)))
			want := sorted(tc.want)
			if tc.q.Search == `"'*)` {
				if len(got) < 4 {
					t.Errorf("a search without words kept %v; want every conversation", got)
				}
				continue
			}
			if !slices.Equal(got, want) {
				t.Errorf("%+v: %v; want %v", tc.q, got, want)
			}
		}
		// A message synced later is found at once.
		f.srv.AddMessage(bookingsynctest.MessageSeed{ConversationID: closed,
			SenderID: 4, Content: "Merci pour la réservation"})
		mustSync(t, f.s)
		if got := rowIDs(inbox(t, f.st, inboxsync.InboxQuery{Search: "merci réservation"})); !slices.Equal(got, []int64{closed}) {
			t.Errorf("a new message's word: %v; want [%d]", got, closed)
		}
	})
}
