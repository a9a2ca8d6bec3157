package bookingsync

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCreatingAConversationIsRefusedAndSendsNothing(t *testing.T) {
	_, mux, srv := setup(t)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { serveJSON(w, 201, []byte(`{}`)) })
	c := srv.client(t)
	ctx := context.Background()
	body := fixture(t, "conversations/create-request.json")

	for _, p := range []string{"inbox/conversations", "/inbox/conversations/", "inbox//conversations", "Inbox/Conversations", "inbox/conversations.json", "inbox/conversations?x=1", "inbox/messages/../conversations"} {
		req, err := c.NewRequest(ctx, "POST", p, json.RawMessage(body))
		require.NoError(t, err)
		_, err = c.Do(req, nil)
		require.ErrorIs(t, err, ErrRefused, p)
		var re *RefusedError
		require.ErrorAs(t, err, &re)
		assert.Contains(t, err.Error(), "would not reach the guest's channel")
		assert.Contains(t, err.Error(), "instead, fetch the conversation the channel created")
	}

	// A request built by hand, outside NewRequest, goes through the same guard.
	req, _ := http.NewRequestWithContext(ctx, "post", srv.URL+"/api/v3/inbox/conversations", bytes.NewReader(body))
	_, err := c.Do(req, nil)
	assert.ErrorIs(t, err, ErrRefused)

	assert.Empty(t, srv.requests(), "a refusal sends nothing")

	// Other writes to conversations go through.
	req, _ = c.NewRequest(ctx, "PUT", "inbox/conversations/5", map[string]any{"conversations": []any{map[string]any{"closed": true}}})
	_, err = c.Do(req, nil)
	require.NoError(t, err)
	assert.Len(t, srv.requests(), 1)
}

func TestCreatingAClientParticipantIsRefused(t *testing.T) {
	_, mux, srv := setup(t)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { serveJSON(w, 201, []byte(`{}`)) })
	c := srv.client(t)
	ctx := context.Background()
	for _, body := range []string{
		`{"participants":[{"conversation_id":3,"member_id":5,"member_type":"Client"}]}`,
		`{"participants":[{"conversation_id":3,"member_id":5,"member_type":" CLIENT "}]}`,
		`{"participant":{"member_type":"client"}}`,
		`{"participants":[{"member":{"id":5,"type":"Client"}}]}`,
		`participants[][member_type]=client&participants[][member_id]=5`,
	} {
		req, err := http.NewRequestWithContext(ctx, "POST", srv.URL+"/api/v3/inbox/participants", strings.NewReader(body))
		require.NoError(t, err)
		_, err = c.Do(req, nil)
		assert.ErrorIs(t, err, ErrRefused, body)
		assert.ErrorContains(t, err, "created and managed by the channel")
	}
	assert.Empty(t, srv.requests())

	req, _ := c.NewRequest(ctx, "POST", "inbox/participants", map[string]any{"participants": []any{map[string]any{"conversation_id": 3, "member_id": 5, "member_type": "Host"}}})
	_, err := c.Do(req, nil)
	require.NoError(t, err)
	reqs := srv.requests()
	require.Len(t, reqs, 1)
	assert.Contains(t, string(reqs[0].Body), `"member_type":"Host"`, "the body survives inspection")
}
