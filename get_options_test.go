package bookingsync

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every service's Get has a GetWith: fields and include go with it, and
// with every request of GetManyWith.
func TestEveryGetTakesFieldsAndInclude(t *testing.T) {
	t.Parallel()
	c, mux, s := setup(t)
	mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) {
		key := strings.Split(strings.TrimPrefix(strings.TrimPrefix(r.URL.Path, "/"), "inbox/"), "/")[0]
		answer(w, 200, inboxEnvelope(key, `{"id": 7}`))
	})
	opts := &GetOptions{Fields: []string{"id", "name"}, Include: []string{"availability"}}
	type getters struct {
		get  func(context.Context, int64, *GetOptions) (any, error)
		many func(context.Context, []int64, *GetOptions) (any, error)
	}
	one := func(v any, _ *Response, err error) (any, error) { return v, err }
	for path, g := range map[string]getters{
		"applications": {func(ctx context.Context, id int64, o *GetOptions) (any, error) {
			return one(c.Applications.GetWith(ctx, id, o))
		}, func(ctx context.Context, ids []int64, o *GetOptions) (any, error) {
			return one(c.Applications.GetManyWith(ctx, ids, o))
		}},
		"inbox/attachments": {func(ctx context.Context, id int64, o *GetOptions) (any, error) {
			return one(c.Attachments.GetWith(ctx, id, o))
		}, func(ctx context.Context, ids []int64, o *GetOptions) (any, error) {
			return one(c.Attachments.GetManyWith(ctx, ids, o))
		}},
		"bookings": {func(ctx context.Context, id int64, o *GetOptions) (any, error) {
			return one(c.Bookings.GetWith(ctx, id, o))
		}, func(ctx context.Context, ids []int64, o *GetOptions) (any, error) {
			return one(c.Bookings.GetManyWith(ctx, ids, o))
		}},
		"hosts": {func(ctx context.Context, id int64, o *GetOptions) (any, error) {
			return one(c.Hosts.GetWith(ctx, id, o))
		}, func(ctx context.Context, ids []int64, o *GetOptions) (any, error) {
			return one(c.Hosts.GetManyWith(ctx, ids, o))
		}},
		"inbox/messages": {func(ctx context.Context, id int64, o *GetOptions) (any, error) {
			return one(c.Messages.GetWith(ctx, id, o))
		}, func(ctx context.Context, ids []int64, o *GetOptions) (any, error) {
			return one(c.Messages.GetManyWith(ctx, ids, o))
		}},
		"inbox/participants": {func(ctx context.Context, id int64, o *GetOptions) (any, error) {
			return one(c.Participants.GetWith(ctx, id, o))
		}, func(ctx context.Context, ids []int64, o *GetOptions) (any, error) {
			return one(c.Participants.GetManyWith(ctx, ids, o))
		}},
		"rentals": {func(ctx context.Context, id int64, o *GetOptions) (any, error) {
			return one(c.Rentals.GetWith(ctx, id, o))
		}, func(ctx context.Context, ids []int64, o *GetOptions) (any, error) {
			return one(c.Rentals.GetManyWith(ctx, ids, o))
		}},
	} {
		_, err := g.get(inboxCtx, 7, opts)
		require.NoError(t, err, path)
		r := s.last("GET", path+"/")
		assert.Equal(t, apiPath+path+"/7", r.Path, path)
		assert.Equal(t, "fields=id,name&include=availability", r.RawQuery, path)
		_, err = g.many(inboxCtx, []int64{7, 8}, opts)
		require.NoError(t, err, path)
		r = s.last("GET", path+"/")
		assert.Equal(t, apiPath+path+"/7,8", r.Path, path)
		assert.Equal(t, "fields=id,name&include=availability", r.RawQuery, path)
		_, err = g.get(inboxCtx, 0, opts)
		assert.ErrorIs(t, err, ErrInvalidRequest, fmt.Sprintf("%s: bad id", path))
	}
}

// Include on the listing options; an options type with an Include of
// its own sends one list of both.
func TestListIncludeIsSentOnce(t *testing.T) {
	t.Parallel()
	for want, opts := range map[string]any{
		"include=availability,change_over&per_page=5": &ListOptions{PerPage: 5, Include: []string{"availability", "change_over"}},
		"include=participants,messages":               &ConversationListOptions{Include: []string{"participants"}, ListOptions: ListOptions{Include: []string{"messages", "participants"}}},
		"include=participants":                        &ConversationListOptions{Include: []string{"participants"}},
	} {
		q, err := encodeQuery(opts)
		require.NoError(t, err)
		assert.Equal(t, want, q)
	}
}
