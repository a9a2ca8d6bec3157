package bookingsync

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
)

func TestNewClientRefusesPlainHTTPExceptLoopback(t *testing.T) {
	t.Parallel()
	for _, u := range []string{"http://www.bookingsync.com", "http://10.0.0.1:3000", "ftp://x", "www.bookingsync.com", "://"} {
		_, err := NewClient(WithBaseURL(u))
		require.Error(t, err, u)
	}
	_, err := NewClient(WithBaseURL("http://api.example.com"))
	assert.ErrorContains(t, err, "plain http is allowed only for loopback")

	for _, u := range []string{"http://127.0.0.1:8080", "http://localhost:3000", "http://[::1]:9", "https://sandbox.example.com", "https://www.bookingsync.com/api/v3/"} {
		c, err := NewClient(WithBaseURL(u))
		require.NoError(t, err, u)
		assert.True(t, strings.HasSuffix(c.APIURL().String(), "/api/v3/"), c.APIURL().String())
		assert.NotContains(t, c.APIURL().Path, "//")
	}
	c, err := NewClient()
	require.NoError(t, err)
	assert.Equal(t, "https://www.bookingsync.com/api/v3/", c.APIURL().String())
}

func TestNewClientRejectsBadOptions(t *testing.T) {
	t.Parallel()
	for _, opt := range []Option{WithToken(""), WithTokenSource(nil), WithHTTPClient(nil), WithMaxResponseBytes(0)} {
		_, err := NewClient(opt)
		assert.Error(t, err)
	}
}

func TestNewClientRejectsNilOption(t *testing.T) {
	t.Parallel()
	_, err := NewClient(nil)
	assert.ErrorContains(t, err, "option 0 is nil")
	_, err = NewClient(WithToken("t"), nil)
	assert.ErrorContains(t, err, "option 1 is nil")
}

func TestWithBaseURLWantsTheSiteRoot(t *testing.T) {
	t.Parallel()
	for _, u := range []string{"https://x.example/api/v2", "https://x.example/api/v3/inbox", "https://x.example/prefix", "https://x.example/?a=1", "https://x.example/api/v3?page=2", "https://x.example/#frag", "https://x.example/?"} {
		_, err := NewClient(WithBaseURL(u))
		assert.Error(t, err, u)
	}
	_, err := NewClient(WithBaseURL("https://x.example/api/v2"))
	assert.ErrorContains(t, err, `not the path "/api/v2"`)
	for _, u := range []string{"https://x.example", "https://x.example/", "https://x.example/api/v3", "https://x.example/api/v3/", "https://x.example//"} {
		c, err := NewClient(WithBaseURL(u))
		if assert.NoError(t, err, u) {
			assert.Equal(t, "https://x.example/api/v3/", c.APIURL().String(), u)
		}
	}
}

// Do takes any request net/http would send, and refuses what it would not,
// with an error, never a panic.
func TestDoOddRequests(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, 0)
	srv.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { serveJSON(w, 200, []byte(`{}`)) })
	c := srv.client(t)
	_, err := c.Do(nil, nil)
	assert.Error(t, err)
	_, err = c.Do(&http.Request{Method: "GET"}, nil)
	assert.ErrorContains(t, err, "nil request or request URL")

	u, _ := url.Parse(srv.URL + "/api/v3/hosts")
	_, err = c.Do(&http.Request{Method: "GET", URL: u}, nil) // no Header, no context
	require.NoError(t, err)
	_, err = c.Do(&http.Request{URL: u, Header: http.Header{}}, nil) // no Method: GET
	require.NoError(t, err)
	reqs := srv.requests()
	require.Len(t, reqs, 2)
	assert.Equal(t, "Bearer "+testToken, reqs[0].Header.Get("Authorization"))

	// The caller's request is left as it was: no token, no headers added.
	req, _ := http.NewRequest("GET", srv.URL+"/api/v3/hosts", nil)
	_, err = c.Do(req, nil)
	require.NoError(t, err)
	assert.Empty(t, req.Header, "Do adds nothing to the caller's request")
}

func TestOwnOrigin(t *testing.T) {
	t.Parallel()
	c, err := NewClient(WithBaseURL("https://www.example.com"))
	require.NoError(t, err)
	for u, want := range map[string]bool{
		"https://www.example.com/api/v3/x":     true,
		"https://WWW.Example.COM:443/api/v3/x": true,
		"HTTPS://www.example.com/x":            true,
		"http://www.example.com/api/v3/x":      false, // in clear
		"https://www.example.com:8443/x":       false,
		"https://evil.www.example.com/x":       false,
		"https://www.example.com.evil.io/x":    false,
		"https://example.com/x":                false,
	} {
		pu, err := url.Parse(u)
		require.NoError(t, err)
		assert.Equal(t, want, c.ownOrigin(pu), u)
	}
	// A Host header apart from the URL names another target: no token.
	for host, want := range map[string]bool{"": true, "www.example.com": true, "WWW.EXAMPLE.COM:443": true, "evil.example": false, "www.example.com:8443": false} {
		req, _ := http.NewRequest("GET", "https://www.example.com/api/v3/x", nil)
		req.Host = host
		assert.Equal(t, want, c.ownTarget(req), "Host %q", host)
	}
	c, err = NewClient(WithBaseURL("http://127.0.0.1:8080"))
	require.NoError(t, err)
	for u, want := range map[string]bool{"http://127.0.0.1:8080/x": true, "https://127.0.0.1:8080/x": false, "http://127.0.0.1/x": false, "http://localhost:8080/x": false} {
		pu, _ := url.Parse(u)
		assert.Equal(t, want, c.ownOrigin(pu), u)
	}
}

func TestRequestHeadersAndEnvelope(t *testing.T) {
	t.Parallel()
	_, mux, srv := setup(t)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		serveJSON(w, 200, fixture(t, "conversations/inbox_write-scope-response.json"))
	})
	c := srv.client(t, WithUserAgent("my-app/1.0"))
	assign := int64(9)
	conv, resp, err := c.Conversations.Update(context.Background(), 5, &ConversationUpdate{AssigneeID: &assign, Closed: Ptr(true)})
	require.NoError(t, err)
	assert.Equal(t, int64(5), conv.ID)
	assert.Equal(t, "req-123", resp.RequestID)

	r := srv.requests()[0]
	assert.Equal(t, "PUT", r.Method)
	assert.Equal(t, "/api/v3/inbox/conversations/5", r.Path)
	assert.Equal(t, "Bearer "+testToken, r.Header.Get("Authorization"))
	assert.Equal(t, "application/vnd.api+json", r.Header.Get("Accept"))
	assert.Equal(t, "application/vnd.api+json", r.Header.Get("Content-Type"))
	assert.Equal(t, "my-app/1.0", r.Header.Get("User-Agent"))
	assert.JSONEq(t, `{"conversations":[{"assignee_id":9,"closed":true}]}`, string(r.Body))
}

func TestConversationUpdateMatchesFixtureAndUnassigns(t *testing.T) {
	t.Parallel()
	_, mux, srv := setup(t)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		serveJSON(w, 200, fixture(t, "conversations/inbox_write-scope-response.json"))
	})
	c := srv.client(t)
	_, _, err := c.Conversations.Update(context.Background(), 5, &ConversationUpdate{DefaultChannel: Ptr(Channel("channelname"))})
	require.NoError(t, err)
	_, _, err = c.Conversations.Update(context.Background(), 5, &ConversationUpdate{Unassign: true})
	require.NoError(t, err)
	reqs := srv.requests()
	assert.JSONEq(t, string(fixture(t, "conversations/update-request.json")), string(reqs[0].Body))
	assert.JSONEq(t, `{"conversations":[{"assignee_id":null}]}`, string(reqs[1].Body))
}

func TestConnectAndDisconnectBooking(t *testing.T) {
	t.Parallel()
	_, mux, srv := setup(t)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		serveJSON(w, 200, fixture(t, "conversations/connect-booking-inbox_write-scope-response.json"))
	})
	c := srv.client(t)
	conv, _, err := c.Conversations.ConnectBooking(context.Background(), 5, 15)
	require.NoError(t, err)
	assert.Equal(t, []int64{15}, conv.Links.Bookings)
	_, _, err = c.Conversations.DisconnectBooking(context.Background(), 5, 15)
	require.NoError(t, err)
	reqs := srv.requests()
	require.Len(t, reqs, 2)
	assert.Equal(t, "/api/v3/inbox/conversations/5/connect_booking", reqs[0].Path)
	assert.Equal(t, "/api/v3/inbox/conversations/5/disconnect_booking", reqs[1].Path)
	for i, name := range []string{"connect_booking-request.json", "disconnect_booking-request.json"} {
		assert.Equal(t, "PUT", reqs[i].Method)
		assert.JSONEq(t, string(fixture(t, "conversations/"+name)), string(reqs[i].Body))
	}
	_, _, err = c.Conversations.ConnectBooking(context.Background(), 5, 0)
	assert.ErrorIs(t, err, ErrInvalidRequest)
	assert.Len(t, srv.requests(), 2, "an invalid id sends nothing")
}

func TestGetManyJoinsIDsInPath(t *testing.T) {
	t.Parallel()
	_, mux, srv := setup(t)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		serveJSON(w, 200, []byte(`{"conversations":[{"id":1},{"id":2},{"id":3}],"meta":{}}`))
	})
	c := srv.client(t)
	got, _, err := c.Conversations.GetMany(context.Background(), []int64{1, 2, 3})
	require.NoError(t, err)
	assert.Len(t, got, 3)
	assert.Equal(t, "/api/v3/inbox/conversations/1,2,3", srv.requests()[0].Path)

	got, resp, err := c.Conversations.GetMany(context.Background(), nil)
	assert.NoError(t, err)
	assert.Nil(t, resp)
	assert.Empty(t, got)
	assert.Len(t, srv.requests(), 1, "no ids, no request")

	ids := make([]int64, 250)
	for i := range ids {
		ids[i] = int64(i + 1)
	}
	_, _, err = c.Conversations.GetMany(context.Background(), ids)
	require.NoError(t, err)
	assert.Len(t, srv.requests(), 4, "250 ids go in three requests of at most 100")

	// A bad id anywhere is refused before the first request.
	ids[200] = 0
	_, _, err = c.Conversations.GetMany(context.Background(), ids)
	assert.ErrorIs(t, err, ErrInvalidRequest)
	assert.Len(t, srv.requests(), 4, "an invalid id sends nothing")
}

// pagedIDs answers GET /rentals/{ids} as the live API does: the known ids
// per a page, with X-Total-Count, X-Per-Page and a Link header. total,
// when set, states the total of a call (n from 1) instead of the truth,
// as while records are being deleted.
func pagedIDs(limit int, total func(n int) int) http.HandlerFunc {
	var mu sync.Mutex
	n := 0
	return func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n++
		call := n
		mu.Unlock()
		ids := strings.Split(r.PathValue("ids"), ",")
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		page = max(page, 1)
		per := limit
		if pp, err := strconv.Atoi(r.URL.Query().Get("per_page")); err == nil && pp < per {
			per = pp
		}
		count := len(ids)
		if total != nil {
			count = total(call)
		}
		pages := (len(ids) + per - 1) / per
		var items []string
		for _, id := range ids[min((page-1)*per, len(ids)):min(page*per, len(ids))] {
			items = append(items, `{"id":`+id+`}`)
		}
		link := `<http://x/api/v3/rentals/` + r.PathValue("ids") + `?page=1&per_page=` + strconv.Itoa(per) + `>; rel="first"`
		if page < pages {
			link += `, <http://x/api/v3/rentals/x?page=` + strconv.Itoa(page+1) + `&per_page=` + strconv.Itoa(per) + `>; rel="next"`
		}
		answer(w, 200, inboxEnvelope("rentals", items...), "Link", link,
			"X-Total-Count", strconv.Itoa(count), "X-Per-Page", strconv.Itoa(per), "X-Total-Pages", strconv.Itoa(pages))
	}
}

// TestGetManyReadsEveryPage: 120 rental ids answered 50 a page come whole,
// in two lists of at most 100 ids, the first read over two pages that ask
// for the first's page size.
func TestGetManyReadsEveryPage(t *testing.T) {
	t.Parallel()
	c, mux, srv := setup(t)
	mux.HandleFunc("GET /rentals/{ids}", pagedIDs(50, nil))
	ids := make([]int64, 120)
	for i := range ids {
		ids[i] = int64(5000 + i)
	}
	got, _, err := c.Rentals.GetManyWith(context.Background(), ids, &GetOptions{Fields: []string{"id", "name"}})
	require.NoError(t, err)
	require.Len(t, got, 120)
	for i, r := range got {
		assert.Equal(t, ids[i], r.ID)
	}
	paths := srv.paths()
	require.Len(t, paths, 3, "%v", paths)
	assert.True(t, strings.HasSuffix(paths[0], "?fields=id,name"), paths[0])
	assert.True(t, strings.HasSuffix(paths[1], "?fields=id,name&page=2&per_page=50"), paths[1])
}

// TestGetManyRereadsAShiftedAnswer: a total that falls after page 1 means
// a record was deleted between the pages and another may have slipped
// between them: the list is read again from page 1, and after three such
// reads GetMany fails rather than return part of the answer.
func TestGetManyRereadsAShiftedAnswer(t *testing.T) {
	t.Parallel()
	c, mux, srv := setup(t)
	mux.HandleFunc("GET /rentals/{ids}", pagedIDs(50, func(n int) int {
		if n == 2 {
			return 59 // page 2 of the first read: one deleted meanwhile
		}
		return 60
	}))
	ids := make([]int64, 60)
	for i := range ids {
		ids[i] = int64(i + 1)
	}
	got, _, err := c.Rentals.GetMany(context.Background(), ids)
	require.NoError(t, err)
	assert.Len(t, got, 60)
	assert.Equal(t, 4, srv.total(), "two reads of two pages")

	c2, mux2, srv2 := setup(t)
	mux2.HandleFunc("GET /rentals/{ids}", pagedIDs(50, func(n int) int { return 59 + n%2 }))
	got, _, err = c2.Rentals.GetMany(context.Background(), ids)
	assert.Nil(t, got)
	assert.ErrorContains(t, err, "deleted while the answer was paged")
	assert.Equal(t, 6, srv2.total(), "three reads of two pages")
}

func TestGetEmptyEnvelopeIsTypedError(t *testing.T) {
	t.Parallel()
	_, mux, srv := setup(t)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		serveJSON(w, 200, []byte(`{"conversations":[],"meta":{}}`))
	})
	_, _, err := srv.client(t).Conversations.Get(context.Background(), 5)
	var de *DecodeError
	require.ErrorAs(t, err, &de)
	assert.Contains(t, err.Error(), "holds no conversations")
}

func TestDoDecodesIntoCallersStruct(t *testing.T) {
	t.Parallel()
	_, mux, srv := setup(t)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		serveJSON(w, 200, []byte(`{"hosts":[{"id":2,"firstname":"Jan"}],"meta":{"deleted_ids":[7,"8"]}}`))
	})
	c := srv.client(t)
	req, err := c.NewRequest(context.Background(), "GET", "hosts?updated_since=2020-01-01T00:00:00Z", nil)
	require.NoError(t, err)
	var env struct {
		Hosts []struct {
			ID        int64
			Firstname string
		} `json:"hosts"`
		Meta Meta `json:"meta"`
	}
	resp, err := c.Do(req, &env)
	require.NoError(t, err)
	assert.Equal(t, "Jan", env.Hosts[0].Firstname)
	assert.Equal(t, []int64{7, 8}, resp.Meta.DeletedIDs)
	assert.Equal(t, "updated_since=2020-01-01T00:00:00Z", srv.requests()[0].RawQuery)

	var buf bytes.Buffer
	req, _ = c.NewRequest(context.Background(), "GET", "hosts", nil)
	_, err = c.Do(req, &buf)
	require.NoError(t, err)
	assert.Contains(t, buf.String(), `"firstname":"Jan"`)

	_, err = c.NewRequest(context.Background(), "GET", "https://evil.example.com/x", nil)
	assert.Error(t, err, "absolute URLs are not API paths")
}

func TestTokenOnlyGoesToOwnHost(t *testing.T) {
	t.Parallel()
	other := newTestServer(t, 0)
	other.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) })
	_, mux, srv := setup(t)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) })
	c := srv.client(t)
	req, _ := http.NewRequestWithContext(context.Background(), "GET", other.URL+"/x", nil)
	_, err := c.Do(req, nil)
	require.NoError(t, err)
	assert.Empty(t, other.requests()[0].Header.Get("Authorization"))
}

func TestEmpty204(t *testing.T) {
	t.Parallel()
	_, mux, srv := setup(t)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Request-Id", "r204")
		w.WriteHeader(http.StatusNoContent)
	})
	c := srv.client(t)
	req, _ := c.NewRequest(context.Background(), "DELETE", "hosts/2", nil)
	var v struct {
		Hosts []*Host `json:"hosts"`
	}
	resp, err := c.Do(req, &v)
	require.NoError(t, err)
	assert.Equal(t, 204, resp.StatusCode)
	assert.Equal(t, "r204", resp.RequestID)
	assert.Empty(t, v.Hosts)
}

func TestResponseTooLarge(t *testing.T) {
	t.Parallel()
	_, mux, srv := setup(t)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		serveJSON(w, 200, fixture(t, "conversations/inbox_write-scope-response.json"))
	})
	c := srv.client(t, WithMaxResponseBytes(100))
	_, _, err := c.Conversations.Get(context.Background(), 5)
	assert.ErrorIs(t, err, ErrResponseTooLarge)
}

func TestCancelledContext(t *testing.T) {
	t.Parallel()
	_, mux, srv := setup(t)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { serveJSON(w, 200, []byte(`{}`)) })
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, _, err := srv.client(t).Conversations.Get(ctx, 1)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Empty(t, srv.requests())
}

// refreshingSource is a TokenRefresher counting refreshes.
type refreshingSource struct {
	mu        sync.Mutex
	tok       *oauth2.Token
	refreshes int
}

func (s *refreshingSource) Token() (*oauth2.Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tok, nil
}

func (s *refreshingSource) RefreshToken(_ context.Context, rejected *oauth2.Token) (*oauth2.Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if rejected.AccessToken == s.tok.AccessToken {
		s.refreshes++
		s.tok = &oauth2.Token{AccessToken: fmt.Sprintf("fresh-%d", s.refreshes), TokenType: "Bearer"}
	}
	return s.tok, nil
}

func unauthorized(w http.ResponseWriter) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="Doorkeeper", error="invalid_token", error_description="The access token is invalid"`)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(401)
	w.Write([]byte(`{"error": "Not authorized"}`))
}

func TestRefreshOnceOn401(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, 0)
	srv.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer fresh-1" {
			unauthorized(w)
			return
		}
		serveJSON(w, 201, fixture(t, "hosts/inbox_write-scope-response.json"))
	})
	ts := &refreshingSource{tok: &oauth2.Token{AccessToken: "stale"}}
	c, err := NewClient(WithBaseURL(srv.URL), WithTokenSource(ts))
	require.NoError(t, err)
	req, _ := c.NewRequest(context.Background(), "POST", "hosts", map[string]any{"hosts": []any{map[string]string{"firstname": "A"}}})
	resp, err := c.Do(req, nil)
	require.NoError(t, err)
	assert.Equal(t, 201, resp.StatusCode)
	reqs := srv.requests()
	require.Len(t, reqs, 2)
	assert.Equal(t, reqs[0].Body, reqs[1].Body, "the resent POST carries the same body")
	assert.Equal(t, 1, ts.refreshes)

	// A second 401 after the refresh is returned as ErrUnauthorized.
	ts2 := &refreshingSource{tok: &oauth2.Token{AccessToken: "stale"}}
	_, srv2Mux, srv2 := setup(t)
	srv2Mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { unauthorized(w) })
	c2, _ := NewClient(WithBaseURL(srv2.URL), WithTokenSource(ts2))
	_, _, err = c2.Hosts.Get(context.Background(), 2)
	assert.ErrorIs(t, err, ErrUnauthorized)
	assert.Len(t, srv2.requests(), 2)
	assert.Equal(t, 1, ts2.refreshes)
}

func TestStaticTokenIsNeverRefreshed(t *testing.T) {
	t.Parallel()
	_, mux, srv := setup(t)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { unauthorized(w) })
	_, _, err := srv.client(t).Hosts.Get(context.Background(), 2)
	var er *ErrorResponse
	require.ErrorAs(t, err, &er)
	assert.Equal(t, "invalid_token", er.AuthError)
	assert.Equal(t, "Not authorized", er.Message)
	assert.Len(t, srv.requests(), 1)
	assert.NotContains(t, err.Error(), testToken)
}

func TestLoggerNeverLogsSecrets(t *testing.T) {
	t.Parallel()
	_, mux, srv := setup(t)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		serveJSON(w, 200, fixture(t, "hosts/inbox_write-scope-response.json"))
	})
	var buf bytes.Buffer
	c := srv.client(t, WithLogger(slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	_, _, err := c.Hosts.List(context.Background(), &ListOptions{Page: 2})
	require.NoError(t, err)
	var line map[string]any
	require.NoError(t, json.Unmarshal(buf.Bytes(), &line))
	assert.Equal(t, "GET", line["method"])
	assert.Equal(t, "/api/v3/hosts", line["path"])
	assert.EqualValues(t, 200, line["status"])
	assert.Equal(t, "req-123", line["request_id"])
	assert.Contains(t, line, "duration")
	assert.NotContains(t, buf.String(), testToken)
}

func TestRateIsRecorded(t *testing.T) {
	t.Parallel()
	_, mux, srv := setup(t)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		serveJSON(w, 200, fixture(t, "hosts/inbox_write-scope-response.json"))
	})
	c := srv.client(t)
	_, resp, err := c.Hosts.Get(context.Background(), 2)
	require.NoError(t, err)
	want := Rate{Limit: 1000, Remaining: 998, Reset: time.Unix(1700000000, 0).UTC()}
	assert.Equal(t, want, resp.Rate)
	assert.Equal(t, want, c.Rate())
}

func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	_, mux, srv := setup(t)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		serveJSON(w, 200, fixture(t, "conversations/inbox_write-scope-response.json"))
	})
	c := srv.client(t)
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, err := c.Conversations.Get(context.Background(), 5)
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		assert.NoError(t, err)
	}
	reqs := srv.requests()
	assert.Len(t, reqs, 32)
	for _, r := range reqs {
		assert.Equal(t, "Bearer "+testToken, r.Header.Get("Authorization"), "every concurrent request is authenticated")
	}
}

// Redaction never mangles data: a token too short to be real ("t") is
// not searched for in what the server sends.
func TestShortTokenLeavesDataAlone(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, 0)
	srv.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { serveJSON(w, 200, []byte(convOK)) })
	c := srv.client(t, WithToken("t"))
	conv, _, err := c.Conversations.Get(context.Background(), 5)
	require.NoError(t, err)
	assert.Equal(t, "Hi", conv.Subject)
}

// A caller's own struct gets the envelope's meta in Response.Meta, a
// deleted id that is no integer in Meta.UnreadableDeletedIDs; a meta that
// does not read fails the call rather than drop its deleted ids, and a
// body that is no envelope has no meta to read.
func TestDoMetaOfCallersStruct(t *testing.T) {
	t.Parallel()
	_, mux, srv := setup(t)
	mux.HandleFunc("/hosts", func(w http.ResponseWriter, r *http.Request) {
		serveJSON(w, 200, []byte(`{"hosts":[{"id":2}],"meta":{"deleted_ids":[3,"x"]}}`))
	})
	mux.HandleFunc("/broken", func(w http.ResponseWriter, r *http.Request) {
		serveJSON(w, 200, []byte(`{"hosts":[{"id":2}],"meta":["deleted_ids"]}`))
	})
	mux.HandleFunc("/list", func(w http.ResponseWriter, r *http.Request) {
		serveJSON(w, 200, []byte(`[{"id":2}]`))
	})
	c := srv.client(t)
	req, err := c.NewRequest(context.Background(), "GET", "hosts", nil)
	require.NoError(t, err)
	var env struct {
		Hosts []struct{ ID int64 } `json:"hosts"`
	}
	resp, err := c.Do(req, &env)
	require.NoError(t, err)
	assert.Equal(t, []int64{3}, resp.Meta.DeletedIDs)
	assert.Equal(t, []json.RawMessage{json.RawMessage(`"x"`)}, resp.Meta.UnreadableDeletedIDs)

	req, err = c.NewRequest(context.Background(), "GET", "broken", nil)
	require.NoError(t, err)
	_, err = c.Do(req, &env)
	var de *DecodeError
	require.ErrorAs(t, err, &de)
	assert.ErrorContains(t, err, "meta")

	req, err = c.NewRequest(context.Background(), "GET", "list", nil)
	require.NoError(t, err)
	var list []struct{ ID int64 }
	resp, err = c.Do(req, &list)
	require.NoError(t, err)
	assert.Len(t, list, 1)
	assert.Empty(t, resp.Meta.DeletedIDs)
}
