package bookingsync

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// inboxEnvelope wraps raw JSON objects in the API's envelope.
func inboxEnvelope(key string, items ...string) string {
	return fmt.Sprintf(`{"links":{"%s.account":"https://www.bookingsync.com/api/v3/accounts/{%s.account}"},"%s":[%s],"meta":{}}`,
		key, key, key, strings.Join(items, ","))
}

// decodeInboxJSON decodes b into a generic value.
func decodeInboxJSON(t *testing.T, b []byte) any {
	t.Helper()
	var v any
	require.NoError(t, json.Unmarshal(b, &v), "decoding %q", b)
	return v
}

// assertSameJSON fails unless want and got decode to equal values.
func assertSameJSON(t *testing.T, want, got []byte) {
	t.Helper()
	w, g := decodeInboxJSON(t, want), decodeInboxJSON(t, got)
	assert.Equal(t, g, w, "body mismatch\n got: %s\nwant: %s", got, want)
}

// inboxBodyItem returns the single object of a {"key": [obj]} body.
func inboxBodyItem(t *testing.T, body []byte, key string) map[string]any {
	t.Helper()
	var env map[string][]map[string]any
	require.NoError(t, json.Unmarshal(body, &env), "request body %s", body)
	require.Len(t, env, 1, "request body %s: want {%q: [one object]}", body, key)
	require.Len(t, env[key], 1, "request body %s: want {%q: [one object]}", body, key)
	return env[key][0]
}

// assertNothingSent checks err wraps target and the server saw no request.
func assertNothingSent(t *testing.T, s *testServer, err, target error) {
	t.Helper()
	assert.ErrorIs(t, err, target, "err = %v, want one wrapping %v", err, target)
	n := s.total()
	assert.EqualValues(t, 0, n, "server received %d requests, want 0: %+v", n, s.requests())
}

var inboxCtx = context.Background()

// inboxMember is a participant held by inboxConversation.
type inboxMember struct {
	ID, MemberID int64
	MemberType   MemberType
}

func (m inboxMember) json(conversationID int64) string {
	return fmt.Sprintf(`{"links":{"conversation":%d,"member":{"id":%d,"type":%q}},"id":%d,"created_at":"2018-12-21T10:42:17Z","updated_at":"2018-12-21T10:42:17Z","last_message_sent_at":null,"read_at":null}`,
		conversationID, m.MemberID, m.MemberType, m.ID)
}

// inboxConversation is one conversation and its participants, served
// statefully: GET /inbox/conversations/{id} (sideloading participants when
// asked and Sideload is set), GET /inbox/participants/{ids} and POST
// /inbox/participants, which adds a participant.
type inboxConversation struct {
	ID       int64
	Sideload bool

	mu      sync.Mutex
	members []inboxMember
	nextID  int64
}

func (c *inboxConversation) add(memberID int64, memberType MemberType) int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.nextID++
	id := 100 + c.nextID
	c.members = append(c.members, inboxMember{ID: id, MemberID: memberID, MemberType: memberType})
	return id
}

func (c *inboxConversation) register(s *testServer) {
	s.mux.HandleFunc("GET /inbox/conversations/{id}", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("id") != strconv.FormatInt(c.ID, 10) {
			answer(w, http.StatusNotFound, `{"errors":[{"code":"not_found"}]}`)
			return
		}
		c.mu.Lock()
		ids, objs := []string{}, []string{}
		for _, m := range c.members {
			ids = append(ids, strconv.FormatInt(m.ID, 10))
			objs = append(objs, m.json(c.ID))
		}
		c.mu.Unlock()
		conv := fmt.Sprintf(`{"links":{"account":1,"assignee":null,"bookings":[],"inquiries":[],"source":null,"messages":[],"participants":[%s]},"id":%d,"subject":"Stay","default_channel":"airbnb","created_at":"2018-12-20T14:25:57Z","updated_at":"2018-12-20T14:25:57Z"`,
			strings.Join(ids, ","), c.ID)
		if c.Sideload && r.URL.Query().Get("include") == "participants" {
			conv += `,"participants":[` + strings.Join(objs, ",") + `]`
		}
		answer(w, http.StatusOK, inboxEnvelope("conversations", conv+"}"))
	})
	s.mux.HandleFunc("GET /inbox/participants/{ids}", func(w http.ResponseWriter, r *http.Request) {
		want := map[string]bool{}
		for _, id := range strings.Split(r.PathValue("ids"), ",") {
			want[id] = true
		}
		c.mu.Lock()
		var objs []string
		for _, m := range c.members {
			if want[strconv.FormatInt(m.ID, 10)] {
				objs = append(objs, m.json(c.ID))
			}
		}
		c.mu.Unlock()
		answer(w, http.StatusOK, inboxEnvelope("participants", objs...))
	})
	s.mux.HandleFunc("POST /inbox/participants", func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Participants []NewParticipant `json:"participants"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil || len(body.Participants) != 1 || body.Participants[0].ConversationID != c.ID {
			answer(w, http.StatusUnprocessableEntity, `{"errors":{"conversation_id":["is invalid"]}}`)
			return
		}
		p := body.Participants[0]
		id := c.add(p.MemberID, p.MemberType)
		answer(w, http.StatusCreated, inboxEnvelope("participants", inboxMember{ID: id, MemberID: p.MemberID, MemberType: p.MemberType}.json(c.ID)))
	})
}
