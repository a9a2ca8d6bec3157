package bookingsync

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func hostMessage(sender int64) *NewMessage {
	return &NewMessage{ConversationID: 7, SenderID: sender, Content: "Hello", Origin: OriginBookingSyncInbox, Visibility: VisibilityExternal}
}

func TestMessagesCreateRefusesClientSender(t *testing.T) {
	t.Parallel()
	c, _, s := setup(t)
	handleParticipant(s, MemberTypeClient)
	handleMessageEcho(s)
	for i := range 3 {
		_, _, err := c.Messages.Create(inboxCtx, hostMessage(30))
		var re *RefusedError
		require.ErrorIs(t, err, ErrRefused, "call %d", i)
		require.ErrorAs(t, err, &re, "call %d", i)
		for _, want := range []string{"Client", "only Host participants send", "SendAsHost", "EnsureHost"} {
			assert.Contains(t, err.Error(), want, "refusal %q does not say %q", err, want)
		}
	}
	n := s.count("POST", "inbox/messages")
	assert.EqualValues(t, 0, n, "%d messages POSTed, want 0", n)
	n = s.count("GET", "inbox/participants/30")
	assert.EqualValues(t, 1, n, "sender read %d times, want once", n)
}

func TestMessagesCreateReadsEachSenderOnce(t *testing.T) {
	t.Parallel()
	c, _, s := setup(t)
	handleParticipant(s, MemberTypeHost)
	handleMessageEcho(s)
	for _, sender := range []int64{31, 32, 31, 32, 31} {
		_, _, err := c.Messages.Create(inboxCtx, hostMessage(sender))
		require.NoError(t, err)
	}
	n := s.count("GET", "inbox/participants/")
	assert.EqualValues(t, 2, n, "%d participant reads for 2 senders, want 2", n)
	n = s.count("POST", "inbox/messages")
	assert.EqualValues(t, 5, n, "%d messages sent, want 5", n)
}

// Concurrent first sends by the same participant share one read; the
// client's refusal holds for every one of them.
func TestMessagesCreateConcurrentSendersShareOneRead(t *testing.T) {
	t.Parallel()
	c, _, s := setup(t)
	s.mux.HandleFunc("GET /inbox/participants/{id}", func(w http.ResponseWriter, r *http.Request) {
		typ := MemberTypeHost
		if r.PathValue("id") == "30" {
			typ = MemberTypeClient
		}
		id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
		answer(w, 200, inboxEnvelope("participants", inboxMember{ID: id, MemberID: 1, MemberType: typ}.json(7)))
	})
	handleMessageEcho(s)
	var wg sync.WaitGroup
	var mu sync.Mutex
	refused := 0
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sender := int64(30 + i%2) // 30 the guest, 31 a host
			_, _, err := c.Messages.Create(context.Background(), hostMessage(sender))
			switch {
			case sender == 30 && errors.Is(err, ErrRefused):
				mu.Lock()
				refused++
				mu.Unlock()
			default:
				assert.NoError(t, err, "sender %d", sender)
			}
		}()
	}
	wg.Wait()
	assert.EqualValues(t, 20, refused, "%d guest sends refused, want 20", refused)
	n := s.count("GET", "inbox/participants/")
	assert.EqualValues(t, 2, n, "%d participant reads, want 2 (one per participant)", n)
	for _, r := range s.requests() {
		require.False(t, r.Method == "POST" && strings.Contains(string(r.Body), `"sender_id":30`), "a guest's message was sent: %s", r.Body)
	}
}

// The rule lives in Client.Do: a caller's own request is held to it, and
// what cannot be read fails closed.
func TestCallersOwnMessageRequestIsChecked(t *testing.T) {
	t.Parallel()
	c, _, s := setup(t)
	handleParticipant(s, MemberTypeClient)
	handleMessageEcho(s)
	for name, body := range map[string]any{
		"client sender":           map[string]any{"messages": []any{map[string]any{"sender_id": 30, "content": "x"}}},
		"client sender as string": map[string]any{"message": map[string]any{"SENDER_ID": "30"}},
		"sender not an id":        map[string]any{"messages": []any{map[string]any{"sender_id": map[string]any{"id": 31}}}},
		"sender null":             map[string]any{"messages": []any{map[string]any{"sender_id": nil}}},
	} {
		req, err := c.NewRequest(inboxCtx, "POST", "inbox/messages", body)
		require.NoError(t, err)
		_, err = c.Do(req, nil)
		assert.ErrorIs(t, err, ErrRefused, "%s: err = %v, want ErrRefused", name, err)
	}
	for _, body := range []string{"messages[][sender_id]=31", `{"messages":[{"sender_id":31}]} {"messages":[{"sender_id":30}]}`} {
		raw, _ := http.NewRequest("POST", c.APIURL().String()+"inbox/messages", strings.NewReader(body))
		_, err := c.Do(raw, nil)
		assert.ErrorIs(t, err, ErrRefused, "body %q: err = %v, want ErrRefused", body, err)
	}
	// Read as the API would: by Content-Type, with the query string.
	for _, tc := range []struct{ ct, query, body string }{
		{"application/x-www-form-urlencoded", "", "messages[][sender_id]=30&messages[][content]=x"},
		{"application/x-www-form-urlencoded", "", `"sender_id=30"`}, // a JSON string, but a form to the server
		{mediaType, "?messages[][sender_id]=30", `{"messages":[{"content":"x"}]}`},
		{"application/x-www-form-urlencoded", "", "_method=post&messages[][sender_id]=30"}, // sent as a GET below
	} {
		method := "POST"
		if strings.Contains(tc.body, "_method") {
			method = "GET"
		}
		raw, _ := http.NewRequest(method, c.APIURL().String()+"inbox/messages"+tc.query, strings.NewReader(tc.body))
		raw.Header.Set("Content-Type", tc.ct)
		_, err := c.Do(raw, nil)
		assert.ErrorIs(t, err, ErrRefused, "%+v: err = %v, want ErrRefused", tc, err)
	}
	req, _ := c.NewRequest(inboxCtx, "PUT", "inbox/messages/5", map[string]any{"messages": []any{map[string]any{"sender_id": 30}}})
	_, err := c.Do(req, nil)
	assert.ErrorIs(t, err, ErrRefused, "PUT with a client sender: err = %v, want ErrRefused", err)
	n := s.count("POST", "inbox/messages") + s.count("PUT", "inbox/messages")
	assert.EqualValues(t, 0, n, "%d message writes reached the server", n)
}

func TestMessagesCreateUnknownSenderSendsNothing(t *testing.T) {
	t.Parallel()
	c, _, s := setup(t)
	handleMessageEcho(s)
	_, _, err := c.Messages.Create(inboxCtx, hostMessage(999))
	assert.ErrorIs(t, err, ErrNotFound)
	assert.ErrorContains(t, err, "nothing was sent")
	n := s.count("POST", "inbox/messages")
	assert.EqualValues(t, 0, n, "%d messages POSTed, want 0", n)
}

func TestSendAsHostAfterAddingTheHostReadsNoSender(t *testing.T) {
	t.Parallel()
	c, _, s := setup(t)
	conv := &inboxConversation{ID: 3, Sideload: true}
	conv.add(5, MemberTypeClient)
	conv.register(s)
	handleMessageEcho(s)
	for range 2 {
		_, err := c.Messages.SendAsHost(inboxCtx, 3, 42, &NewMessage{Content: "Hi"})
		require.NoError(t, err)
	}
	p, err := c.Participants.EnsureHost(inboxCtx, 3, 42)
	require.NoError(t, err)
	_, _, err = c.Messages.Create(inboxCtx, &NewMessage{ConversationID: 3, SenderID: p.ID, Content: "Again", Origin: OriginEmail, Visibility: VisibilityExternal})
	require.NoError(t, err)
	// The guest's participant, seen in the conversation, is known too.
	_, _, err = c.Messages.Create(inboxCtx, hostMessage(101))
	assert.ErrorIs(t, err, ErrRefused, "guest sender: err = %v, want ErrRefused", err)
	n := s.count("GET", "inbox/participants/")
	assert.EqualValues(t, 0, n, "%d participant reads, want 0", n)
}

// The cache stays bounded however many participants a process sees.
func TestSenderCacheIsBounded(t *testing.T) {
	t.Parallel()
	var sc senderCache
	for id := int64(1); id <= maxKnown+500; id++ {
		sc.remember(&Participant{ID: id, Links: ParticipantLinks{Member: Polymorphic{ID: 1, Type: string(MemberTypeHost)}}})
	}
	n := len(sc.types.m)
	assert.EqualValues(t, maxKnown, n, "%d entries, want %d", n, maxKnown)
	typ, ok := sc.types.get(maxKnown + 500)
	assert.True(t, ok, "newest entry lost")
	assert.Equal(t, string(MemberTypeHost), typ, "newest entry")
}

// FuzzSenderIDs: reading the senders of any body never panics, and what
// it reads are ids, or the body is refused.
func FuzzSenderIDs(f *testing.F) {
	for _, seed := range []struct{ ct, query, body string }{
		{mediaType, "", `{"messages":[{"sender_id":31,"content":"x"}]}`},
		{"application/json", "", `{"message":{"sender_id":"31"}}`},
		{mediaType, "", `{"messages":[{"sender_id":null}]}`},
		{mediaType, "", `{"messages":[{"sender_id":1e3}]}`},
		{mediaType, "messages[][sender_id]=30", `[[[{"SENDER_ID":" 7 "}]]]`},
		{"application/x-www-form-urlencoded", "", `messages[][sender_id]=31`},
		{"", "", `"sender_id=30"`},
		{"", "", ``},
	} {
		f.Add(seed.ct, seed.query, []byte(seed.body))
	}
	f.Fuzz(func(t *testing.T, ct, query string, body []byte) {
		method := http.MethodPost
		h := http.Header{}
		if ct != "" {
			h.Set("Content-Type", ct)
		}
		u := &url.URL{Path: "/api/v3/inbox/messages", RawQuery: query}
		ids, err := senderIDs(method, h, u, body)
		if err != nil {
			return
		}
		for _, id := range ids {
			require.False(t, id <= 0, "senderIDs(%q, %q, %q) = %v: not an id", ct, query, body, ids)
		}
	})
}

// Participants the client has read, or seen sideloaded with their
// conversation, cost the sender check no read.
func TestSenderCheckUsesParticipantsAlreadyRead(t *testing.T) {
	t.Parallel()
	c, _, s := setup(t)
	conv := &inboxConversation{ID: 3, Sideload: true}
	guest := conv.add(37, MemberTypeClient)
	host := conv.add(42, MemberTypeHost)
	conv.register(s)
	handleMessageEcho(s)
	_, _, err := c.Conversations.GetWith(inboxCtx, 3, &ConversationGetOptions{Include: []string{"participants"}})
	require.NoError(t, err)
	_, _, err = c.Messages.Create(inboxCtx, hostMessage(host))
	require.NoError(t, err)
	_, _, err = c.Messages.Create(inboxCtx, hostMessage(guest))
	assert.ErrorIs(t, err, ErrRefused, "guest sender: err = %v, want ErrRefused", err)
	n := s.count("GET", "inbox/participants")
	assert.EqualValues(t, 0, n, "%d participant reads, want 0", n)

	other := conv.add(43, MemberTypeHost)
	_, _, err = c.Participants.GetMany(inboxCtx, []int64{other})
	require.NoError(t, err)
	_, _, err = c.Messages.Create(inboxCtx, hostMessage(other))
	require.NoError(t, err)
	n = s.count("GET", "inbox/participants")
	assert.EqualValues(t, 1, n, "%d participant reads, want 1 (the GetMany)", n)
}

// BenchmarkSenderCheck measures what the Only-Hosts-send check adds to a
// message create whose sender is known: the same POST with and without
// the check (a path the check does not cover), against a loopback server.
// Report the ratio check/baseline.
func BenchmarkSenderCheck(b *testing.B) {
	c, mux, _ := setup(b)
	created := fixture(b, "messages/inbox_write-scope-response.json")
	reply := func(w http.ResponseWriter, r *http.Request) { answer(w, 201, string(created)) }
	mux.HandleFunc("POST /inbox/messages", reply)
	mux.HandleFunc("POST /baseline/notes", reply)
	c.senders.remember(&Participant{ID: 31, Links: ParticipantLinks{Member: Polymorphic{ID: 1, Type: string(MemberTypeHost)}}})
	body := envelope{"messages", hostMessage(31)}
	for _, path := range []string{"inbox/messages", "baseline/notes"} {
		name := map[string]string{"inbox/messages": "check", "baseline/notes": "baseline"}[path]
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				req, err := c.NewRequest(context.Background(), http.MethodPost, path, body)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := c.Do(req, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
