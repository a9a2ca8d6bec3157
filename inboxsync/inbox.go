package inboxsync

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/go-bookingsync/bookingsync"
)

// InboxQuery selects a page of Store.Inbox. The zero value is the first
// page of every conversation of the account.
type InboxQuery struct {
	Status        Status // StatusOpen, StatusClosed, or "" for all
	AwaitingReply bool   // the guest spoke last
	// Channel keeps the conversations of one channel ("airbnb",
	// "booking-com", "homeaway", "email"), as InboxRow.Channel tells it.
	Channel string
	// Search keeps the conversations where one message's content, the
	// subject or the guest's name holds every word of Search, each as a
	// word or the start of one, ignoring case (and, on SQLite, accents).
	// Punctuation separates words; a Search without any word keeps all.
	Search string
	Limit  int    // rows per page; 0: DefaultInboxLimit, at most MaxInboxLimit
	Before string // InboxPage.Next of the previous page (keyset, newest first)
}

// InboxRow is one conversation as an inbox list shows it.
type InboxRow struct {
	Conversation *bookingsync.Conversation
	// Guest is the conversation's first Client participant's guest, else
	// its booking's guest; nil when unknown (not stored: the clients_read
	// scope is missing, or the guest is not synced yet).
	Guest *bookingsync.Guest
	// Rental is the booking's rental; nil when unknown.
	Rental *bookingsync.Rental
	// Booking is the stored booking among the conversation's
	// links.bookings that starts last; nil when none.
	Booking *bookingsync.Booking
	// Channel is the channel of the application that created the
	// conversation (see bookingsync.ChannelFromApplicationName), else its
	// default_channel; "" when neither tells.
	Channel string
	// LastMessage is the latest message (by sent_at, else created_at),
	// internal notes included; nil when there is none.
	LastMessage *bookingsync.Message
	// AwaitingReply reports that the guest spoke last: the latest message
	// that is not internal was sent by a Client participant.
	AwaitingReply bool
}

// InboxPage is one page of Store.Inbox.
type InboxPage struct {
	Rows []InboxRow
	Next string // "" on the last page
}

// Page sizes of Store.Inbox.
const (
	DefaultInboxLimit = 50
	MaxInboxLimit     = 500
)

// ErrBadCursor is returned by Store.Inbox when InboxQuery.Before is not a
// cursor that Inbox gave.
var ErrBadCursor = errors.New("inboxsync: InboxQuery.Before is not an InboxPage.Next")

// activity is a conversation's place in the inbox: its last message, else
// its last update. The text is the index's (see migrations
// projection/0004_inbox.sql), so that the index serves the order.
const activity = "COALESCE(c.last_message_at, c.updated_at, '1970-01-01T00:00:00.000000000Z')"

// Inbox returns a page of the account's inbox from the local copy alone:
// one row per conversation matching q with what a list shows (guest,
// rental, booking, channel, last message, awaiting reply), most recent
// activity (last message, else update) first. Pass the page's Next as
// q.Before for the next page: keyset paging, so that a page is as quick at
// the end of a long inbox as at its start, and conversations that become
// active meanwhile do not shift the pages after.
//
// A page takes four queries at most, whatever its size: the account's
// applications (for the channel), the conversations with their last
// message and guest participant, their bookings, and their guests and
// rentals together.
func (s *Store) Inbox(ctx context.Context, accountID int64, q InboxQuery) (*InboxPage, error) {
	limit := q.Limit
	switch {
	case limit == 0:
		limit = DefaultInboxLimit
	case limit < 0:
		return nil, fmt.Errorf("inboxsync: Inbox: negative Limit %d", limit)
	case limit > MaxInboxLimit:
		limit = MaxInboxLimit
	}
	apps, err := s.inboxApplications(ctx, accountID)
	if err != nil {
		return nil, err
	}
	where, args, err := s.inboxWhere(accountID, q, apps)
	if err != nil {
		return nil, err
	}
	rows, more, err := s.inboxConversations(ctx, where, args, limit)
	if err != nil {
		return nil, err
	}
	if err := s.inboxRelated(ctx, accountID, rows, apps); err != nil {
		return nil, err
	}
	page := &InboxPage{Rows: make([]InboxRow, len(rows))}
	for i, r := range rows {
		page.Rows[i] = r.InboxRow
	}
	if more {
		last := rows[len(rows)-1]
		page.Next = encodeInboxCursor(last.activity, last.Conversation.ID)
	}
	return page, nil
}

// inboxRow is a row with what paging and the later queries need.
type inboxRow struct {
	InboxRow
	activity time.Time
	guestID  int64 // the first Client participant's member
}

// inboxApplications reads the account's stored applications.
func (s *Store) inboxApplications(ctx context.Context, accountID int64) (map[int64]*bookingsync.Application, error) {
	list, err := readAll[bookingsync.Application](ctx, s, "applications", "SELECT raw FROM applications WHERE account_id = ?", accountID)
	if err != nil {
		return nil, err
	}
	apps := make(map[int64]*bookingsync.Application, len(list))
	for _, a := range list {
		apps[a.ID] = a
	}
	return apps, nil
}

// channelOf is a conversation's channel: its creating application's, else
// its default_channel (as bookingsync.Origin tells it).
func channelOf(c *bookingsync.Conversation, apps map[int64]*bookingsync.Application) string {
	if id, ok := c.CreatedByApplication(); ok && apps[id] != nil {
		if ch := bookingsync.ChannelFromApplicationName(apps[id].Name); ch != "" {
			return string(ch)
		}
	}
	return string(c.DefaultChannel)
}

// inboxWhere is the filter of q (and its keyset) on conversations c.
func (s *Store) inboxWhere(accountID int64, q InboxQuery, apps map[int64]*bookingsync.Application) (string, []any, error) {
	where := []string{"c.account_id = ?"}
	args := []any{accountID}
	status, err := statusWhere(q.Status)
	if err != nil {
		return "", nil, err
	}
	if status != "" {
		where = append(where, status)
	}
	if q.AwaitingReply {
		where = append(where, awaitingReply+" = 'Client'")
	}
	if q.Channel != "" {
		// The channel as channelOf tells it: the creating application's
		// when it names one, else default_channel.
		var of, named []int64
		for id, a := range apps {
			switch bookingsync.ChannelFromApplicationName(a.Name) {
			case "":
			case bookingsync.Channel(q.Channel):
				of = append(of, id)
				named = append(named, id)
			default:
				named = append(named, id)
			}
		}
		byApp := "COALESCE(c.created_by_type, '') = 'Doorkeeper::Application' AND COALESCE(c.created_by_id, 0) IN "
		cond := "c.default_channel = ?"
		cargs := []any{q.Channel}
		if len(named) > 0 {
			list, ids := idList(named)
			cond = "(" + cond + " AND NOT (" + byApp + "(" + list + ")))"
			cargs = append(cargs, ids...)
		}
		if len(of) > 0 {
			list, ids := idList(of)
			cond = "(" + cond + " OR (" + byApp + "(" + list + ")))"
			cargs = append(cargs, ids...)
		}
		where = append(where, cond)
		args = append(args, cargs...)
	}
	if words := searchWords(q.Search); len(words) > 0 {
		cond, sargs := s.d.searchWhere(accountID, words)
		where = append(where, cond)
		args = append(args, sargs...)
	}
	if q.Before != "" {
		at, id, err := decodeInboxCursor(q.Before)
		if err != nil {
			return "", nil, err
		}
		where = append(where, "("+activity+" < ? OR ("+activity+" = ? AND c.id < ?))")
		args = append(args, ts(s.d, &at), ts(s.d, &at), id)
	}
	return strings.Join(where, " AND "), args, nil
}

// inboxConversations runs the page's query: the conversations, each with
// its last message, whether it awaits a reply and its first Client
// participant's member; more reports a next page.
func (s *Store) inboxConversations(ctx context.Context, where string, args []any, limit int) ([]*inboxRow, bool, error) {
	query := `SELECT c.raw, ` + activity + `, lm.raw,
	CASE WHEN ` + awaitingReply + ` = 'Client' THEN 1 ELSE 0 END,
	(SELECT p.member_id FROM participants p WHERE p.account_id = c.account_id AND p.conversation_id = c.id AND p.member_type = 'Client' ORDER BY p.id LIMIT 1)
FROM conversations c
LEFT JOIN messages lm ON lm.account_id = c.account_id AND lm.id = (SELECT m.id FROM messages m
	WHERE m.account_id = c.account_id AND m.conversation_id = c.id ORDER BY m.ordered_at DESC, m.id DESC LIMIT 1)
WHERE ` + where + `
ORDER BY ` + activity + ` DESC, c.id DESC LIMIT ` + strconv.Itoa(limit+1)
	rs, err := s.query(ctx, s.db, query, args...)
	if err != nil {
		return nil, false, fmt.Errorf("inboxsync: reading the inbox: %w", err)
	}
	defer rs.Close()
	var out []*inboxRow
	for rs.Next() {
		var (
			craw, mraw []byte
			at         any
			awaiting   int
			guest      sql.NullInt64
		)
		if err := rs.Scan(&craw, &at, &mraw, &awaiting, &guest); err != nil {
			return nil, false, fmt.Errorf("inboxsync: reading the inbox: %w", err)
		}
		r := &inboxRow{guestID: guest.Int64}
		r.AwaitingReply = awaiting == 1
		if r.activity, err = scanTime(at); err != nil {
			return nil, false, err
		}
		r.Conversation = new(bookingsync.Conversation)
		if err := json.Unmarshal(craw, r.Conversation); err != nil {
			return nil, false, fmt.Errorf("inboxsync: decoding conversations: %w", err)
		}
		if mraw != nil {
			r.LastMessage = new(bookingsync.Message)
			if err := json.Unmarshal(mraw, r.LastMessage); err != nil {
				return nil, false, fmt.Errorf("inboxsync: decoding messages: %w", err)
			}
		}
		out = append(out, r)
	}
	if err := rs.Err(); err != nil {
		return nil, false, fmt.Errorf("inboxsync: reading the inbox: %w", err)
	}
	if len(out) > limit {
		return out[:limit], true, nil
	}
	return out, false, nil
}

// inboxRelated fills the rows' bookings (one query), then their guests
// and rentals (one more), and their channels.
func (s *Store) inboxRelated(ctx context.Context, accountID int64, rows []*inboxRow, apps map[int64]*bookingsync.Application) error {
	var bookingIDs []int64
	for _, r := range rows {
		r.Channel = channelOf(r.Conversation, apps)
		bookingIDs = append(bookingIDs, r.Conversation.Links.Bookings...)
	}
	bookings := map[int64]*bookingsync.Booking{}
	if len(bookingIDs) > 0 {
		list, ids := idList(bookingIDs)
		bs, err := readAll[bookingsync.Booking](ctx, s, "bookings",
			"SELECT raw FROM bookings WHERE account_id = ? AND id IN ("+list+")", append([]any{accountID}, ids...)...)
		if err != nil {
			return err
		}
		for _, b := range bs {
			bookings[b.ID] = b
		}
	}
	var guestIDs, rentalIDs []int64
	for _, r := range rows {
		for _, id := range r.Conversation.Links.Bookings {
			if b := bookings[id]; b != nil && (r.Booking == nil || startsAfter(b, r.Booking)) {
				r.Booking = b
			}
		}
		if r.guestID == 0 && r.Booking != nil && r.Booking.Links.Client != nil {
			r.guestID = *r.Booking.Links.Client
		}
		if r.guestID != 0 {
			guestIDs = append(guestIDs, r.guestID)
		}
		if r.Booking != nil && r.Booking.Links.Rental != nil {
			rentalIDs = append(rentalIDs, *r.Booking.Links.Rental)
		}
	}
	if len(guestIDs) == 0 && len(rentalIDs) == 0 {
		return nil
	}
	// The guests and the rentals in one query.
	var parts []string
	var args []any
	for _, t := range []struct {
		table string
		ids   []int64
	}{{"clients", guestIDs}, {"rentals", rentalIDs}} {
		if len(t.ids) == 0 {
			continue
		}
		list, ids := idList(t.ids)
		parts = append(parts, "SELECT '"+t.table+"', raw FROM "+t.table+" WHERE account_id = ? AND id IN ("+list+")")
		args = append(append(args, accountID), ids...)
	}
	rs, err := s.query(ctx, s.db, strings.Join(parts, " UNION ALL "), args...)
	if err != nil {
		return fmt.Errorf("inboxsync: reading guests and rentals: %w", err)
	}
	defer rs.Close()
	guests := map[int64]*bookingsync.Guest{}
	rentals := map[int64]*bookingsync.Rental{}
	for rs.Next() {
		var table string
		var raw []byte
		if err := rs.Scan(&table, &raw); err != nil {
			return fmt.Errorf("inboxsync: reading guests and rentals: %w", err)
		}
		if table == "clients" {
			g := new(bookingsync.Guest)
			if err := json.Unmarshal(raw, g); err != nil {
				return fmt.Errorf("inboxsync: decoding clients: %w", err)
			}
			guests[g.ID] = g
		} else {
			r := new(bookingsync.Rental)
			if err := json.Unmarshal(raw, r); err != nil {
				return fmt.Errorf("inboxsync: decoding rentals: %w", err)
			}
			rentals[r.ID] = r
		}
	}
	if err := rs.Err(); err != nil {
		return fmt.Errorf("inboxsync: reading guests and rentals: %w", err)
	}
	for _, r := range rows {
		r.Guest = guests[r.guestID]
		if r.Booking != nil && r.Booking.Links.Rental != nil {
			r.Rental = rentals[*r.Booking.Links.Rental]
		}
	}
	return nil
}

// startsAfter orders a conversation's bookings: the later start, then the
// higher id.
func startsAfter(a, b *bookingsync.Booking) bool {
	if !a.StartAt.Equal(b.StartAt) {
		return a.StartAt.After(b.StartAt)
	}
	return a.ID > b.ID
}

// encodeInboxCursor is InboxPage.Next: the last row's place.
func encodeInboxCursor(at time.Time, id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(at.UTC().Format(time.RFC3339Nano) + " " + strconv.FormatInt(id, 10)))
}

func decodeInboxCursor(s string) (time.Time, int64, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return time.Time{}, 0, ErrBadCursor
	}
	ts, idText, ok := strings.Cut(string(b), " ")
	at, terr := time.Parse(time.RFC3339Nano, ts)
	id, ierr := strconv.ParseInt(idText, 10, 64)
	if !ok || terr != nil || ierr != nil || id <= 0 {
		return time.Time{}, 0, ErrBadCursor
	}
	return at, id, nil
}
