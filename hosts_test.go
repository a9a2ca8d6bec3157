package bookingsync

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHostsReadFixtures(t *testing.T) {
	t.Parallel()
	c, _, s := setup(t)
	s.mux.HandleFunc("GET /hosts", serveFixture(t, 200, "hosts/inbox_read-inbox_write-scope-response.json"))
	s.mux.HandleFunc("GET /hosts/{ids}", serveFixture(t, 200, "hosts/inbox_write-scope-response.json"))

	list, _, err := c.Hosts.List(inboxCtx, nil)
	require.NoError(t, err)
	h := list[0]
	assert.EqualValues(t, 2, h.ID)
	assert.Equal(t, "Jan", h.Firstname)
	assert.Equal(t, "Kowalski", h.Lastname)
	assert.Equal(t, "host1@example.com", h.Email)
	assert.Nil(t, h.Links.User)
	assert.Nil(t, h.Links.Source)
	assert.Nil(t, h.ForgetMeAt)
	assert.EqualValues(t, 1, h.Links.Account)
	got, _, err := c.Hosts.Get(inboxCtx, 2)
	require.NoError(t, err)
	require.NotNil(t, got.Links.User)
	require.EqualValues(t, 2, *got.Links.User)
	_, _, err = c.Hosts.GetMany(inboxCtx, []int64{2, 3})
	require.NoError(t, err)
	p := s.last("GET", "hosts/").Path
	assert.EqualValues(t, "/api/v3/hosts/2,3", p, "GetMany path %q", p)
}

func TestHostsOddities(t *testing.T) {
	t.Parallel()
	c, _, s := setup(t)
	s.mux.HandleFunc("GET /hosts", func(w http.ResponseWriter, r *http.Request) {
		answer(w, 200, inboxEnvelope("hosts",
			`{"id":4,"firstname":null,"lastname":"Solo","email":null,"forget_me_at":"2020-01-02T03:04:05Z","links":{"account":1,"participants":[7,8],"user":null},"avatar":{"url":"x"}}`))
	})
	list, _, err := c.Hosts.List(inboxCtx, nil)
	require.NoError(t, err)
	h := list[0]
	assert.Empty(t, h.Firstname)
	assert.NotNil(t, h.ForgetMeAt)
	assert.Len(t, h.Links.Participants, 2)
}

func TestHostsCreateBodyMatchesFixture(t *testing.T) {
	t.Parallel()
	c, _, s := setup(t)
	s.mux.HandleFunc("POST /hosts", serveFixture(t, 201, "hosts/inbox_write-scope-response.json"))
	h, _, err := c.Hosts.Create(inboxCtx, &NewHost{Firstname: "Jan", Lastname: "Kowalski", Email: "host1@example.com", UserID: Ptr[int64](2)})
	require.NoError(t, err)
	assert.EqualValues(t, 2, h.ID, "created %+v", h)
	assertSameJSON(t, fixture(t, "hosts/create-request.json"), s.last("POST", "hosts").Body)

	_, _, err = c.Hosts.Create(inboxCtx, &NewHost{Firstname: "Ann", Lastname: "Lee", SourceID: Ptr[int64](9)})
	require.NoError(t, err)
	assertSameJSON(t, []byte(`{"hosts":[{"firstname":"Ann","lastname":"Lee","source_id":9}]}`), s.last("POST", "hosts").Body)
}

func TestHostsUpdate(t *testing.T) {
	t.Parallel()
	c, _, s := setup(t)
	s.mux.HandleFunc("PUT /hosts/{id}", serveFixture(t, 200, "hosts/inbox_write-scope-response.json"))
	_, _, err := c.Hosts.Update(inboxCtx, 2, &HostUpdate{Firstname: Ptr("Jan"), Lastname: Ptr("Kowalski"), Email: Ptr("host1@example.com"), UserID: Ptr[int64](2)})
	require.NoError(t, err)
	r := s.last("PUT", "hosts/")
	assert.EqualValues(t, "/api/v3/hosts/2", r.Path, "path %q", r.Path)
	assertSameJSON(t, fixture(t, "hosts/update-request.json"), r.Body)
	_, _, err = c.Hosts.Update(inboxCtx, 2, &HostUpdate{Email: Ptr("new@example.com")})
	require.NoError(t, err)
	assertSameJSON(t, []byte(`{"hosts":[{"email":"new@example.com"}]}`), s.last("PUT", "hosts/").Body)
}

func TestHostsValidation(t *testing.T) {
	t.Parallel()
	for name, h := range map[string]*NewHost{
		"nil":          nil,
		"no firstname": {Lastname: "Kowalski"},
		"no lastname":  {Firstname: "Jan", Lastname: " "},
		"bad user id":  {Firstname: "Jan", Lastname: "Kowalski", UserID: Ptr[int64](0)},
	} {
		t.Run("create "+name, func(t *testing.T) {
			c, _, s := setup(t)
			_, _, err := c.Hosts.Create(inboxCtx, h)
			assertNothingSent(t, s, err, ErrInvalidRequest)
		})
	}
	for name, u := range map[string]*HostUpdate{
		"blank firstname": {Firstname: Ptr("")},
		"blank lastname":  {Lastname: Ptr("  ")},
		"bad source id":   {SourceID: Ptr[int64](-1)},
	} {
		t.Run("update "+name, func(t *testing.T) {
			c, _, s := setup(t)
			_, _, err := c.Hosts.Update(inboxCtx, 2, u)
			assertNothingSent(t, s, err, ErrInvalidRequest)
		})
	}
	c, _, s := setup(t)
	_, _, err := c.Hosts.Update(inboxCtx, 0, &HostUpdate{})
	assert.ErrorIs(t, err, ErrInvalidRequest, "id 0")
	assert.Zero(t, s.total(), "id 0: requests sent")
}

func TestHostsUpdateClearsEmailAndUser(t *testing.T) {
	t.Parallel()
	c, _, s := setup(t)
	s.mux.HandleFunc("PUT /hosts/{id}", serveFixture(t, 200, "hosts/inbox_write-scope-response.json"))
	for _, tt := range []struct {
		u    *HostUpdate
		want string
	}{
		{&HostUpdate{ClearEmail: true}, `{"hosts":[{"email":null}]}`},
		{&HostUpdate{ClearUserID: true, Firstname: Ptr("Jan")}, `{"hosts":[{"firstname":"Jan","user_id":null}]}`},
		{&HostUpdate{ClearEmail: true, ClearUserID: true}, `{"hosts":[{"email":null,"user_id":null}]}`},
		{&HostUpdate{Email: Ptr("a@example.com"), UserID: Ptr[int64](3)}, `{"hosts":[{"email":"a@example.com","user_id":3}]}`},
	} {
		_, _, err := c.Hosts.Update(inboxCtx, 2, tt.u)
		require.NoError(t, err)
		assertSameJSON(t, []byte(tt.want), s.last("PUT", "hosts/").Body)
	}
	n := s.total()
	for _, u := range []*HostUpdate{
		{ClearEmail: true, Email: Ptr("a@example.com")},
		{ClearUserID: true, UserID: Ptr[int64](3)},
	} {
		_, _, err := c.Hosts.Update(inboxCtx, 2, u)
		assert.ErrorIs(t, err, ErrInvalidRequest, "%+v: err = %v, want ErrInvalidRequest", u, err)
	}
	assert.EqualValues(t, n, s.total(), "an invalid update was sent")
}
