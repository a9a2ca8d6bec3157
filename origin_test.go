package bookingsync

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCreatedByApplication(t *testing.T) {
	t.Parallel()
	cases := []struct {
		json   string
		id     int64
		ok     bool
		ctype  string
		defCh  Channel
		remark string
	}{
		{`{"id":1,"created_by_id":65,"created_by_type":"Doorkeeper::Application"}`, 65, true, "Doorkeeper::Application", "", "attributes"},
		{`{"id":1,"links":{"created_by":{"id":"66","type":"Doorkeeper::Application"}}}`, 66, true, "Doorkeeper::Application", "", "link, string id"},
		{`{"id":1,"created_by":{"id":67,"type":"application"}}`, 67, true, "application", "", "object, lower-case type"},
		{`{"id":1,"created_by_id":3,"created_by_type":"User","default_channel":"email"}`, 0, false, "User", ChannelEmail, "user"},
		{`{"id":1,"created_by_id":null,"created_by_type":null}`, 0, false, "", "", "nulls"},
		{`{"id":1}`, 0, false, "", "", "older payload"},
		{`{"id":1,"created_by_type":"Doorkeeper::Application"}`, 0, false, "Doorkeeper::Application", "", "no id"},
	}
	for _, tc := range cases {
		var c Conversation
		require.NoError(t, c.UnmarshalJSON([]byte(tc.json)), "%s", tc.remark)
		id, ok := c.CreatedByApplication()
		assert.EqualValues(t, tc.id, id, "%s: CreatedByApplication id", tc.remark)
		assert.Equal(t, tc.ok, ok, "%s: CreatedByApplication ok", tc.remark)
		if tc.ok {
			continue
		}
		// No application: Origin needs no request.
		cl, _, s := setup(t)
		o, err := cl.Conversations.Origin(inboxCtx, &c)
		require.NoError(t, err, tc.remark)
		assert.Nil(t, o.Application, tc.remark)
		assert.Equal(t, tc.ctype, o.CreatorType, tc.remark)
		assert.Equal(t, tc.defCh, o.Channel, tc.remark)
		assert.Zero(t, s.total(), "%s: requests", tc.remark)
	}
	var nilConv *Conversation
	_, ok := nilConv.CreatedByApplication()
	assert.False(t, ok, "nil conversation created by an application")
}

func TestChannelFromApplicationName(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]Channel{
		"Airbnb":             ChannelAirbnb,
		"airbnb":             ChannelAirbnb,
		"Booking.com":        ChannelBookingCom,
		"BookingCom":         ChannelBookingCom,
		"booking-com":        ChannelBookingCom,
		" BOOKING.COM ":      ChannelBookingCom,
		"HomeAway":           ChannelHomeAway,
		"Vrbo":               ChannelHomeAway,
		"HomeAway/Vrbo":      ChannelHomeAway,
		"Airbnb Price Tool":  "",
		"Smart Pricing":      "",
		"":                   "",
		"Booking.com Extras": "",
	} {
		got := ChannelFromApplicationName(name)
		assert.EqualValues(t, want, got, "ChannelFromApplicationName(%q) = %q, want %q", name, got, want)
	}
}

// appServer serves GET /applications/{id} and GET /applications, with 403
// for id 70, 404 for 71 and 500 for 72, and counts reads per id.
func appServer(t *testing.T, opts ...Option) (*testServer, *Client) {
	c, _, s := setup(t, opts...)
	names := map[string]string{"65": "Airbnb", "66": "Booking.com", "67": "HomeAway/Vrbo", "68": "Smart Pricing"}
	s.mux.HandleFunc("GET /applications/{id}", func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		switch id {
		case "70":
			answer(w, 403, `{"errors":[{"code":"forbidden","title":"Forbidden"}]}`)
		case "71":
			answer(w, 404, `{"errors":[{"code":"not_found"}]}`)
		case "72":
			answer(w, 500, `{"error":"boom"}`)
		default:
			name, ok := names[id]
			if !ok {
				answer(w, 404, `{"errors":[{"code":"not_found"}]}`)
				return
			}
			answer(w, 200, inboxEnvelope("applications", fmt.Sprintf(`{"id":%s,"name":%q,"default_price_increase":"0.0"}`, id, name)))
		}
	})
	s.mux.HandleFunc("GET /applications", func(w http.ResponseWriter, r *http.Request) {
		answer(w, 200, inboxEnvelope("applications", `{"id":65,"name":"Airbnb"}`, `{"id":66,"name":"Booking.com"}`, `{"id":67,"name":"HomeAway/Vrbo"}`))
	})
	return s, c
}

func appConversation(id, appID int64, def Channel) *Conversation {
	return &Conversation{ID: id, DefaultChannel: def, CreatedBy: Polymorphic{ID: appID, Type: "Doorkeeper::Application"}}
}

func TestOriginFromFixtureApplication(t *testing.T) {
	t.Parallel()
	c, _, s := setup(t)
	s.mux.HandleFunc("GET /applications/{id}", serveFixture(t, 200, "applications/applications_read-scope-response.json"))
	o, err := c.Conversations.Origin(inboxCtx, appConversation(5, 65, ChannelEmail))
	require.NoError(t, err)
	require.NotNil(t, o.Application)
	assert.EqualValues(t, 65, o.Application.ID)
	assert.Equal(t, "Airbnb", o.Application.Name)
	assert.Equal(t, ChannelAirbnb, o.Channel)
	assert.Equal(t, "Doorkeeper::Application", o.CreatorType)
	assert.EqualValues(t, 65, o.CreatorID)
	p := s.last("GET", "applications/").Path
	assert.EqualValues(t, "/api/v3/applications/65", p, "path %q", p)
}

// A thousand conversations from three channel apps cost three requests,
// sequentially and from many goroutines.
func TestOriginCostsOneRequestPerApplication(t *testing.T) {
	t.Parallel()
	want := map[int64]Channel{65: ChannelAirbnb, 66: ChannelBookingCom, 67: ChannelHomeAway}
	convs := make([]*Conversation, 1000)
	for i := range convs {
		convs[i] = appConversation(int64(i+1), 65+int64(i%3), ChannelEmail)
	}
	check := func(t *testing.T, c *Conversation, o *Origin, err error) {
		if !assert.NoError(t, err, "conversation %d", c.ID) {
			return
		}
		if !assert.NotNil(t, o.Application, "conversation %d", c.ID) {
			return
		}
		assert.Equal(t, c.CreatedBy.ID, o.Application.ID, "conversation %d", c.ID)
		assert.Equal(t, want[c.CreatedBy.ID], o.Channel, "conversation %d", c.ID)
	}
	t.Run("sequential", func(t *testing.T) {
		s, c := appServer(t)
		for _, conv := range convs {
			o, err := c.Conversations.Origin(inboxCtx, conv)
			check(t, conv, o, err)
		}
		n := s.total()
		assert.EqualValues(t, 3, n, "%d requests, want 3", n)
	})
	t.Run("concurrent", func(t *testing.T) {
		s, c := appServer(t)
		var wg sync.WaitGroup
		for _, conv := range convs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				o, err := c.Conversations.Origin(inboxCtx, conv)
				check(t, conv, o, err)
			}()
		}
		wg.Wait()
		for id := range want {
			n := s.count("GET", fmt.Sprintf("applications/%d", id))
			assert.EqualValues(t, 1, n, "application %d read %d times, want 1", id, n)
		}
		n := s.total()
		assert.EqualValues(t, 3, n, "%d requests, want 3", n)
	})
}

func TestOriginUnreadableApplicationFallsBackToDefaultChannel(t *testing.T) {
	t.Parallel()
	for _, id := range []int64{70, 71} {
		t.Run(fmt.Sprint(id), func(t *testing.T) {
			s, c := appServer(t)
			for range 5 {
				o, err := c.Conversations.Origin(inboxCtx, appConversation(1, id, ChannelBookingCom))
				require.NoError(t, err, "Origin")
				assert.Nil(t, o.Application)
				assert.Equal(t, ChannelBookingCom, o.Channel)
				assert.EqualValues(t, id, o.CreatorID)
			}
			n := s.total()
			assert.EqualValues(t, 1, n, "%d requests, want 1 (the miss is cached)", n)
			_, err := c.Applications.Cached(inboxCtx, id)
			assert.False(t, !errors.Is(err, ErrForbidden) && !errors.Is(err, ErrNotFound), "Cached err = %v, want the cached 403/404", err)
		})
	}
}

func TestOriginServerErrorIsReturnedAndNotCached(t *testing.T) {
	t.Parallel()
	s, c := appServer(t)
	for range 2 {
		o, err := c.Conversations.Origin(inboxCtx, appConversation(1, 72, ChannelAirbnb))
		var er *ErrorResponse
		require.ErrorAs(t, err, &er)
		assert.Equal(t, 500, er.StatusCode)
		assert.Nil(t, o)
	}
	n := s.total()
	assert.EqualValues(t, 2, n, "%d requests, want 2 (errors are not cached)", n)
}

func TestOriginUnknownApplicationName(t *testing.T) {
	t.Parallel()
	_, c := appServer(t)
	o, err := c.Conversations.Origin(inboxCtx, appConversation(1, 68, ChannelEmail))
	require.NoError(t, err)
	require.NotNil(t, o.Application)
	assert.Equal(t, "Smart Pricing", o.Application.Name)
	assert.Equal(t, ChannelEmail, o.Channel)
	_, err = c.Conversations.Origin(inboxCtx, nil)
	assert.ErrorIs(t, err, ErrInvalidRequest, "nil conversation: %v", err)
}

func TestApplicationsCacheClearAndBypass(t *testing.T) {
	t.Parallel()
	s, c := appServer(t)
	conv := appConversation(1, 65, "")
	for range 3 {
		_, err := c.Conversations.Origin(inboxCtx, conv)
		require.NoError(t, err)
	}
	c.Applications.ClearCache()
	_, err := c.Conversations.Origin(inboxCtx, conv)
	require.NoError(t, err)
	n := s.total()
	assert.EqualValues(t, 2, n, "%d requests, want 2 (one before, one after ClearCache)", n)

	// Callers get copies: changing one does not change the cache.
	a, err := c.Applications.Cached(inboxCtx, 65)
	require.NoError(t, err)
	a.Name = "changed"
	b, _ := c.Applications.Cached(inboxCtx, 65)
	assert.EqualValues(t, "Airbnb", b.Name, "cache changed through a returned application: %q", b.Name)

	s2, c2 := appServer(t, WithoutApplicationCache())
	for range 3 {
		o, err := c2.Conversations.Origin(inboxCtx, conv)
		require.NoError(t, err)
		require.Equal(t, ChannelAirbnb, o.Channel)
	}
	n = s2.total()
	assert.EqualValues(t, 3, n, "without cache: %d requests, want 3", n)
	_, err = c2.Applications.Cached(inboxCtx, 0)
	assert.ErrorIs(t, err, ErrInvalidRequest, "Cached(0)")
	assert.Equal(t, 3, s2.total(), "Cached(0): requests")
}

func TestApplicationsPreload(t *testing.T) {
	t.Parallel()
	s, c := appServer(t)
	require.NoError(t, c.Applications.Preload(inboxCtx))
	for _, id := range []int64{65, 66, 67, 65} {
		_, err := c.Conversations.Origin(inboxCtx, appConversation(1, id, ""))
		require.NoError(t, err)
	}
	n := s.total()
	assert.EqualValues(t, 1, n, "%d requests, want the one listing", n)
	q := s.last("GET", "applications").RawQuery
	assert.EqualValues(t, "page=1&per_page=100", q, "listing query %q", q)

	c2, _, s2 := setup(t)
	s2.mux.HandleFunc("GET /applications", func(w http.ResponseWriter, r *http.Request) {
		answer(w, 403, `{"errors":[{"code":"forbidden"}]}`)
	})
	err := c2.Applications.Preload(inboxCtx)
	assert.ErrorIs(t, err, ErrForbidden, "Preload with a client-credentials token: %v", err)
}

// A waiter does not inherit the first caller's cancellation.
func TestApplicationsCachedWaiterSurvivesLeaderCancel(t *testing.T) {
	t.Parallel()
	c, _, s := setup(t)
	arrived := make(chan struct{}, 2)
	release := make(chan struct{})
	s.mux.HandleFunc("GET /applications/{id}", func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		select {
		case <-release:
		case <-r.Context().Done():
			return
		}
		answer(w, 200, inboxEnvelope("applications", `{"id":65,"name":"Airbnb"}`))
	})
	leaderCtx, cancel := context.WithCancel(inboxCtx)
	leaderErr := make(chan error, 1)
	go func() {
		_, err := c.Applications.Cached(leaderCtx, 65)
		leaderErr <- err
	}()
	<-arrived // the leader's request is in flight
	waiter := make(chan error, 1)
	go func() {
		a, err := c.Applications.Cached(inboxCtx, 65)
		if err == nil && a.Name != "Airbnb" {
			err = fmt.Errorf("got %+v", a)
		}
		waiter <- err
	}()
	cancel()
	err := <-leaderErr
	assert.ErrorIs(t, err, context.Canceled, "leader err = %v", err)
	close(release)
	assert.NoError(t, <-waiter, "waiter")
}
