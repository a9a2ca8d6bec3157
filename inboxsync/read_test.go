package inboxsync_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/go-bookingsync/bookingsync"
	"github.com/go-bookingsync/bookingsync/bookingsynctest"
	"github.com/go-bookingsync/bookingsync/inboxsync"
	"github.com/go-bookingsync/bookingsync/inboxsync/internal/dbtest"
)

func ids[T any](l []*T, id func(*T) int64) []int64 {
	out := make([]int64, len(l))
	for i, v := range l {
		out[i] = id(v)
	}
	slices.Sort(out)
	return out
}

func convIDs(l []*bookingsync.Conversation) []int64 {
	return ids(l, func(c *bookingsync.Conversation) int64 { return c.ID })
}

// The read side answers the documented filters from the copy alone.
func TestReadSide(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dsn string) {
		f := setup(t, dsn)
		mustSync(t, f.s)
		before := len(f.srv.Requests())
		ctx := context.Background()
		for _, tc := range []struct {
			name string
			q    inboxsync.ConversationQuery
			want []int64
		}{
			{"all", inboxsync.ConversationQuery{}, []int64{11, 12, 13, 14}},
			{"open", inboxsync.ConversationQuery{Status: inboxsync.StatusOpen}, []int64{11, 12, 14}},
			{"closed", inboxsync.ConversationQuery{Status: inboxsync.StatusClosed}, []int64{13}},
			{"airbnb", inboxsync.ConversationQuery{Channel: bookingsync.ChannelAirbnb}, []int64{11}},
			{"awaiting a reply", inboxsync.ConversationQuery{AwaitingReply: true}, []int64{11, 12, 14}},
			{"updated lately", inboxsync.ConversationQuery{UpdatedSince: time.Now().Add(-24 * time.Hour)}, []int64{11, 12, 14}},
		} {
			got, err := f.st.Conversations(ctx, acct, tc.q)
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			if g := convIDs(got); !slices.Equal(g, tc.want) {
				t.Errorf("%s: %v, want %v", tc.name, g, tc.want)
			}
		}
		if got, _ := f.st.Conversations(ctx, acct, inboxsync.ConversationQuery{Limit: 2}); len(got) != 2 {
			t.Errorf("Limit 2: %d conversations", len(got))
		}
		if _, err := f.st.Conversation(ctx, acct, 999); !errors.Is(err, inboxsync.ErrNotFound) {
			t.Errorf("Conversation(999): %v, want ErrNotFound", err)
		}
		if _, err := f.st.Conversation(ctx, acct+1, bookingsynctest.AirbnbConversationID); !errors.Is(err, inboxsync.ErrNotFound) {
			t.Errorf("another account's conversation: %v, want ErrNotFound", err)
		}
		ps, err := f.st.Participants(ctx, acct, bookingsynctest.AirbnbConversationID)
		if err != nil || len(ps) != 2 || !ps[1].IsHost() {
			t.Errorf("Participants: %d, %v", len(ps), err)
		}
		if g, err := f.st.Guest(ctx, acct, ps[0].Links.Member.ID); err != nil || g.Name() == "" {
			t.Errorf("Guest of participant %d: %+v, %v", ps[0].ID, g, err)
		}
		bs, err := f.st.Bookings(ctx, acct, bookingsynctest.AirbnbConversationID)
		if err != nil || len(bs) != 1 || bs[0].Links.Rental == nil {
			t.Fatalf("Bookings: %d, %v", len(bs), err)
		}
		if r, err := f.st.Rental(ctx, acct, *bs[0].Links.Rental); err != nil || r.Name == "" {
			t.Errorf("Rental: %+v, %v", r, err)
		}
		ms, err := f.st.Messages(ctx, acct, bookingsynctest.AirbnbConversationID)
		if err != nil || len(ms) != 3 || ms[2].Content != "Thanks in advance!" {
			t.Fatalf("Messages: %d, %v", len(ms), err)
		}
		if !ms[0].SentAt.Before(*ms[2].SentAt) {
			t.Error("Messages not oldest first")
		}
		if app, err := f.st.Application(ctx, acct, bookingsynctest.AirbnbAppID); err != nil || app.Name != "Airbnb" {
			t.Errorf("Application: %+v, %v", app, err)
		}
		if n := len(f.srv.Requests()) - before; n != 0 {
			t.Errorf("the read side made %d requests", n)
		}
	})
}
