package bookingsync

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A null where a record belongs fails the page with a *DecodeError, on
// both decoding paths (a typed page, the envelope walk) and in sideloads:
// no record reaches the caller as nil, no page comes back short.
func TestNullRecordsFailThePage(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, body, want string
		list             func(*Client) (int, error)
	}{
		{"typed page", `{"conversations":[{"id":1},null]}`, "conversations[1] is null", func(c *Client) (int, error) {
			cs, _, err := c.Conversations.List(context.Background(), nil)
			return len(cs), err
		}},
		{"sideload", `{"conversations":[{"id":1,"participants":[{"id":2},null]}]}`, "conversations[0]: participants[1] is null", func(c *Client) (int, error) {
			cs, _, err := c.Conversations.List(context.Background(), nil)
			return len(cs), err
		}},
		{"walk", `{"links":{},"participants":[null,{"id":2}],"meta":{}}`, "participants[0] is null", func(c *Client) (int, error) {
			ps, _, err := c.Participants.List(context.Background(), nil)
			return len(ps), err
		}},
		{"single record", `{"messages":[null]}`, "messages[0] is null", func(c *Client) (int, error) {
			m, _, err := c.Messages.Get(context.Background(), 5)
			if m != nil {
				return 1, err
			}
			return 0, err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, mux, _ := setup(t)
			mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { answer(w, 200, tc.body) })
			n, err := tc.list(c)
			var de *DecodeError
			require.ErrorAs(t, err, &de)
			assert.Contains(t, err.Error(), tc.want)
			assert.Zero(t, n, "nothing returned with the error")
		})
	}
}

// Both decoding paths read the envelope alike: the records under the key,
// meta's deleted ids and paging, and nothing else; malformed or trailing
// data fails.
func TestEnvelopePathsAgree(t *testing.T) {
	t.Parallel()
	body := `{"links":{"x":"y"},"%s":[{"id":1},{"id":2}],"meta":{"deleted_ids":[7,"8"],"X-Total-Pages":"3"}}`
	for _, key := range []string{"conversations", "participants"} {
		b := []byte(strings.ReplaceAll(body, "%s", key))
		var ids []int64
		resp := &Response{}
		if key == "conversations" {
			p := page[Conversation]{key: key}
			require.NoError(t, decodeBody(b, &p, resp))
			for _, it := range p.items {
				ids = append(ids, it.ID)
			}
		} else {
			p := page[Participant]{key: key}
			require.NoError(t, decodeBody(b, &p, resp))
			for _, it := range p.items {
				ids = append(ids, it.ID)
			}
		}
		assert.Equal(t, []int64{1, 2}, ids, key)
		assert.Equal(t, []int64{7, 8}, resp.Meta.DeletedIDs, key)
		assert.Equal(t, 3, resp.TotalPages, key)
		for _, bad := range []string{`{"%s":[{"id":1}]} x`, `{"%s":[{"id":1}`, `{"%s":{"id":1}}`, `[]`} {
			var target pageDecoder = &page[Participant]{key: key}
			if key == "conversations" {
				target = &page[Conversation]{key: key}
			}
			assert.Error(t, decodeBody([]byte(strings.ReplaceAll(bad, "%s", key)), target, &Response{}), "%s: %s", key, bad)
		}
	}
}

// A meta.deleted_ids entry that is no integer ("abc", 1.5, null, an
// object) does not fail the page on any decoding path: the readable ids
// are in Meta.DeletedIDs, the others verbatim in
// Meta.UnreadableDeletedIDs, and the records are all returned. A meta
// that is no JSON object still fails.
func TestUnreadableDeletedIDsKeepThePage(t *testing.T) {
	t.Parallel()
	deleted := `[7, "abc", 1.5, null, {"id": 9}, "8", "", -3, [1]]`
	wantIDs := []int64{7, 8, -3}
	wantBad := []string{`"abc"`, `1.5`, `null`, `{"id": 9}`, `""`, `[1]`}
	paths := []struct {
		name, key string
		list      func(*Client) (int, *Response, error)
	}{
		{"typed page", "conversations", func(c *Client) (int, *Response, error) {
			cs, resp, err := c.Conversations.List(context.Background(), nil)
			return len(cs), resp, err
		}},
		{"walk", "participants", func(c *Client) (int, *Response, error) {
			ps, resp, err := c.Participants.List(context.Background(), nil)
			return len(ps), resp, err
		}},
		{"Do into a caller's struct", "conversations", func(c *Client) (int, *Response, error) {
			req, err := c.NewRequest(context.Background(), "GET", "inbox/conversations", nil)
			if err != nil {
				return 0, nil, err
			}
			var env struct {
				Conversations []json.RawMessage `json:"conversations"`
			}
			resp, err := c.Do(req, &env)
			return len(env.Conversations), resp, err
		}},
	}
	for _, p := range paths {
		t.Run(p.name, func(t *testing.T) {
			t.Parallel()
			c, mux, _ := setup(t)
			mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
				answer(w, 200, `{"`+p.key+`":[{"id":1},{"id":2}],"meta":{"deleted_ids":`+deleted+`}}`)
			})
			n, resp, err := p.list(c)
			require.NoError(t, err)
			assert.Equal(t, 2, n, "records")
			assert.Equal(t, wantIDs, resp.Meta.DeletedIDs)
			var bad []string
			for _, raw := range resp.Meta.UnreadableDeletedIDs {
				bad = append(bad, string(raw))
			}
			assert.Equal(t, wantBad, bad)
		})
	}
	for _, tc := range []struct{ meta, wantBad string }{
		{`{"deleted_ids":"abc"}`, `"abc"`},
		{`{"deleted_ids":{"id":5}}`, `{"id":5}`},
		{`{"deleted_ids":null}`, ""},
		{`{"deleted_ids":[]}`, ""},
	} {
		var m Meta
		require.NoError(t, json.Unmarshal([]byte(tc.meta), &m), tc.meta)
		assert.Empty(t, m.DeletedIDs, tc.meta)
		if tc.wantBad == "" {
			assert.Empty(t, m.UnreadableDeletedIDs, tc.meta)
		} else if assert.Len(t, m.UnreadableDeletedIDs, 1, tc.meta) {
			assert.Equal(t, tc.wantBad, string(m.UnreadableDeletedIDs[0]), tc.meta)
		}
	}
	for _, meta := range []string{`5`, `"x"`, `[1]`, `{"deleted_ids":[1],"X-Total-Pages":"many"}`} {
		var m Meta
		assert.Error(t, json.Unmarshal([]byte(meta), &m), "meta %s", meta)
		c, mux, _ := setup(t)
		mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
			answer(w, 200, `{"participants":[{"id":1}],"meta":`+meta+`}`)
		})
		_, _, err := c.Participants.List(context.Background(), nil)
		assert.Error(t, err, "meta %s", meta)
	}
}
