package bookingsync

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCreatingAConversationIsRefusedAndSendsNothing(t *testing.T) {
	t.Parallel()
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
	t.Parallel()
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

// guardCase is one hand-built request to the guarded routes.
type guardCase struct {
	name    string
	method  string
	target  string // relative to <server>/api/v3/, or absolute
	header  []string
	body    string
	refused bool
}

func (gc guardCase) request(t *testing.T, base string) *http.Request {
	t.Helper()
	target := gc.target
	if !strings.Contains(target, "://") {
		target = base + "/api/v3/" + target
	}
	var body io.Reader
	if gc.body != "" {
		body = strings.NewReader(gc.body)
	}
	req, err := http.NewRequestWithContext(context.Background(), gc.method, target, body)
	require.NoError(t, err, gc.name)
	for i := 0; i+1 < len(gc.header); i += 2 {
		req.Header.Add(gc.header[i], gc.header[i+1])
	}
	return req
}

// runGuardCases sends each case through Do: a refused one must match
// ErrRefused and reach nothing; an allowed one must arrive with the very
// body it was judged on.
func runGuardCases(t *testing.T, cases []guardCase) {
	t.Helper()
	srv := newTestServer(t, 0)
	srv.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { serveJSON(w, 200, []byte(`{}`)) })
	c := srv.client(t)
	for _, gc := range cases {
		before := len(srv.requests())
		_, err := c.Do(gc.request(t, srv.URL), nil)
		got := srv.requests()[before:]
		if gc.refused {
			assert.ErrorIs(t, err, ErrRefused, gc.name)
			assert.Empty(t, got, "%s: nothing sent", gc.name)
			continue
		}
		if !assert.NoError(t, err, "%s: want sent once", gc.name) || !assert.Len(t, got, 1, "%s: want sent once", gc.name) {
			continue
		}
		assert.Equal(t, gc.body, string(got[0].Body), gc.name)
	}
}

const hostBody = `{"participants":[{"conversation_id":3,"member_id":5,"member_type":"Host"}]}`

func TestGuardRoutesAsRailsWould(t *testing.T) {
	t.Parallel()
	conv := func(name, method, target string, header ...string) guardCase {
		return guardCase{name: name, method: method, target: target, header: header, body: `{"conversations":[{}]}`, refused: true}
	}
	cases := []guardCase{
		conv("format .json", "POST", "inbox/conversations.json"),
		conv("format .xml", "POST", "inbox/conversations.xml"),
		conv("format .js", "POST", "inbox/conversations.js"),
		conv("format, trailing slash", "POST", "inbox/conversations.json/"),
		conv("percent-encoded letter", "POST", "inbox/%63onversations"),
		conv("percent-encoded slash", "POST", "inbox%2Fconversations"),
		conv("double percent-encoding", "POST", "inbox/%2563onversations"),
		conv("backslash", "POST", `inbox%5Cconversations`),
		conv("matrix parameter", "POST", "inbox/conversations;jsessionid=1"),
		conv("dot-dot with matrix", "POST", "inbox/messages/..;/conversations"),
		conv("encoded dot-dot", "POST", "inbox/messages/%2e%2e/conversations"),
		conv("upper case", "POST", "INBOX/CONVERSATIONS"),
		conv("lower-case method", "post", "inbox/conversations"),
		conv("PUT to the collection", "PUT", "inbox/conversations"),
		conv("PATCH to the collection", "PATCH", "inbox/conversations"),
		conv("override header", "GET", "inbox/conversations", "X-HTTP-Method-Override", "POST"),
		conv("X-HTTP-Method", "GET", "inbox/conversations", "X-HTTP-Method", "post"),
		conv("X-Method-Override", "GET", "inbox/conversations", "X-Method-Override", "POST"),
		conv("_method in the query", "GET", "inbox/conversations?_method=post"),
		{name: "_method in a form body", method: "GET", target: "inbox/conversations", header: []string{"Content-Type", "application/x-www-form-urlencoded"}, body: "_method=POST&conversations[][subject]=x", refused: true},
		conv("without the api prefix", "POST", "../../inbox/conversations"),
		{name: "a query it cannot parse", method: "GET", target: "inbox/conversations?_method=POST;x=1", refused: true},

		{name: "list", method: "GET", target: "inbox/conversations?page=2"},
		{name: "list, format", method: "GET", target: "inbox/conversations.json"},
		{name: "update", method: "PUT", target: "inbox/conversations/5", body: `{"conversations":[{"closed":true}]}`},
		{name: "connect booking", method: "PUT", target: "inbox/conversations/5/connect_booking", body: `{"bookings":[{"id":15}]}`},
	}
	runGuardCases(t, cases)

	// An Opaque URL goes on the wire as it is, whatever Path says.
	srv := newTestServer(t, 0)
	srv.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { serveJSON(w, 200, []byte(`{}`)) })
	c := srv.client(t)
	u, _ := url.Parse(srv.URL + "/api/v3/inbox/messages")
	u.Opaque = "/api/v3/inbox/conversations"
	req, _ := http.NewRequestWithContext(context.Background(), "POST", srv.URL, strings.NewReader(`{}`))
	req.URL = u
	_, err := c.Do(req, nil)
	assert.ErrorIs(t, err, ErrRefused, "opaque URL")
	u.Opaque = "//" + u.Host + "/api/v3/inbox/participants?member_type=Client"
	_, err = c.Do(req, nil)
	assert.ErrorIs(t, err, ErrRefused, "opaque URL with host and query")

	// A header key set outside Header.Set goes on the wire as it is and is
	// read by the server in its canonical form: so by the guard.
	req, _ = http.NewRequestWithContext(context.Background(), "GET", srv.URL+"/api/v3/inbox/conversations", nil)
	req.Header["x-http-method-override"] = []string{"POST"}
	_, err = c.Do(req, nil)
	assert.ErrorIs(t, err, ErrRefused, "lower-case override header")
	req, _ = http.NewRequestWithContext(context.Background(), "POST", srv.URL+"/api/v3/inbox/participants", strings.NewReader(hostBody))
	req.Header["content-encoding"] = []string{"gzip"}
	_, err = c.Do(req, nil)
	assert.ErrorIs(t, err, ErrRefused, "lower-case Content-Encoding")
	assert.Empty(t, srv.requests())
}

func TestGuardReadsParticipantsAsRailsWould(t *testing.T) {
	t.Parallel()
	js := []string{"Content-Type", "application/vnd.api+json"}
	form := []string{"Content-Type", "application/x-www-form-urlencoded"}
	refuse := func(name, target string, header []string, body string) guardCase {
		return guardCase{name: name, method: "POST", target: target, header: header, body: body, refused: true}
	}
	const mp = "--XyZ\r\nContent-Disposition: form-data; name=\"participants[][member_id]\"\r\n\r\n5\r\n--XyZ\r\nContent-Disposition: form-data; name=\"participants[][member_type]\"\r\n\r\n%s\r\n--XyZ--\r\n"
	multi := []string{"Content-Type", "multipart/form-data; boundary=XyZ"}
	cases := []guardCase{
		// Query parameters are merged with the body's.
		refuse("Client in the query", "inbox/participants?participants[][member_type]=Client", js, hostBody),
		refuse("Client in the query, encoded", "inbox/participants?participants%5B%5D%5Bmember_type%5D=%43lient", js, hostBody),
		{name: "PUT with Client in the query", method: "PUT", target: "inbox/participants/5?member_type=Client", header: js, body: `{"read":true}`, refused: true},
		{name: "GET overridden to POST", method: "GET", target: "inbox/participants?_method=POST&member_type=Client", refused: true},
		{name: "GET with a query split on ;", method: "GET", target: "inbox/participants?_method=POST;member_type=Client", refused: true},
		{name: "GET with a bad escape", method: "GET", target: "inbox/participants?page=%zz", refused: true},
		{name: "GET with override header", method: "GET", target: "inbox/participants?member_type=Client", header: []string{"X-HTTP-Method-Override", "PATCH"}, refused: true},
		// Every route to participants.
		refuse("format .json", "inbox/participants.json", js, `{"participants":[{"member_type":"Client"}]}`),
		refuse("format .xml", "inbox/participants.xml", js, `{"participants":[{"member_type":"Client"}]}`),
		refuse("encoded path", "inbox/%70articipants", js, `{"participants":[{"member_type":"Client"}]}`),
		refuse("nested route", "inbox/conversations/3/participants", js, `{"participants":[{"member_type":"Client"}]}`),
		// Every shape of a Client member.
		refuse("second member", "inbox/participants", js, `{"participants":[{"member_type":"Host","member_id":1},{"member_type":"Client","member_id":2}]}`),
		refuse("duplicate key", "inbox/participants", js, `{"participants":[{"member_type":"Client","member_type":"Host"}]}`),
		refuse("unicode escape", "inbox/participants", js, `{"participants":[{"member_type":"\u0043lient"}]}`),
		refuse("namespaced", "inbox/participants", js, `{"participants":[{"member_type":"::Client"}]}`),
		refuse("subclass", "inbox/participants", js, `{"participants":[{"member_type":"Client::Traveller"}]}`),
		refuse("key case and space", "inbox/participants", js, `{"participants":[{"Member_Type ":"client"}]}`),
		refuse("value tab", "inbox/participants", js, `{"participants":[{"member_type":"\tCLIENT\n"}]}`),
		refuse("member object", "inbox/participants", js, `{"participants":[{"member":{"id":5,"type":"Client"}}]}`),
		refuse("wrapped by Rails", "inbox/participants", js, `{"member_type":"Client","member_id":5}`),
		refuse("top-level array", "inbox/participants", js, `[{"member_type":"Client"}]`),
		refuse("array value", "inbox/participants", js, `{"participants":[{"member_type":["Client"]}]}`),
		refuse("not Host", "inbox/participants", js, `{"participants":[{"member_type":"Guest"}]}`),
		refuse("number", "inbox/participants", js, `{"participants":[{"member_type":1}]}`),
		refuse("null", "inbox/participants", js, `{"participants":[{"member_type":null}]}`),
		refuse("object value", "inbox/participants", js, `{"participants":[{"member_type":{"name":"Host"}}]}`),
		// What encoding/json rejects and Ruby may accept.
		refuse("comment", "inbox/participants", js, `/* Host */ {"participants":[{"member_type":"Client"}]}`),
		refuse("comment hiding nothing", "inbox/participants", js, `{"participants":[{"member_type":"Host"}]} // ok`),
		refuse("trailing comma", "inbox/participants", js, `{"participants":[{"member_type":"Host"},]}`),
		refuse("NaN", "inbox/participants", js, `{"participants":[{"member_id":NaN,"member_type":"Host"}]}`),
		refuse("second value", "inbox/participants", js, hostBody+` {"participants":[{"member_type":"Host"}]}`),
		refuse("byte order mark", "inbox/participants", js, "\ufeff"+hostBody),
		// Types and encodings it does not read.
		refuse("text/plain", "inbox/participants", []string{"Content-Type", "text/plain"}, hostBody),
		refuse("xml", "inbox/participants", []string{"Content-Type", "application/xml"}, `<participant><member-type>Host</member-type></participant>`),
		refuse("utf-16", "inbox/participants", []string{"Content-Type", "application/json; charset=utf-16"}, hostBody),
		refuse("two content types", "inbox/participants", []string{"Content-Type", "application/json", "Content-Type", "text/plain"}, hostBody),
		refuse("content type garbage", "inbox/participants", []string{"Content-Type", ";;=;"}, hostBody),
		refuse("gzip", "inbox/participants", []string{"Content-Type", "application/json", "Content-Encoding", "gzip"}, hostBody),
		refuse("br", "inbox/participants", []string{"Content-Type", "application/json", "Content-Encoding", "br"}, hostBody),
		// Forms.
		refuse("form", "inbox/participants", form, "participants[][member_type]=Client&participants[][member_id]=5"),
		refuse("form, encoded", "inbox/participants", form, "participants%5B0%5D%5Bmember_type%5D=%43lient"),
		refuse("form, member type", "inbox/participants", form, "participants[][member][type]=Client"),
		refuse("form, semicolon", "inbox/participants", form, "member_id=5;member_type=Client"),
		refuse("form, bad escape", "inbox/participants", form, "member_type=Host&x=%zz"),
		refuse("no type, a form to Rack", "inbox/participants", nil, "member_type=client"),
		refuse("too deep", "inbox/participants", js, strings.Repeat("[", 600)+strings.Repeat("]", 600)),
		// Multipart.
		refuse("multipart", "inbox/participants", multi, fmt.Sprintf(mp, "Client")),
		refuse("multipart, not Host", "inbox/participants", multi, fmt.Sprintf(mp, "Guest")),
		refuse("multipart, quoted-printable", "inbox/participants", multi, "--XyZ\r\nContent-Disposition: form-data; name=\"member_type\"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nHo=73t\r\n--XyZ--\r\n"),
		refuse("multipart, file", "inbox/participants", multi, "--XyZ\r\nContent-Disposition: form-data; name=\"member_type\"; filename=\"h.txt\"\r\n\r\nHost\r\n--XyZ--\r\n"),
		refuse("multipart, no boundary", "inbox/participants", []string{"Content-Type", "multipart/form-data"}, fmt.Sprintf(mp, "Host")),
		refuse("multipart, truncated", "inbox/participants", multi, fmt.Sprintf(mp, "Host")[:60]),

		{name: "Host", method: "POST", target: "inbox/participants", header: js, body: hostBody},
		{name: "Host, spaced", method: "POST", target: "inbox/participants.json", header: js, body: `{"participants":[{"conversation_id":3,"member_id":5,"member_type":" host "}]}`},
		{name: "Host form", method: "POST", target: "inbox/participants", header: form, body: "participants[][member_type]=Host&participants[][member_id]=5&participants[][conversation_id]=3"},
		{name: "Host multipart", method: "POST", target: "inbox/participants", header: multi, body: fmt.Sprintf(mp, "Host")},
		{name: "mark read", method: "PUT", target: "inbox/participants/7", header: js, body: `{"participants":[{"read":true}]}`},
		{name: "list", method: "GET", target: "inbox/participants?page=2&per_page=100"},
		{name: "get", method: "GET", target: "inbox/participants/7.json"},
	}
	runGuardCases(t, cases)
}

// The guard judges the bytes that go out: a caller who swaps the body or
// GetBody of a request after NewRequest cannot send anything else.
func TestGuardJudgesTheBodySent(t *testing.T) {
	t.Parallel()
	var n atomic.Int32
	srv := newTestServer(t, 0)
	srv.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			// A 307 makes net/http resend the body from GetBody.
			http.Redirect(w, r, r.RequestURI, http.StatusTemporaryRedirect)
			return
		}
		serveJSON(w, 201, []byte(`{}`))
	})
	c := srv.client(t)
	ctx := context.Background()
	client := `{"participants":[{"conversation_id":3,"member_id":5,"member_type":"Client"}]}`

	req, err := c.NewRequest(ctx, "POST", "inbox/participants", json.RawMessage(hostBody))
	require.NoError(t, err)
	req.Body = io.NopCloser(strings.NewReader(client)) // GetBody still gives the Host body
	_, err = c.Do(req, nil)
	require.ErrorIs(t, err, ErrRefused, "a swapped Body")
	assert.Empty(t, srv.requests())

	req, err = c.NewRequest(ctx, "POST", "inbox/participants", json.RawMessage(hostBody))
	require.NoError(t, err)
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(client)), nil }
	_, err = c.Do(req, nil)
	require.NoError(t, err, "a swapped GetBody is never used")
	reqs := srv.requests()
	require.Len(t, reqs, 2, "the first answer was a redirect")
	for _, r := range reqs {
		assert.Equal(t, hostBody, string(r.Body), "every send carries the judged bytes")
	}
}

// A redirect is judged like a first request: the server cannot bounce a
// harmless write onto a refused route.
func TestGuardJudgesRedirects(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, 0)
	srv.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/inbox/messages"):
			http.Redirect(w, r, "/api/v3/inbox/conversations.json", http.StatusTemporaryRedirect)
		case strings.HasSuffix(r.URL.Path, "/hosts"):
			http.Redirect(w, r, "/api/v3/inbox/participants", http.StatusPermanentRedirect)
		default:
			serveJSON(w, 201, []byte(`{}`))
		}
	})
	c := srv.client(t, WithRetry(RetryPolicy{MaxAttempts: 3, MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond}))
	ctx := context.Background()
	req, _ := c.NewRequest(ctx, "POST", "inbox/messages", map[string]any{"messages": []any{map[string]any{"content": "hi"}}})
	_, err := c.Do(req, nil)
	assert.ErrorIs(t, err, ErrRefused)
	req, _ = c.NewRequest(ctx, "PUT", "hosts", json.RawMessage(`{"participants":[{"member_type":"Client"}]}`))
	_, err = c.Do(req, nil)
	assert.ErrorIs(t, err, ErrRefused)
	reqs := srv.requests()
	require.Len(t, reqs, 2, "each first hop only, never the redirect, never retried")
	assert.True(t, strings.HasSuffix(reqs[0].Path, "/inbox/messages"), "first request %s", reqs[0].Path)
	assert.True(t, strings.HasSuffix(reqs[1].Path, "/hosts"), "second request %s", reqs[1].Path)
}

// The sender check routes as the guard does: no spelling of the path or
// the method, and no redirect, sends a message as a Client participant.
func TestSenderCheckRoutesAsRailsWould(t *testing.T) {
	t.Parallel()
	c, _, s := setup(t)
	handleParticipant(s, MemberTypeClient)
	handleMessageEcho(s)
	body := `{"messages":[{"sender_id":30,"content":"x"}]}`
	for _, tc := range []struct{ method, target, override string }{
		{"post", "inbox/messages", ""},
		{"PATCH", "inbox/messages/5", ""},
		{"POST", "inbox/messages.xml", ""},
		{"POST", "inbox/%6Dessages", ""},
		{"POST", "INBOX//MESSAGES/", ""},
		{"GET", "inbox/messages", "POST"},
		{"POST", "inbox/conversations/7/messages", ""},
	} {
		req, _ := http.NewRequest(tc.method, c.APIURL().String()+tc.target, strings.NewReader(body))
		req.Header.Set("Content-Type", mediaType)
		if tc.override != "" {
			req.Header.Set("X-HTTP-Method-Override", tc.override)
		}
		_, err := c.Do(req, nil)
		assert.ErrorIs(t, err, ErrRefused, "%s %s", tc.method, tc.target)
	}
	// A redirect onto the messages route is checked before it is followed.
	s.mux.HandleFunc("POST /hosts", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, c.APIURL().Path+"inbox/messages", http.StatusTemporaryRedirect)
	})
	req, _ := c.NewRequest(context.Background(), "POST", "hosts", json.RawMessage(body))
	_, err := c.Do(req, nil)
	assert.ErrorIs(t, err, ErrRefused, "redirected")
	for _, r := range s.requests() {
		assert.False(t, r.Method != "GET" && strings.Contains(strings.ToLower(r.Path), "messages"), "a message write reached the server: %s %s", r.Method, r.Path)
	}
}
