package bookingsync

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// directoryAccount is an account of n channel conversations for the
// Directory tests: conversation i (from 1) has Client participant 1000+i
// (guest 500+i), booking 200+i of rental 300+i%5, messages 2000+2i (the
// guest's) and 2000+2i+1 (a host's, participant 1500+i) when i is even,
// and was created by application 65 (Airbnb) or 66 (Booking.com) in turn.
type directoryAccount struct {
	n       int
	records map[string]map[int64]string // plural -> id -> JSON object
	latency time.Duration               // added to every answer
}

func newDirectoryAccount(n int) *directoryAccount {
	a := &directoryAccount{n: n, records: map[string]map[int64]string{
		"participants": {}, "messages": {}, "bookings": {}, "clients": {}, "rentals": {}, "applications": {},
	}}
	a.records["applications"][65] = `{"id":65,"name":"Airbnb"}`
	a.records["applications"][66] = `{"id":66,"name":"Booking.com"}`
	for i := 1; i <= n; i++ {
		conv := int64(i)
		a.records["participants"][1000+conv] = fmt.Sprintf(`{"id":%d,"links":{"conversation":%d,"member":{"id":%d,"type":"Client"}}}`, 1000+conv, conv, 500+conv)
		a.records["participants"][1500+conv] = fmt.Sprintf(`{"id":%d,"links":{"conversation":%d,"member":{"id":2,"type":"Host"}}}`, 1500+conv, conv)
		a.records["messages"][2000+2*conv] = fmt.Sprintf(`{"id":%d,"content":"guest %d","links":{"conversation":%d,"sender":%d}}`, 2000+2*conv, i, conv, 1000+conv)
		if i%2 == 0 {
			a.records["messages"][2001+2*conv] = fmt.Sprintf(`{"id":%d,"content":"host %d","links":{"conversation":%d,"sender":%d}}`, 2001+2*conv, i, conv, 1500+conv)
		}
		a.records["bookings"][200+conv] = fmt.Sprintf(`{"id":%d,"status":"Booked","links":{"client":%d,"rental":%d,"conversations":[%d]}}`, 200+conv, 500+conv, 300+conv%5, conv)
		a.records["clients"][500+conv] = fmt.Sprintf(`{"id":%d,"fullname":"Guest %d","links":{"account":1}}`, 500+conv, i)
		a.records["rentals"][300+conv%5] = fmt.Sprintf(`{"id":%d,"name":"Rental %d"}`, 300+conv%5, conv%5)
	}
	return a
}

// serve answers GET /<path>/{ids} from the records, as the API does, and
// with 403 for the forbidden plurals.
func (a *directoryAccount) serve(s *testServer, forbidden ...string) {
	for path, plural := range map[string]string{
		"inbox/participants": "participants", "inbox/messages": "messages", "bookings": "bookings",
		"clients": "clients", "rentals": "rentals", "applications": "applications",
	} {
		s.mux.HandleFunc("GET /"+path+"/{ids}", func(w http.ResponseWriter, r *http.Request) {
			time.Sleep(a.latency)
			if slices.Contains(forbidden, plural) {
				answer(w, http.StatusForbidden, `{"error":"Forbidden"}`)
				return
			}
			var items []string
			for _, f := range strings.Split(r.PathValue("ids"), ",") {
				id, _ := strconv.ParseInt(f, 10, 64)
				if obj, ok := a.records[plural][id]; ok {
					items = append(items, obj)
				}
			}
			if len(items) == 0 {
				answer(w, http.StatusNotFound, `{"errors":[{"code":"not_found"}]}`)
				return
			}
			answer(w, http.StatusOK, inboxEnvelope(plural, items...))
		})
	}
}

// conversations returns the page as a listing returns it, with the
// participants and messages sideloaded or not.
func (a *directoryAccount) conversations(t testing.TB, sideload bool) []*Conversation {
	var items []string
	for i := 1; i <= a.n; i++ {
		conv := int64(i)
		parts := []int64{1000 + conv, 1500 + conv}
		msgs := []int64{2000 + 2*conv}
		if i%2 == 0 {
			msgs = append(msgs, 2001+2*conv)
		}
		side := ""
		if sideload {
			side = fmt.Sprintf(`,"participants":[%s,%s],"messages":[%s]`,
				a.records["participants"][parts[0]], a.records["participants"][parts[1]], a.messagesJSON(msgs))
		}
		items = append(items, fmt.Sprintf(`{"id":%d,"default_channel":"email","created_by_id":%d,"created_by_type":"Doorkeeper::Application","links":{"bookings":[%d],"participants":%s,"messages":%s}%s}`,
			conv, 65+conv%2, 200+conv, idsJSON(parts), idsJSON(msgs), side))
	}
	var page struct {
		Conversations []*Conversation `json:"conversations"`
	}
	require.NoError(t, json.Unmarshal([]byte(inboxEnvelope("conversations", items...)), &page))
	return page.Conversations
}

func (a *directoryAccount) messagesJSON(ids []int64) string {
	var out []string
	for _, id := range ids {
		out = append(out, a.records["messages"][id])
	}
	return strings.Join(out, ",")
}

func idsJSON(ids []int64) string {
	var s []string
	for _, id := range ids {
		s = append(s, strconv.FormatInt(id, 10))
	}
	return "[" + strings.Join(s, ",") + "]"
}

func TestDirectoryResolvesAPageInOneGetManyPerResource(t *testing.T) {
	t.Parallel()
	a := newDirectoryAccount(30)
	c, _, s := setup(t)
	a.serve(s)
	convs := a.conversations(t, true)

	d, err := c.Directory(inboxCtx, convs)
	require.NoError(t, err)
	// Participants and messages came with the listing: bookings,
	// applications, guests and rentals, one request each.
	assert.Equal(t, 4, s.total(), "requests: %+v", s.requests())
	for _, prefix := range []string{"bookings/", "applications/", "clients/", "rentals/"} {
		assert.Equal(t, 1, s.count("GET", prefix), prefix)
	}
	assert.Equal(t, apiPath+"rentals/300,301,302,303,304", s.last("GET", "rentals/").Path, "each rental once, in order")
	assert.Equal(t, apiPath+"applications/65,66", s.last("GET", "applications/").Path)

	for _, conv := range convs {
		i := conv.ID
		assert.Equal(t, fmt.Sprintf("Guest %d", i), d.Guest(conv).Name())
		assert.Equal(t, 200+i, d.Booking(conv).ID)
		assert.Equal(t, fmt.Sprintf("Rental %d", i%5), d.Rental(conv).Name)
		want := map[int64]Channel{1: ChannelBookingCom, 0: ChannelAirbnb}[i%2]
		assert.Equal(t, want, d.Channel(conv), "conversation %d", i)
		last := d.LastMessage(conv)
		require.NotNil(t, last)
		assert.Equal(t, i%2 == 1, d.GuestSpokeLast(conv), "conversation %d: last %q", i, last.Content)
	}

	// The applications went into the client's cache: Origin reads nothing,
	// and a second Directory asks only for the rest.
	o, err := c.Conversations.Origin(inboxCtx, convs[0])
	require.NoError(t, err)
	assert.Equal(t, ChannelBookingCom, o.Channel)
	_, err = c.Directory(inboxCtx, convs)
	require.NoError(t, err)
	assert.Equal(t, 1, s.count("GET", "applications/"))
	assert.Equal(t, 7, s.total())
}

func TestDirectoryReadsWhatTheListingDidNotSideload(t *testing.T) {
	t.Parallel()
	a := newDirectoryAccount(30)
	c, _, s := setup(t)
	a.serve(s)
	convs := a.conversations(t, false)

	d, err := c.Directory(inboxCtx, convs)
	require.NoError(t, err)
	assert.Equal(t, 6, s.total(), "participants, last messages, bookings, applications, guests, rentals: %+v", s.requests())
	assert.Equal(t, 1, s.count("GET", "inbox/participants/"))
	assert.Equal(t, 1, s.count("GET", "inbox/messages/"))
	for _, conv := range convs {
		assert.Equal(t, fmt.Sprintf("Guest %d", conv.ID), d.Guest(conv).Name())
		assert.Len(t, d.Participants(conv), 2)
		assert.Equal(t, conv.ID%2 == 1, d.GuestSpokeLast(conv))
	}
}

func TestDirectoryChunksLargePages(t *testing.T) {
	t.Parallel()
	a := newDirectoryAccount(250)
	c, _, s := setup(t)
	a.serve(s)
	d, err := c.Directory(inboxCtx, a.conversations(t, true))
	require.NoError(t, err)
	// 250 bookings and 250 guests: three requests each, at most a
	// hundred ids apiece; one for the 5 rentals and one for the 2
	// applications.
	assert.Equal(t, 3, s.count("GET", "bookings/"))
	assert.Equal(t, 3, s.count("GET", "clients/"))
	assert.Equal(t, 8, s.total())
	for _, r := range s.requests() {
		assert.LessOrEqual(t, strings.Count(r.Path, ",")+1, maxIDsPerRequest, r.Path)
	}
	assert.Len(t, d.guests, 250)
}

func TestDirectoryWithMissingScopes(t *testing.T) {
	t.Parallel()
	a := newDirectoryAccount(4)
	c, _, s := setup(t)
	a.serve(s, "clients", "applications")
	convs := a.conversations(t, true)

	d, err := c.Directory(inboxCtx, convs)
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrForbidden)
	var se *ScopeError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, ScopeClientsRead, se.Scope)
	assert.Contains(t, err.Error(), "clients_read")
	require.NotNil(t, d, "what was resolved comes back with the error")
	assert.Nil(t, d.Guest(convs[0]))
	assert.Equal(t, "Rental 1", d.Rental(convs[0]).Name)
	// Applications the token may not read leave the conversation's own
	// channel, as Origin does, and are cached as misses.
	assert.Equal(t, Channel("email"), d.Channel(convs[0]))
	o, err := c.Conversations.Origin(inboxCtx, convs[1])
	require.NoError(t, err)
	assert.Nil(t, o.Application)
	assert.Equal(t, 1, s.count("GET", "applications/"))
}

func TestDirectoryOfNothing(t *testing.T) {
	t.Parallel()
	c, _, s := setup(t)
	d, err := c.Directory(inboxCtx, []*Conversation{nil, {ID: 5}})
	require.NoError(t, err)
	assert.Equal(t, 0, s.total())
	conv := &Conversation{ID: 5, DefaultChannel: ChannelEmail}
	assert.Nil(t, d.Guest(conv))
	assert.Nil(t, d.Booking(conv))
	assert.Nil(t, d.Rental(conv))
	assert.Nil(t, d.LastMessage(conv))
	assert.False(t, d.GuestSpokeLast(conv))
	assert.Equal(t, ChannelEmail, d.Channel(conv))

	assert.Nil(t, d.Guest(nil))
	assert.Nil(t, d.Rental(nil))
	assert.Nil(t, d.Sender(nil, nil))
	assert.Equal(t, Channel(""), d.Channel(nil))
	assert.False(t, d.GuestSpokeLast(nil))

	// Null entries in sideloaded lists are skipped, not dereferenced.
	sender := int64(9)
	conv = &Conversation{ID: 6, Participants: []*Participant{nil}, Messages: []*Message{nil, {ID: 3, Links: MessageLinks{Sender: &sender}}}}
	d, err = c.Directory(inboxCtx, []*Conversation{conv})
	require.NoError(t, err)
	assert.Nil(t, d.Guest(conv))
	assert.Equal(t, int64(3), d.LastMessage(conv).ID)
	assert.Nil(t, d.Sender(conv, d.LastMessage(conv)))
	assert.False(t, d.GuestSpokeLast(conv))
}

// A conversation with an inquiry and no booking takes its rental from the
// inquiry: one more GetMany, in the first round trip.
func TestDirectoryReadsInquiries(t *testing.T) {
	t.Parallel()
	a := newDirectoryAccount(2)
	a.records["inquiries"] = map[int64]string{90: `{"id":90,"firstname":"Ann","links":{"rental":301,"booking":null}}`}
	c, mux, s := setup(t)
	a.serve(s)
	mux.HandleFunc("GET /inquiries/{ids}", func(w http.ResponseWriter, r *http.Request) {
		answer(w, 200, inboxEnvelope("inquiries", a.records["inquiries"][90]))
	})
	convs := a.conversations(t, true)
	convs[1].Links.Bookings, convs[1].Links.Inquiries = nil, []int64{90}

	d, err := c.Directory(inboxCtx, convs)
	require.NoError(t, err)
	assert.Equal(t, 5, s.total(), "bookings, inquiries, applications, guests, rentals: %v", s.paths())
	assert.Equal(t, "Ann", d.Inquiry(convs[1]).Firstname)
	assert.Nil(t, d.Booking(convs[1]))
	assert.Equal(t, "Rental 1", d.Rental(convs[1]).Name)
	assert.Equal(t, "Guest 2", d.Guest(convs[1]).Name(), "from the Client participant")
	assert.Nil(t, d.Inquiry(convs[0]))
	assert.Nil(t, d.Inquiry(nil))
}

// BenchmarkDirectory resolves a page of 100 conversations (participants
// and messages sideloaded) at 20 ms a request: four GetManys (bookings,
// applications, guests, rentals) in two concurrent rounds. /round is the
// baseline of the same run, one of those GetManys; x-rounds is the
// Directory's time over two rounds, x-sequential over four (what the same
// requests take one after the other).
func BenchmarkDirectory(b *testing.B) {
	a := newDirectoryAccount(100)
	a.latency = 20 * time.Millisecond
	c, _, s := setup(b, WithoutApplicationCache())
	a.serve(s)
	convs := a.conversations(b, true)
	var ids []int64
	for _, conv := range convs {
		ids = append(ids, conv.Links.Bookings...)
	}
	var round time.Duration
	b.Run("round", func(b *testing.B) {
		start := time.Now()
		for b.Loop() {
			if _, _, err := c.Bookings.GetMany(inboxCtx, ids); err != nil {
				b.Fatal(err)
			}
		}
		round = time.Since(start) / time.Duration(b.N)
	})
	b.Run("directory", func(b *testing.B) {
		before := s.total()
		start := time.Now()
		for b.Loop() {
			if _, err := c.Directory(inboxCtx, convs); err != nil {
				b.Fatal(err)
			}
		}
		took := float64(time.Since(start)) / float64(b.N)
		b.ReportMetric(took/float64(2*round), "x-rounds")
		b.ReportMetric(took/float64(4*round), "x-sequential")
		b.ReportMetric(float64(s.total()-before)/float64(b.N), "requests/op")
	})
}
