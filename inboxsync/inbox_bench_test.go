package inboxsync

// BenchmarkInbox: a page of 50 inbox rows out of 10,000 conversations and
// 50,000 messages (each conversation with its guest participant, guest,
// booking and rental), read by Store.Inbox against the per-call reads it
// replaces (Conversations, then for each row Participants, Guest,
// Messages, Bookings and Rental), alternating in the same run; read the
// ratio:
//
//	go test -run '^$' -bench Inbox -benchtime 20x ./inboxsync/

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/go-bookingsync/bookingsync/inboxsync/internal/dbtest"
)

// benchInbox fills a store on backend with convs conversations and
// msgsPer messages each, through the pass's write path.
func benchInbox(b *testing.B, backend string, convs, msgsPer int) *Store {
	ctx := context.Background()
	st, err := Open(ctx, dbtest.DSN(b, backend))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ts := func(d int) string { return t0.Add(time.Duration(d) * time.Second).Format(time.RFC3339) }
	batches := map[*resource][][]byte{}
	add := func(r *resource, format string, args ...any) {
		batches[r] = append(batches[r], fmt.Appendf(nil, format, args...))
	}
	const rentals = 100
	for r := 1; r <= rentals; r++ {
		add(resRentals, `{"id":%d,"name":"Rental %d","updated_at":"%s"}`, 500000+r, r, ts(0))
	}
	for i := 1; i <= convs; i++ {
		conv, part, guest, booking := 1000000+i, 2000000+i, 3000000+i, 4000000+i
		last := i*msgsPer + msgsPer
		add(resConversations, `{"id":%d,"subject":"Stay %d","default_channel":"airbnb","created_at":"%s","updated_at":"%s","last_message_at":"%s","links":{"account":%d,"bookings":[%d],"participants":[%d]}}`,
			conv, i, ts(i), ts(last), ts(last), benchAcct, booking, part)
		add(resParticipants, `{"id":%d,"updated_at":"%s","links":{"conversation":%d,"member":{"id":%d,"type":"Client"}}}`, part, ts(i), conv, guest)
		add(resClients, `{"id":%d,"fullname":"Guest %d","updated_at":"%s"}`, guest, i, ts(i))
		add(resBookings, `{"id":%d,"reference":"B%d","status":"Booked","start_at":"%s","end_at":"%s","updated_at":"%s","links":{"rental":%d,"client":%d,"conversations":[%d]}}`,
			booking, i, ts(i), ts(i+3600), ts(i), 500000+1+i%rentals, guest, conv)
		for j := 0; j < msgsPer; j++ {
			at := ts(i*msgsPer + j + 1)
			add(resMessages, `{"id":%d,"content":"Message %d of stay %d: what time is check-in?","visibility":"external","sent_at":"%s","created_at":"%s","updated_at":"%s","links":{"conversation":%d,"sender":%d}}`,
				5000000+i*msgsPer+j, j, i, at, at, at, conv, part)
		}
	}
	for r, items := range batches {
		for len(items) > 0 {
			n := min(len(items), 500)
			if _, err := st.apply(ctx, benchAcct, r, items[:n], nil, write{}); err != nil {
				b.Fatal(err)
			}
			items = items[n:]
		}
	}
	return st
}

func BenchmarkInbox(b *testing.B) {
	for _, backend := range dbtest.Backends {
		b.Run(backend, func(b *testing.B) {
			ctx := context.Background()
			st := benchInbox(b, backend, 10000, 5)
			const size = 50
			var inboxT, perCallT time.Duration
			var inboxQ, perCallQ int64
			pages := 0
			for b.Loop() {
				start, q := time.Now(), st.queries.Load()
				p, err := st.Inbox(ctx, benchAcct, InboxQuery{Limit: size})
				if err != nil || len(p.Rows) != size || p.Rows[0].Guest == nil || p.Rows[0].Rental == nil {
					b.Fatal("inbox page", err)
				}
				inboxT += time.Since(start)
				inboxQ += st.queries.Load() - q

				start, q = time.Now(), st.queries.Load()
				if n, err := perCallInbox(ctx, st, size); err != nil || n != size {
					b.Fatal("per-call page", n, err)
				}
				perCallT += time.Since(start)
				perCallQ += st.queries.Load() - q
				pages++
			}
			b.ReportMetric(float64(inboxT.Microseconds())/float64(pages)/1000, "inbox-ms/page")
			b.ReportMetric(float64(perCallT.Microseconds())/float64(pages)/1000, "per-call-ms/page")
			b.ReportMetric(perCallT.Seconds()/inboxT.Seconds(), "per-call/inbox")
			b.ReportMetric(float64(inboxQ)/float64(pages), "inbox-queries/page")
			b.ReportMetric(float64(perCallQ)/float64(pages), "per-call-queries/page")
		})
	}
}

// perCallInbox builds the first page of an inbox by the per-call reads, as
// an application did before Store.Inbox, and returns its row count.
func perCallInbox(ctx context.Context, st *Store, size int) (int, error) {
	convs, err := st.Conversations(ctx, benchAcct, ConversationQuery{Limit: size})
	if err != nil {
		return 0, err
	}
	rows := 0
	for _, c := range convs {
		row := InboxRow{Conversation: c, Channel: string(c.DefaultChannel)}
		parts, err := st.Participants(ctx, benchAcct, c.ID)
		if err != nil {
			return 0, err
		}
		clients := map[int64]bool{}
		for _, p := range parts {
			if p.IsClient() {
				clients[p.ID] = true
				if row.Guest == nil {
					if row.Guest, err = st.Guest(ctx, benchAcct, p.Links.Member.ID); err != nil && !errors.Is(err, ErrNotFound) {
						return 0, err
					}
				}
			}
		}
		msgs, err := st.Messages(ctx, benchAcct, c.ID)
		if err != nil {
			return 0, err
		}
		if len(msgs) > 0 {
			row.LastMessage = msgs[len(msgs)-1]
			row.AwaitingReply = row.LastMessage.Links.Sender != nil && clients[*row.LastMessage.Links.Sender]
		}
		bookings, err := st.Bookings(ctx, benchAcct, c.ID)
		if err != nil {
			return 0, err
		}
		for _, bk := range bookings {
			if row.Booking == nil || bk.StartAt.After(row.Booking.StartAt) {
				row.Booking = bk
			}
		}
		if row.Booking != nil && row.Booking.Links.Rental != nil {
			if row.Rental, err = st.Rental(ctx, benchAcct, *row.Booking.Links.Rental); err != nil && !errors.Is(err, ErrNotFound) {
				return 0, err
			}
		}
		rows++
	}
	return rows, nil
}
