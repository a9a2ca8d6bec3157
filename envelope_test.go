package bookingsync

import (
	"context"
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
