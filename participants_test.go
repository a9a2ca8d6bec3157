package bookingsync

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParticipantsReadFixtures(t *testing.T) {
	t.Parallel()
	c, _, s := setup(t)
	s.mux.HandleFunc("GET /inbox/participants", serveFixture(t, 200, "participants/inbox_read-inbox_write-scope-response.json"))
	s.mux.HandleFunc("GET /inbox/participants/{ids}", serveFixture(t, 200, "participants/inbox_write-scope-response.json"))

	list, _, err := c.Participants.List(inboxCtx, &ListOptions{PerPage: 5})
	require.NoError(t, err)
	require.Len(t, list, 1, "List: %d participants, want 1", len(list))
	p := list[0]
	assert.False(t, p.ID != 10 || p.Links.Conversation != 3 || p.Links.Member != (Polymorphic{ID: 5, Type: "Host"}), "List: got %+v", p)
	assert.False(t, !p.IsHost() || p.IsClient(), "IsHost = %v, IsClient = %v; want a Host", p.IsHost(), p.IsClient())
	assert.False(t, p.ReadAt != nil || p.LastMessageSentAt == nil || !p.LastMessageSentAt.Equal(time.Date(2018, 12, 15, 10, 42, 17, 0, time.UTC)), "times: read_at %v, last_message_sent_at %v", p.ReadAt, p.LastMessageSentAt)
	q := s.last("GET", "inbox/participants").RawQuery
	assert.EqualValues(t, "per_page=5", q, "List query = %q", q)

	got, _, err := c.Participants.Get(inboxCtx, 10)
	require.False(t, err != nil || got.ID != 10 || got.ReadAt == nil, "Get: %+v, %v", got, err)
	_, _, err = c.Participants.GetMany(inboxCtx, []int64{10, 11})
	require.NoError(t, err)
	assert.Equal(t, "/api/v3/inbox/participants/10,11", s.last("GET", "inbox/participants/").Path, "GetMany path")
}

func TestParticipantsOddities(t *testing.T) {
	t.Parallel()
	c, _, s := setup(t)
	s.mux.HandleFunc("GET /inbox/participants", func(w http.ResponseWriter, r *http.Request) {
		answer(w, 200, inboxEnvelope("participants",
			`{"links":{"conversation":3,"member":{"id":"7","type":"client"}},"id":11,"nickname":"unknown field","read_at":null,"created_at":null}`,
			`{"links":{"conversation":3,"member":null},"id":12}`,
			`{"links":{"conversation":3,"member":{"id":8,"type":"HOST"}},"id":13,"extra":{"nested":[1,2]}}`,
		))
	})
	list, _, err := c.Participants.List(inboxCtx, nil)
	require.NoError(t, err)
	require.Len(t, list, 3, "%d participants, want 3", len(list))
	assert.False(t, !list[0].IsClient() || list[0].IsHost() || list[0].Links.Member.ID != 7, "lower-case client with string id: %+v", list[0].Links.Member)
	assert.False(t, list[1].IsClient() || list[1].IsHost() || !list[1].Links.Member.IsZero(), "null member: %+v", list[1].Links.Member)
	assert.True(t, list[2].IsHost(), "upper-case HOST not recognised")
}

func TestParticipantsCreateBodyMatchesFixture(t *testing.T) {
	t.Parallel()
	c, _, s := setup(t)
	s.mux.HandleFunc("POST /inbox/participants", serveFixture(t, 201, "participants/inbox_write-scope-response.json"))

	p, _, err := c.Participants.Create(inboxCtx, &NewParticipant{ConversationID: 3, MemberID: 5, MemberType: MemberTypeHost})
	require.NoError(t, err)
	assert.False(t, p.ID != 10 || !p.IsHost(), "created %+v", p)
	// The fixture also carries attributes the API ignores on create
	// (read, last_message_sent_at); the ones it requires must match.
	want := inboxBodyItem(t, fixture(t, "participants/create-request.json"), "participants")
	got := inboxBodyItem(t, s.last("POST", "inbox/participants").Body, "participants")
	assert.Len(t, got, 3, "sent %v, want exactly conversation_id, member_id, member_type", got)
	for _, k := range []string{"conversation_id", "member_id", "member_type"} {
		assert.EqualValues(t, want[k], got[k], "%s = %v, fixture has %v", k, got[k], want[k])
	}
}

func TestParticipantsAddHost(t *testing.T) {
	t.Parallel()
	c, _, s := setup(t)
	s.mux.HandleFunc("POST /inbox/participants", serveFixture(t, 201, "participants/inbox_write-scope-response.json"))
	_, _, err := c.Participants.AddHost(inboxCtx, 3, 5)
	require.NoError(t, err)
	assertSameJSON(t, []byte(`{"participants":[{"conversation_id":3,"member_id":5,"member_type":"Host"}]}`), s.last("POST", "inbox/participants").Body)
}

func TestParticipantsCreateRefusesClient(t *testing.T) {
	t.Parallel()
	for _, typ := range []MemberType{"Client", "client", " CLIENT ", "Client::Traveller"} {
		t.Run(string(typ), func(t *testing.T) {
			c, _, s := setup(t)
			s.mux.HandleFunc("POST /inbox/participants", serveFixture(t, 201, "participants/inbox_write-scope-response.json"))
			p, _, err := c.Participants.Create(inboxCtx, &NewParticipant{ConversationID: 3, MemberID: 5, MemberType: typ})
			assertNothingSent(t, s, err, ErrRefused)
			var re *RefusedError
			assert.False(t, !errors.As(err, &re) || !strings.Contains(re.Instead, "Host"), "err = %#v, want a *RefusedError pointing to Host participants", err)
			assert.Nil(t, p, "participant %+v returned with the refusal", p)
		})
	}
}

// The refusal lives in Do, so a hand-built request cannot get around it.
func TestParticipantsRefusalCoversCallersOwnDo(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, method, path string
		body               any
	}{
		{"create", "POST", "inbox/participants", map[string]any{"participants": []any{map[string]any{"conversation_id": 3, "member_id": 5, "member_type": "client"}}}},
		{"create .json upper-case path", "POST", "/INBOX/Participants.json", map[string]any{"participants": []any{map[string]any{"member_type": " CLIENT "}}}},
		{"bare object", "post", "inbox/participants/", map[string]any{"member_type": "Client", "member_id": 5}},
		{"update to client", "PUT", "inbox/participants/10", map[string]any{"participants": []any{map[string]any{"member": map[string]any{"id": 5, "type": "Client"}}}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, _, s := setup(t)
			s.mux.HandleFunc("POST /inbox/participants", serveFixture(t, 201, "participants/inbox_write-scope-response.json"))
			req, err := c.NewRequest(inboxCtx, tc.method, tc.path, tc.body)
			require.NoError(t, err)
			_, err = c.Do(req, nil)
			assertNothingSent(t, s, err, ErrRefused)
		})
	}
}

func TestParticipantsCreateValidation(t *testing.T) {
	t.Parallel()
	cases := map[string]*NewParticipant{
		"nil":               nil,
		"no conversation":   {MemberID: 5, MemberType: MemberTypeHost},
		"no member":         {ConversationID: 3, MemberType: MemberTypeHost},
		"no member type":    {ConversationID: 3, MemberID: 5},
		"blank member type": {ConversationID: 3, MemberID: 5, MemberType: "  "},
		"negative ids":      {ConversationID: -3, MemberID: -5, MemberType: MemberTypeHost},
	}
	for name, np := range cases {
		t.Run(name, func(t *testing.T) {
			c, _, s := setup(t)
			_, _, err := c.Participants.Create(inboxCtx, np)
			assertNothingSent(t, s, err, ErrInvalidRequest)
		})
	}
}

func TestParticipantsMarkRead(t *testing.T) {
	t.Parallel()
	c, _, s := setup(t)
	s.mux.HandleFunc("PUT /inbox/participants/{id}", serveFixture(t, 200, "participants/inbox_write-scope-response.json"))
	p, _, err := c.Participants.MarkRead(inboxCtx, 10)
	require.NoError(t, err)
	assert.False(t, p.ReadAt == nil || !p.ReadAt.Equal(time.Date(2018, 12, 21, 10, 42, 17, 0, time.UTC)), "ReadAt = %v", p.ReadAt)
	r := s.last("PUT", "inbox/participants/")
	assert.EqualValues(t, "/api/v3/inbox/participants/10", r.Path, "path %q", r.Path)
	assertSameJSON(t, []byte(`{"participants":[{"read":true}]}`), r.Body)

	_, _, err = c.Participants.MarkRead(inboxCtx, 0)
	assert.ErrorIs(t, err, ErrInvalidRequest, "MarkRead(0)")
	n := s.total()
	assert.EqualValues(t, 1, n, "%d requests, want 1", n)
}

func TestEnsureHostCreatesOnceAndReuses(t *testing.T) {
	t.Parallel()
	c, _, s := setup(t)
	conv := &inboxConversation{ID: 3, Sideload: true}
	conv.add(5, MemberTypeClient) // the guest, with the same member id as the host
	conv.add(6, MemberTypeHost)   // another host
	conv.register(s)

	first, err := c.Participants.EnsureHost(inboxCtx, 3, 5)
	require.NoError(t, err)
	second, err := c.Participants.EnsureHost(inboxCtx, 3, 5)
	require.NoError(t, err)
	assert.False(t, first.ID != second.ID || !second.IsHost() || second.Links.Member.ID != 5, "first %+v, second %+v: want the same Host participant", first, second)
	n := s.count("POST", "inbox/participants")
	assert.EqualValues(t, 1, n, "%d participant POSTs, want 1", n)
	assert.Equal(t, 2, s.count("GET", "inbox/conversations/3"), "conversation reads, want one per call")
	q := s.last("GET", "inbox/conversations/3").RawQuery
	assert.EqualValues(t, "include=participants", q, "conversation read query %q, want include=participants", q)
	assert.Equal(t, 3, s.total(), "requests, want 3 (read, create, read)")
}

func TestEnsureHostExistingCostsOneRequest(t *testing.T) {
	t.Parallel()
	c, _, s := setup(t)
	conv := &inboxConversation{ID: 3, Sideload: true}
	conv.add(9, MemberTypeClient)
	want := conv.add(5, MemberTypeHost)
	conv.register(s)

	p, err := c.Participants.EnsureHost(inboxCtx, 3, 5)
	require.NoError(t, err)
	assert.EqualValues(t, want, p.ID, "participant %d, want %d", p.ID, want)
	n := s.total()
	assert.EqualValues(t, 1, n, "%d requests, want 1", n)
}

// A server that ignores include=participants costs one more request.
func TestEnsureHostWithoutSideloading(t *testing.T) {
	t.Parallel()
	c, _, s := setup(t)
	conv := &inboxConversation{ID: 3}
	want := conv.add(5, MemberTypeHost)
	conv.add(9, MemberTypeClient)
	conv.register(s)

	p, err := c.Participants.EnsureHost(inboxCtx, 3, 5)
	require.NoError(t, err)
	assert.EqualValues(t, want, p.ID, "participant %d, want %d", p.ID, want)
	r := s.last("GET", "inbox/participants/")
	assert.EqualValues(t, "/api/v3/inbox/participants/101,102", r.Path, "GetMany path %q", r.Path)
	n, posts := s.total(), s.count("POST", "")
	assert.False(t, n != 2 || posts != 0, "%d requests (%d POSTs), want 2 reads", n, posts)
}

func TestEnsureHostConcurrentCallsCreateOne(t *testing.T) {
	t.Parallel()
	c, _, s := setup(t)
	conv := &inboxConversation{ID: 3, Sideload: true}
	conv.add(9, MemberTypeClient)
	conv.register(s)

	const n = 16
	var wg sync.WaitGroup
	ids := make([]int64, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p, err := c.Participants.EnsureHost(inboxCtx, 3, 5)
			errs[i] = err
			if p != nil {
				ids[i] = p.ID
			}
		}()
	}
	wg.Wait()
	for i := range n {
		require.False(t, errs[i] != nil || ids[i] != ids[0], "call %d: participant %d, err %v; call 0: %d", i, ids[i], errs[i], ids[0])
	}
	posts := s.count("POST", "inbox/participants")
	assert.EqualValues(t, 1, posts, "%d participant POSTs, want 1", posts)
}

func TestEnsureHostErrors(t *testing.T) {
	t.Parallel()
	c, _, s := setup(t)
	(&inboxConversation{ID: 3, Sideload: true}).register(s)

	_, err := c.Participants.EnsureHost(inboxCtx, 4, 5)
	assert.ErrorIs(t, err, ErrNotFound, "unknown conversation: err = %v, want ErrNotFound", err)
	n := s.count("POST", "")
	assert.EqualValues(t, 0, n, "%d POSTs after a failed read", n)
	before := s.total()
	for _, ids := range [][2]int64{{0, 5}, {3, 0}, {-1, -1}} {
		_, err := c.Participants.EnsureHost(inboxCtx, ids[0], ids[1])
		assert.ErrorIs(t, err, ErrInvalidRequest, "EnsureHost(%d, %d)", ids[0], ids[1])
	}
	assert.EqualValues(t, before, s.total(), "invalid ids sent requests")
}

// lockerFunc adapts a function to Locker.
type lockerFunc func(ctx context.Context) (func(), error)

func (f lockerFunc) Lock(ctx context.Context) (func(), error) { return f(ctx) }

// Two clients stand for two processes. The one that waits for the lock
// finds, on its re-read, the participant the other created meanwhile.
func TestEnsureHostWithHostLockerReChecks(t *testing.T) {
	t.Parallel()
	var locks []hostKey
	var otherProcess func()
	lock := func(conversationID, hostID int64) Locker {
		return lockerFunc(func(context.Context) (func(), error) {
			locks = append(locks, hostKey{conversationID, hostID})
			if otherProcess != nil {
				otherProcess() // it held the lock first and created the host
			}
			return func() {}, nil
		})
	}
	c, _, s := setup(t, WithHostLocker(lock))
	conv := &inboxConversation{ID: 3, Sideload: true}
	conv.add(9, MemberTypeClient)
	conv.register(s)

	var created int64
	otherProcess = func() { created = conv.add(5, MemberTypeHost) }
	p, err := c.Participants.EnsureHost(inboxCtx, 3, 5)
	require.NoError(t, err)
	require.False(t, p.ID != created || s.count("POST", "inbox/participants") != 0, "participant %d with %d POSTs; want the other process's %d and no POST", p.ID, s.count("POST", "inbox/participants"), created)
	require.False(t, len(locks) != 1 || locks[0] != (hostKey{3, 5}), "locks taken: %v, want one for (3, 5)", locks)

	// Alone, it creates the participant under the lock; once it exists no
	// lock is taken.
	otherProcess = nil
	_, err = c.Participants.EnsureHost(inboxCtx, 3, 6)
	require.NoError(t, err)
	_, err = c.Participants.EnsureHost(inboxCtx, 3, 6)
	require.NoError(t, err)
	n := s.count("POST", "inbox/participants")
	require.False(t, n != 1 || len(locks) != 2, "%d POSTs, %d locks; want 1 and 2", n, len(locks))
}

func TestEnsureHostLockFailureCreatesNothing(t *testing.T) {
	t.Parallel()
	boom := errors.New("database down")
	c, _, s := setup(t, WithHostLocker(func(int64, int64) Locker {
		return lockerFunc(func(context.Context) (func(), error) { return nil, boom })
	}))
	conv := &inboxConversation{ID: 3, Sideload: true}
	conv.register(s)
	_, err := c.Participants.EnsureHost(inboxCtx, 3, 5)
	require.ErrorIs(t, err, boom, "err = %v, want the lock's", err)
	n := s.count("POST", "")
	require.EqualValues(t, 0, n, "%d POSTs without the lock", n)
}

func TestParticipantsMarkUnread(t *testing.T) {
	t.Parallel()
	c, _, s := setup(t)
	s.mux.HandleFunc("PUT /inbox/participants/{id}", serveFixture(t, 200, "participants/inbox_read-inbox_write-scope-response.json"))
	p, _, err := c.Participants.MarkUnread(inboxCtx, 10)
	require.NoError(t, err)
	assert.Nil(t, p.ReadAt, "ReadAt = %v, want nil", p.ReadAt)
	r := s.last("PUT", "inbox/participants/")
	assert.EqualValues(t, "/api/v3/inbox/participants/10", r.Path, "path %q", r.Path)
	assertSameJSON(t, []byte(`{"participants":[{"read":false}]}`), r.Body)
}

// The API accepts duplicate Host participants; EnsureHost settles on the
// oldest (lowest created_at, then lowest id) and creates none.
func TestEnsureHostReusesTheOldestDuplicate(t *testing.T) {
	t.Parallel()
	part := func(id, member int64, typ, created string) string {
		return fmt.Sprintf(`{"links":{"account":1,"conversation":3,"member":{"id":%d,"type":%q}},"id":%d,"created_at":%q,"updated_at":%q,"read_at":null,"last_message_sent_at":null}`,
			member, typ, id, created, created)
	}
	c, _, s := setup(t)
	s.mux.HandleFunc("GET /inbox/conversations/{id}", func(w http.ResponseWriter, r *http.Request) {
		answer(w, 200, inboxEnvelope("conversations", `{"id":3,"links":{"account":1,"participants":[10,11,12,13,14]},"participants":[`+strings.Join([]string{
			part(10, 5, "Client", "2018-12-20T09:00:00Z"),
			part(11, 42, "Host", "2018-12-21T10:00:00Z"),
			part(12, 42, "Host", "2018-12-21T09:00:00Z"), // oldest, same time as 14
			part(13, 7, "Host", "2018-12-19T09:00:00Z"),  // another host
			part(14, 42, "Host", "2018-12-21T09:00:00Z"),
		}, ",")+`]}`))
	})
	p, err := c.Participants.EnsureHost(inboxCtx, 3, 42)
	require.NoError(t, err)
	assert.EqualValues(t, 12, p.ID, "EnsureHost chose participant %d, want 12 (oldest, then lowest id)", p.ID)
	n := s.count("POST", "inbox/participants")
	assert.EqualValues(t, 0, n, "%d participants created, want 0", n)
}

// Within one client, a conversation read before the host was added does
// not lead to a second Host participant.
func TestEnsureHostForStaleConversationAddsOnce(t *testing.T) {
	t.Parallel()
	c, _, s := setup(t)
	conv := &inboxConversation{ID: 3, Sideload: true}
	conv.add(5, MemberTypeClient)
	conv.register(s)
	stale, _, err := c.Conversations.GetWith(inboxCtx, 3, &ConversationGetOptions{Include: []string{"participants"}})
	require.NoError(t, err)
	first, err := c.Participants.EnsureHostFor(inboxCtx, stale, 42)
	require.NoError(t, err)
	second, err := c.Participants.EnsureHostFor(inboxCtx, stale, 42)
	require.NoError(t, err)
	assert.EqualValues(t, second.ID, first.ID, "participants %d then %d, want the same", first.ID, second.ID)
	n := s.count("POST", "inbox/participants")
	assert.EqualValues(t, 1, n, "%d participant POSTs, want 1", n)
}
