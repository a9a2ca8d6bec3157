package bookingsync

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestConversationFixtures(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"inbox_read-inbox_write-scope-response.json", "inbox_write-scope-response.json", "connect-booking-inbox_write-scope-response.json"} {
		body := fixture(t, "conversations/"+name)
		_, mux, srv := setup(t)
		mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { serveJSON(w, 200, body) })
		c, _, err := srv.client(t).Conversations.Get(context.Background(), 5)
		require.NoError(t, err, name)
		assert.Equal(t, int64(5), c.ID)
		assert.Equal(t, int64(1), c.Links.Account)
		assert.Nil(t, c.Links.Assignee)
		assert.Nil(t, c.ClosedAt)
		assert.False(t, c.IsClosed())
		assert.Equal(t, time.Date(2018, 12, 20, 14, 25, 57, 0, time.UTC), c.CreatedAt)
		require.NotNil(t, c.ReadAt)
		assert.Equal(t, time.Date(2018, 12, 22, 14, 25, 57, 0, time.UTC), *c.ReadAt)
		assert.True(t, c.CreatedBy.IsZero(), "older payloads have no creator")
		assert.Equal(t, "/api/v3/inbox/conversations/5", srv.requests()[0].Path)
	}
}

func TestConversationOddities(t *testing.T) {
	t.Parallel()
	body := `{
	  "links": {"conversations.account": "https://www.bookingsync.com/api/v3/accounts/{conversations.account}"},
	  "conversations": [
	    {"id": 1, "subject": null, "default_channel": "carrier-pigeon", "created_at": null, "updated_at": "2020-01-01T00:00:00.123Z",
	     "closed_at": "2020-01-02T00:00:00Z", "created_by_id": 65, "created_by_type": "Doorkeeper::Application",
	     "brand_new_field": {"nested": [1, 2]},
	     "links": {"account": 1, "assignee": 2, "source": null, "bookings": [3], "unknown_link": 9}},
	    {"id": 2, "links": {"created_by": {"id": 66, "type": "Doorkeeper::Application"}}},
	    {"id": 3, "created_by": {"id": "7", "type": "User"}},
	    {"id": 4, "created_by_id": null, "created_by_type": null, "links": null},
	    {"id": 5, "participants": [{"id": 10, "links": {"conversation": 5, "member": {"id": 5, "type": "Host"}}},
	                              {"id": 11, "links": {"conversation": 5, "member": {"id": 37, "type": "Client"}}}],
	     "links": {"participants": [10, 11]}}
	  ],
	  "meta": {"X-Total-Pages": null}
	}`
	_, mux, srv := setup(t)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { serveJSON(w, 200, []byte(body)) })
	cs, resp, err := srv.client(t).Conversations.List(context.Background(), &ConversationListOptions{Include: []string{"participants"}})
	require.NoError(t, err)
	require.Len(t, cs, 5)
	assert.Equal(t, "include=participants", srv.requests()[0].RawQuery)
	assert.Zero(t, resp.TotalPages)

	assert.Equal(t, Channel("carrier-pigeon"), cs[0].DefaultChannel, "unknown enum values decode")
	assert.Empty(t, cs[0].Subject)
	assert.True(t, cs[0].CreatedAt.IsZero())
	assert.True(t, cs[0].IsClosed())
	assert.Equal(t, Polymorphic{ID: 65, Type: "Doorkeeper::Application"}, cs[0].CreatedBy)
	assert.Equal(t, int64(2), *cs[0].Links.Assignee)

	assert.Equal(t, Polymorphic{ID: 66, Type: "Doorkeeper::Application"}, cs[1].CreatedBy, "from the created_by link")
	assert.Equal(t, Polymorphic{ID: 7, Type: "User"}, cs[2].CreatedBy)
	assert.True(t, cs[3].CreatedBy.IsZero())

	require.Len(t, cs[4].Participants, 2)
	assert.True(t, cs[4].Participants[0].IsHost())
	assert.True(t, cs[4].Participants[1].IsClient())
	assert.Nil(t, cs[0].Participants)
}

func TestConversationRoundTripsThroughJSON(t *testing.T) {
	t.Parallel()
	in := Conversation{ID: 9, CreatedBy: Polymorphic{ID: 65, Type: "Doorkeeper::Application"}, DefaultChannel: ChannelAirbnb}
	b, err := json.Marshal(in)
	require.NoError(t, err)
	var out Conversation
	require.NoError(t, json.Unmarshal(b, &out))
	assert.Equal(t, in.CreatedBy, out.CreatedBy)
	assert.Equal(t, in.DefaultChannel, out.DefaultChannel)
}

// Listings decode conversations through their wire struct in one pass;
// each must equal what Conversation.UnmarshalJSON makes of the same item.
// A null item never reaches the caller as a nil record: the page fails
// with a *DecodeError.
func TestConversationListingDecodesLikeUnmarshalJSON(t *testing.T) {
	t.Parallel()
	items := []string{
		`{"id":1,"created_by_id":"65","created_by_type":"Doorkeeper::Application","links":{"participants":[1]},"participants":[{"id":1,"links":{"member":{"id":"37","type":"Client"}}}]}`,
		`{"id":2,"links":{"created_by":{"id":66,"type":"Doorkeeper::Application"}},"messages":[{"id":3,"created_by_id":65,"created_by_type":"Doorkeeper::Application"}]}`,
		`{"id":3,"created_by":{"id":7,"type":"User"},"closed_at":"2020-01-02T00:00:00Z"}`,
	}
	body := `{"conversations":[` + strings.Join(items, ",") + `],"meta":{}}`
	_, mux, srv := setup(t)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("page") == "2" {
			serveJSON(w, 200, []byte(`{"conversations":[`+items[0]+`,null],"meta":{}}`))
			return
		}
		serveJSON(w, 200, []byte(body))
	})
	cs, _, err := srv.client(t).Conversations.List(context.Background(), nil)
	require.NoError(t, err)
	require.Len(t, cs, len(items))
	for i, it := range items {
		var want Conversation
		require.NoError(t, json.Unmarshal([]byte(it), &want))
		assert.Equal(t, &want, cs[i], "item %d", i)
	}
	assert.Equal(t, "Doorkeeper::Application", cs[1].Messages[0].CreatedBy.Type)

	cs, _, err = srv.client(t).Conversations.List(context.Background(), &ConversationListOptions{ListOptions: ListOptions{Page: 2}})
	var de *DecodeError
	require.ErrorAs(t, err, &de)
	assert.Contains(t, err.Error(), "conversations[1] is null")
	assert.Nil(t, cs)
}

// GetManyWith sends Get's options with every batch of ids.
func TestConversationsGetManyWith(t *testing.T) {
	t.Parallel()
	body := `{"conversations":[{"id":1,"links":{"participants":[4]},"participants":[{"id":4,"links":{"member":{"id":37,"type":"Client"}}}]}],"meta":{}}`
	c, mux, srv := setup(t)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { serveJSON(w, 200, []byte(body)) })
	ids := make([]int64, 101)
	for i := range ids {
		ids[i] = int64(i + 1)
	}
	cs, _, err := c.Conversations.GetManyWith(context.Background(), ids,
		&ConversationGetOptions{Include: []string{"participants"}, Fields: []string{"id", "participants"}})
	require.NoError(t, err)
	require.Len(t, cs, 2)
	require.Len(t, cs[0].Participants, 1)
	assert.True(t, cs[0].Participants[0].IsClient())
	reqs := srv.requests()
	require.Len(t, reqs, 2)
	for _, r := range reqs {
		assert.Equal(t, "fields=id,participants&include=participants", r.RawQuery)
	}
	assert.Equal(t, "/api/v3/inbox/conversations/101", reqs[1].Path)
}
