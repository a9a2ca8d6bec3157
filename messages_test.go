package bookingsync

import (
	"encoding/json"
	"net/http"
	"strconv"
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
	assert.EqualValues(t, 5, m.ID)
	assert.Equal(t, "Some content.", m.Content)
	assert.Equal(t, OriginEmail, m.Origin)
	assert.Equal(t, VisibilityExternal, m.Visibility)
	assert.Empty(t, m.Channel, "null channel")
	assert.Nil(t, m.SentAt, "null sent_at")
	assert.EqualValues(t, 7, m.Links.Conversation)
	require.NotNil(t, m.Links.Sender)
	assert.EqualValues(t, 5, *m.Links.Sender)
	assert.Empty(t, m.Links.Attachments)

	got, _, err := c.Messages.Get(inboxCtx, 5)
	require.NoError(t, err)
	assert.Equal(t, ChannelEmail, got.Channel)
	assert.NotNil(t, got.SentAt)
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
	assert.Equal(t, VisibilityAll, m.Visibility, "unknown visibility")
	assert.EqualValues(t, "carrier_pigeon", m.Origin, "unknown origin")
	assert.EqualValues(t, "telegram", m.Channel, "unknown channel")
	assert.Nil(t, m.Links.Sender)
	assert.Equal(t, Polymorphic{ID: 65, Type: "Doorkeeper::Application"}, m.CreatedBy)
	assert.EqualValues(t, 7, list[1].ID, "sparse message")
	assert.Empty(t, list[1].Content, "sparse message")
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
	assert.EqualValues(t, 5, m.ID)
	assert.Equal(t, "Message Content", m.Content)
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
			if err != nil {
				assert.ErrorContains(t, err, tc.want)
			}
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
	require.NoError(t, err)
	assert.EqualValues(t, 5, m.ID)
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
	require.Len(t, m.Links.Attachments, 1)
	assert.EqualValues(t, 5, m.Links.Attachments[0])
	r := s.last("PUT", "inbox/messages/")
	assert.EqualValues(t, "/api/v3/inbox/messages/5/add_attachment", r.Path, "path %q", r.Path)
	assertSameJSON(t, fixture(t, "messages/add_attachment-request.json"), r.Body)
	_, _, err = c.Messages.AddAttachment(inboxCtx, 5, 0)
	assert.ErrorIs(t, err, ErrInvalidRequest, "attachment 0")
	assert.Equal(t, 1, s.total(), "attachment 0: requests")
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
	require.NotNil(t, m.Links.Sender)
	assert.EqualValues(t, hostPart, *m.Links.Sender, "sender")
	assert.EqualValues(t, 3, m.Links.Conversation)
	got := inboxBodyItem(t, s.last("POST", "inbox/messages").Body, "messages")
	assert.Equal(t, string(OriginBookingSyncInbox), got["origin"])
	assert.Equal(t, string(VisibilityExternal), got["visibility"])
	assert.Equal(t, float64(hostPart), got["sender_id"])
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
	require.NotNil(t, m.Links.Sender)
	assert.EqualValues(t, 102, *m.Links.Sender, "want the new participant")
	got := inboxBodyItem(t, s.last("POST", "inbox/messages").Body, "messages")
	assert.Equal(t, "email", got["origin"], "explicit origin not kept")
	assert.Equal(t, "internal", got["visibility"], "explicit visibility not kept")
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
