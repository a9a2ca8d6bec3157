package bookingsync

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMessagesReadFixtures(t *testing.T) {
	t.Parallel()
	c, _, s := setup(t)
	s.mux.HandleFunc("GET /inbox/messages", serveFixture(t, 200, "messages/inbox_read-inbox_write-scope-response.json"))
	s.mux.HandleFunc("GET /inbox/messages/{ids}", serveFixture(t, 200, "messages/inbox_write-scope-response.json"))

	list, _, err := c.Messages.List(inboxCtx, nil)
	require.NoError(t, err)
	require.Len(t, list, 1, "%d messages", len(list))
	m := list[0]
	assert.False(t, m.ID != 5 || m.Content != "Some content." || m.Origin != OriginEmail || m.Visibility != VisibilityExternal, "List: %+v", m)
	assert.False(t, m.Channel != "" || m.SentAt != nil, "null channel/sent_at decoded as %q/%v", m.Channel, m.SentAt)
	assert.False(t, m.Links.Conversation != 7 || m.Links.Sender == nil || *m.Links.Sender != 5 || len(m.Links.Attachments) != 0, "links %+v", m.Links)

	got, _, err := c.Messages.Get(inboxCtx, 5)
	require.False(t, err != nil || got.Channel != ChannelEmail || got.SentAt == nil, "Get: %+v, %v", got, err)
	_, _, err = c.Messages.GetMany(inboxCtx, []int64{5, 6})
	require.NoError(t, err)
	p := s.last("GET", "inbox/messages/").Path
	assert.EqualValues(t, "/api/v3/inbox/messages/5,6", p, "GetMany path %q", p)
}

func TestMessagesOddities(t *testing.T) {
	t.Parallel()
	c, _, s := setup(t)
	s.mux.HandleFunc("GET /inbox/messages", func(w http.ResponseWriter, r *http.Request) {
		answer(w, 200, inboxEnvelope("messages",
			`{"links":{"attachments":[1],"conversation":7,"sender":null},"id":6,"content":"hi","origin":"carrier_pigeon","visibility":"all","channel":"telegram","sent_at":null,"created_by_id":"65","created_by_type":"Doorkeeper::Application","unknown":{"x":1}}`,
			`{"id":7}`,
		))
	})
	list, _, err := c.Messages.List(inboxCtx, nil)
	require.NoError(t, err)
	m := list[0]
	assert.False(t, m.Visibility != VisibilityAll || m.Origin != "carrier_pigeon" || m.Channel != "telegram", "unknown enums: %q %q %q", m.Visibility, m.Origin, m.Channel)
	assert.False(t, m.Links.Sender != nil || m.CreatedBy != (Polymorphic{ID: 65, Type: "Doorkeeper::Application"}), "sender %v, created by %+v", m.Links.Sender, m.CreatedBy)
	assert.False(t, list[1].ID != 7 || list[1].Content != "", "sparse message %+v", list[1])
}

// fixtureMessage is the message of messages/create-request.json.
func fixtureMessage() *NewMessage {
	return &NewMessage{
		ConversationID: 7,
		SenderID:       5,
		Content:        "Message Content",
		Origin:         OriginEmail,
		Visibility:     VisibilityExternal,
		Channel:        ChannelEmail,
		SentAt:         time.Date(2018, 12, 21, 10, 21, 52, 0, time.FixedZone("CET", 3600)),
		AttachmentIDs:  []int64{1, 3, 6},
	}
}

// handleParticipant answers GET /inbox/participants/{id} with a
// participant of the given member type.
func handleParticipant(s *testServer, memberType MemberType) {
	s.mux.HandleFunc("GET /inbox/participants/{id}", func(w http.ResponseWriter, r *http.Request) {
		id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
		answer(w, 200, inboxEnvelope("participants", inboxMember{ID: id, MemberID: 37, MemberType: memberType}.json(7)))
	})
}

func TestMessagesCreateBodyMatchesFixture(t *testing.T) {
	t.Parallel()
	c, _, s := setup(t)
	handleParticipant(s, MemberTypeHost)
	s.mux.HandleFunc("POST /inbox/messages", serveFixture(t, 201, "messages/inbox_write-scope-response.json"))
	in := fixtureMessage()
	m, _, err := c.Messages.Create(inboxCtx, in)
	require.NoError(t, err)
	assert.False(t, m.ID != 5 || m.Content != "Message Content", "created %+v", m)
	assertSameJSON(t, fixture(t, "messages/create-request.json"), s.last("POST", "inbox/messages").Body)
	assert.EqualValues(t, "CET", in.SentAt.Location().String(), "Create changed the caller's message")
}

func TestMessagesCreateZeroSentAtIsNow(t *testing.T) {
	t.Parallel()
	c, _, s := setup(t)
	c.now = func() time.Time { return time.Date(2024, 3, 1, 9, 30, 15, 999, time.FixedZone("X", -7200)) }
	handleParticipant(s, MemberTypeHost)
	s.mux.HandleFunc("POST /inbox/messages", serveFixture(t, 201, "messages/inbox_write-scope-response.json"))
	in := &NewMessage{ConversationID: 7, SenderID: 5, Content: "hello", Origin: OriginBookingSyncInbox, Visibility: VisibilityInternal}
	_, _, err := c.Messages.Create(inboxCtx, in)
	require.NoError(t, err)
	got := inboxBodyItem(t, s.last("POST", "inbox/messages").Body, "messages")
	assert.EqualValues(t, "2024-03-01T11:30:15Z", got["sent_at"], "sent_at = %v, want the clock's time in UTC", got["sent_at"])
	_, ok := got["channel"]
	assert.False(t, ok, "empty channel sent: %v", got)
	_, ok = got["attachment_ids"]
	assert.False(t, ok, "empty attachment ids sent: %v", got)
	assert.True(t, in.SentAt.IsZero(), "Create set the caller's SentAt")
}

func TestMessagesCreateValidation(t *testing.T) {
	t.Parallel()
	mod := func(f func(*NewMessage)) *NewMessage { m := fixtureMessage(); f(m); return m }
	cases := []struct {
		name, want string
		m          *NewMessage
	}{
		{"nil", "nil", nil},
		{"conversation", "conversation", mod(func(m *NewMessage) { m.ConversationID = 0 })},
		{"sender", "sender", mod(func(m *NewMessage) { m.SenderID = 0 })},
		{"content", "content", mod(func(m *NewMessage) { m.Content = "" })},
		{"blank content", "content", mod(func(m *NewMessage) { m.Content = " \n\t" })},
		{"origin", "origin", mod(func(m *NewMessage) { m.Origin = "" })},
		{"visibility", "visibility", mod(func(m *NewMessage) { m.Visibility = "" })},
		{"internal with channel", "internal", mod(func(m *NewMessage) { m.Visibility = VisibilityInternal })},
		{"attachment id", "attachment id", mod(func(m *NewMessage) { m.AttachmentIDs = []int64{1, 0} })},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, _, s := setup(t)
			_, _, err := c.Messages.Create(inboxCtx, tc.m)
			assertNothingSent(t, s, err, ErrInvalidRequest)
			assert.False(t, err != nil && !strings.Contains(err.Error(), tc.want), "err %q does not mention %q", err, tc.want)
		})
	}
	t.Run("all at once", func(t *testing.T) {
		c, _, s := setup(t)
		_, _, err := c.Messages.Create(inboxCtx, &NewMessage{})
		assertNothingSent(t, s, err, ErrInvalidRequest)
		for _, w := range []string{"conversation", "sender", "content", "origin", "visibility"} {
			assert.Contains(t, err.Error(), w, "err %q does not mention %q", err, w)
		}
	})
}

func TestMessagesUpdate(t *testing.T) {
	t.Parallel()
	c, _, s := setup(t)
	s.mux.HandleFunc("PUT /inbox/messages/{id}", serveFixture(t, 200, "messages/inbox_write-scope-response.json"))
	m, _, err := c.Messages.Update(inboxCtx, 5, &MessageUpdate{
		Origin:        Ptr(OriginEmail),
		Visibility:    Ptr(VisibilityExternal),
		Channel:       Ptr(ChannelEmail),
		AttachmentIDs: []int64{1, 3, 6},
	})
	require.False(t, err != nil || m.ID != 5, "Update: %+v, %v", m, err)
	r := s.last("PUT", "inbox/messages/")
	assert.EqualValues(t, "/api/v3/inbox/messages/5", r.Path, "path %q", r.Path)
	assertSameJSON(t, fixture(t, "messages/update-request.json"), r.Body)

	for name, u := range map[string]*MessageUpdate{
		"internal with channel": {Visibility: Ptr(VisibilityInternal), Channel: Ptr(ChannelAirbnb)},
		"empty content":         {Content: Ptr("")},
		"bad attachment":        {AttachmentIDs: []int64{-1}},
	} {
		before := s.total()
		_, _, err := c.Messages.Update(inboxCtx, 5, u)
		assert.ErrorIs(t, err, ErrInvalidRequest, "%s: err = %v", name, err)
		assert.EqualValues(t, before, s.total(), "%s: a request was sent", name)
	}
}

func TestMessagesAddAttachment(t *testing.T) {
	t.Parallel()
	c, _, s := setup(t)
	s.mux.HandleFunc("PUT /inbox/messages/{id}/add_attachment", serveFixture(t, 200, "messages/add_attachment-inbox_write-scope-response.json"))
	m, _, err := c.Messages.AddAttachment(inboxCtx, 5, 5)
	require.NoError(t, err)
	assert.False(t, len(m.Links.Attachments) != 1 || m.Links.Attachments[0] != 5, "attachments %v", m.Links.Attachments)
	r := s.last("PUT", "inbox/messages/")
	assert.EqualValues(t, "/api/v3/inbox/messages/5/add_attachment", r.Path, "path %q", r.Path)
	assertSameJSON(t, fixture(t, "messages/add_attachment-request.json"), r.Body)
	_, _, err = c.Messages.AddAttachment(inboxCtx, 5, 0)
	assert.False(t, !errors.Is(err, ErrInvalidRequest) || s.total() != 1, "attachment 0: err %v, %d requests", err, s.total())
}

// handleMessageEcho answers POST /inbox/messages with the message sent.
func handleMessageEcho(s *testServer) {
	s.mux.HandleFunc("POST /inbox/messages", func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Messages []struct {
				ConversationID int64  `json:"conversation_id"`
				SenderID       int64  `json:"sender_id"`
				Content        string `json:"content"`
				Origin         string `json:"origin"`
				Visibility     string `json:"visibility"`
			} `json:"messages"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil || len(body.Messages) != 1 {
			answer(w, 422, `{"errors":{"messages":["missing"]}}`)
			return
		}
		m := body.Messages[0]
		out, _ := json.Marshal(map[string]any{
			"links": map[string]any{"conversation": m.ConversationID, "sender": m.SenderID, "attachments": []int64{}},
			"id":    900, "content": m.Content, "origin": m.Origin, "visibility": m.Visibility, "channel": nil,
			"sent_at": "2024-03-01T11:30:15Z",
		})
		answer(w, 201, inboxEnvelope("messages", string(out)))
	})
}

func TestSendAsHostReusesExistingHostParticipant(t *testing.T) {
	t.Parallel()
	c, _, s := setup(t)
	conv := &inboxConversation{ID: 3, Sideload: true}
	conv.add(5, MemberTypeClient)
	hostPart := conv.add(42, MemberTypeHost)
	conv.register(s)
	handleMessageEcho(s)

	in := &NewMessage{Content: "Welcome!"}
	m, err := c.Messages.SendAsHost(inboxCtx, 3, 42, in)
	require.NoError(t, err)
	n := s.count("POST", "inbox/participants")
	assert.EqualValues(t, 0, n, "%d participant POSTs, want 0", n)
	assert.False(t, m.Links.Sender == nil || *m.Links.Sender != hostPart || m.Links.Conversation != 3, "message %+v, want sent by participant %d", m.Links, hostPart)
	got := inboxBodyItem(t, s.last("POST", "inbox/messages").Body, "messages")
	assert.False(t, got["origin"] != string(OriginBookingSyncInbox) || got["visibility"] != string(VisibilityExternal) || got["sender_id"] != float64(hostPart), "sent %v", got)
	assert.Equal(t, NewMessage{Content: "Welcome!"}, *in, "SendAsHost changed the caller's message: %+v", in)
	n = s.total()
	assert.EqualValues(t, 2, n, "%d requests, want 2 (read participants, send)", n)
}

func TestSendAsHostCreatesMissingHostParticipant(t *testing.T) {
	t.Parallel()
	c, _, s := setup(t)
	conv := &inboxConversation{ID: 3, Sideload: true}
	conv.add(5, MemberTypeClient)
	conv.register(s)
	handleMessageEcho(s)

	m, err := c.Messages.SendAsHost(inboxCtx, 3, 42, &NewMessage{Content: "Note", Visibility: VisibilityInternal, Origin: OriginEmail})
	require.NoError(t, err)
	n := s.count("POST", "inbox/participants")
	require.EqualValues(t, 1, n, "%d participant POSTs, want 1", n)
	assertSameJSON(t, []byte(`{"participants":[{"conversation_id":3,"member_id":42,"member_type":"Host"}]}`), s.last("POST", "inbox/participants").Body)
	assert.False(t, m.Links.Sender == nil || *m.Links.Sender != 102, "sender %v, want the new participant 102", m.Links.Sender)
	got := inboxBodyItem(t, s.last("POST", "inbox/messages").Body, "messages")
	assert.False(t, got["origin"] != "email" || got["visibility"] != "internal", "explicit origin/visibility not kept: %v", got)
}

func TestSendAsHostValidatesFirst(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		conv, host int64
		m          *NewMessage
	}{
		"nil message":           {3, 42, nil},
		"no content":            {3, 42, &NewMessage{}},
		"no conversation":       {0, 42, &NewMessage{Content: "x"}},
		"no host":               {3, 0, &NewMessage{Content: "x"}},
		"internal with channel": {3, 42, &NewMessage{Content: "x", Visibility: VisibilityInternal, Channel: ChannelAirbnb}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c, _, s := setup(t)
			_, err := c.Messages.SendAsHost(inboxCtx, tc.conv, tc.host, tc.m)
			assertNothingSent(t, s, err, ErrInvalidRequest)
		})
	}
}
