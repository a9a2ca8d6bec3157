package bookingsync

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

// The fuzz targets feed the decoders what a hostile or broken server (or
// proxy) could send. None may panic; each checks what must hold of its
// output. Seed corpora live in testdata/fuzz/<FuzzName>/; .ci/fuzz runs
// each target for a few seconds.

func FuzzLinkHeader(f *testing.F) {
	f.Add(`<https://www.bookingsync.com/api/v3/inbox/conversations?page=2&per_page=100>; rel="next", <https://www.bookingsync.com/api/v3/inbox/conversations?page=9&per_page=100>; rel="last"`)
	f.Add(`<https://x/a?page=1>; rel="first prev"`)
	f.Add(`<https://x/a?filter=a%2Cb,c;d&page=3>;rel=next`)
	f.Add(`<>; rel="next"`)
	f.Add(`<https://x/a?page=-4>; rel="next"`)
	f.Add(`<https://x/a?page=99999999999999999999>; rel="last"`)
	f.Add(`<<<>>>;;;rel=,,`)
	f.Fuzz(func(t *testing.T, v string) {
		first, prev, next, last := parseLinkPages([]string{v, v})
		for _, p := range []int{first, prev, next, last} {
			require.False(t, p < 0, "negative page %d from %q", p, v)
		}
		// A Response built from the header agrees with the parser.
		r := newResponse(&http.Response{Header: http.Header{"Link": {v}}})
		require.Equal(t, next, r.NextPage, "newResponse disagrees with parseLinkPages on %q", v)
		require.Equal(t, last, r.LastPage, "newResponse disagrees with parseLinkPages on %q", v)
	})
}

func FuzzEnvelope(f *testing.F) {
	f.Add([]byte(convOK))
	f.Add([]byte(`{"links":{"conversations.account":"https://x/{conversations.account}"},"conversations":[{"id":5,"created_by":{"id":65,"type":"Doorkeeper::Application"},"links":{"bookings":[3],"assignee":null}}],"meta":{"deleted_ids":["7",8],"X-Total-Pages":null,"Link":{"next":"https://x?page=2"}}}`))
	f.Add([]byte(`{"conversations":[null],"meta":{"X-Total-Pages":"-1"}}`))
	f.Add([]byte(`{"messages":[{"id":1,"content":"hi","visibility":"all","links":{"attachments":[1,2]}}]}`))
	f.Add([]byte(`{"participants":[{"id":1,"links":{"member":{"id":5,"type":"Host"}}}]}`))
	f.Add([]byte(`{"bookings":[{"id":8,"locked":"doorkeeper/application-17","reconciliation":{ "a" : [1, 2] },"links":{"account":1}}]}`))
	f.Add([]byte(`{"bookings":[{"id":9,"locked":true,"reconciliation":null,"links":{"conversations":[]}}]}`))
	f.Add([]byte(`{"clients":[{"id":1,"fullname":"A B","emails":[{"id":1,"client_id":1,"label":"default","email":"a@b","locked":null}],"phones":[{"number":"1","country_code":null}],"addresses":[]}]}`))
	f.Add([]byte(`{"inquiries":[{"id":1,"phone":7273647616,"start_at":null,"links":{"rental":2,"booking":null}}]}`))
	f.Add([]byte(`{"rentals":[{"id":1,"headline":{"en":null},"lat":45.02,"vr_bathrooms_count":1.5,"certifications":{"x":["1"]},"min_price":"420.0"}]}`))
	f.Add([]byte(`{"accounts_applications":[{"links":{"account":"1"},"partnership_invoice_recipient":"account"}]}`))
	f.Add([]byte(`<html>502</html>`))
	f.Add([]byte(``))
	f.Fuzz(func(t *testing.T, body []byte) {
		decodeEnvelope[Booking](t, body, "bookings")
		decodeEnvelope[Conversation](t, body, "conversations")
		decodeEnvelope[Message](t, body, "messages")
		decodeEnvelope[Participant](t, body, "participants")
		decodeEnvelope[Guest](t, body, "clients")
		decodeEnvelope[Rental](t, body, "rentals")
		decodeEnvelope[Account](t, body, "accounts")
		decodeEnvelope[Source](t, body, "sources")
		decodeEnvelope[Inquiry](t, body, "inquiries")
		decodeEnvelope[Me](t, body, "accounts_applications")
	})
}

func decodeEnvelope[T any](t *testing.T, body []byte, key string) {
	p := page[T]{key: key}
	resp := &Response{Response: &http.Response{StatusCode: 200, Header: http.Header{}}}
	if err := decodeBody(body, &p, resp); err != nil {
		return
	}
	items := p.items
	for i, it := range items {
		require.NotNil(t, it, "%s[%d] decoded as nil", key, i)
	}
	_, err := json.Marshal(items)
	require.NoError(t, err, "decoded %s do not encode", key)
	require.GreaterOrEqual(t, resp.TotalPages, 0, "TotalPages")
	require.GreaterOrEqual(t, resp.TotalCount, 0, "TotalCount")
	require.GreaterOrEqual(t, resp.PerPage, 0, "PerPage")
	require.GreaterOrEqual(t, resp.NextPage, 0, "NextPage")
}

// FuzzMetaDeletedIDs: a meta whose deleted_ids is an array reads without
// error, every entry landing once in DeletedIDs or, verbatim,
// UnreadableDeletedIDs; no entry is lost and none is made up.
func FuzzMetaDeletedIDs(f *testing.F) {
	for _, s := range []string{`[1,"2"]`, `[7,"abc",1.5,null,{"id":9},"",-3,[1]]`, `"abc"`, `null`, `[]`, `[99999999999999999999]`, `["\u0031"]`, `[1e3, true]`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, deleted string) {
		var m Meta
		err := json.Unmarshal([]byte(`{"deleted_ids":`+deleted+`}`), &m)
		var entries []json.RawMessage
		if json.Unmarshal([]byte(deleted), &entries) != nil {
			return // not an array: tested by example
		}
		require.NoError(t, err, "deleted_ids %s", deleted)
		require.Equal(t, len(entries), len(m.DeletedIDs)+len(m.UnreadableDeletedIDs), "deleted_ids %s", deleted)
		ids, bad := m.DeletedIDs, m.UnreadableDeletedIDs
		for _, e := range entries {
			if len(bad) > 0 && string(bad[0]) == string(e) {
				bad = bad[1:]
				continue
			}
			// A readable entry is an integer, bare or in a string.
			text := string(e)
			if strings.HasPrefix(text, `"`) {
				require.NoError(t, json.Unmarshal(e, &text))
			}
			n, err := strconv.ParseInt(text, 10, 64)
			require.NoError(t, err, "entry %s neither read nor kept", e)
			require.NotEmpty(t, ids, "entry %s lost", e)
			require.Equal(t, n, ids[0], "entry %s", e)
			ids = ids[1:]
		}
	})
}

func FuzzErrorBody(f *testing.F) {
	f.Add(401, `Bearer realm="Doorkeeper", error="invalid_token", error_description="The access token is invalid"`, "", []byte(`{"error":"Not authorized"}`))
	f.Add(422, "", "", []byte(`{"errors":{"content":["can't be blank"],"sent_at":"is invalid"}}`))
	f.Add(422, "", "", []byte(`{"errors":[{"title":"bad"},"worse",{"code":"x"}]}`))
	f.Add(429, "", "1700000000", []byte(`{"error":"API v3 rate limit exceeded."}`))
	f.Add(429, "", "garbage", []byte(``))
	f.Add(502, "", "", []byte("<html><body><h1>502 Bad Gateway</h1>\xff\xfe</body></html>"))
	f.Add(500, "", "", []byte(`{"error":{"error":{"message":"nested"}}}`))
	f.Add(500, "", "", nestedErrorBody(9000))
	f.Add(422, "", "", []byte(`{"errors":{"f":[["deep"]],"g":{"h":1}},"error":{"errors":["x"]}}`))
	f.Add(429, "", "99999999999", []byte(`{"error":"API v3 rate limit exceeded."}`))
	f.Fuzz(func(t *testing.T, status int, wwwAuth, reset string, body []byte) {
		if status < 100 || status > 999 {
			status = 400 + (status%100+100)%100
		}
		h := http.Header{}
		h.Set("WWW-Authenticate", wwwAuth)
		h.Set("X-RateLimit-Reset", reset)
		h.Set("X-Request-Id", "req-1")
		r := &http.Response{StatusCode: status, Header: h}
		err := newErrorResponse("GET", "/api/v3/inbox/conversations", r, body)
		require.Error(t, err, "nil error")
		msg := err.Error()
		var er *ErrorResponse
		require.ErrorAs(t, err, &er, "status %d", status)
		require.Equal(t, status, er.StatusCode)
		require.Equal(t, "req-1", er.RequestID)
		require.LessOrEqual(t, len(er.Body), 200+len("…"), "body excerpt %q", er.Body)
		require.True(t, utf8.ValidString(er.Body), "body excerpt %q is not UTF-8", er.Body)
		var rl *RateLimitError
		isRL := errors.As(err, &rl)
		require.Equal(t, status == 429, isRL, "status %d: is a *RateLimitError", status)
		require.Equal(t, status == 429, errors.Is(err, ErrRateLimited), "status %d: matches ErrRateLimited", status)
		require.NotEqual(t, "", msg, "empty message")
		// A reset beyond the hourly window is never believed.
		now := time.Now()
		rate := parseRate(h).plausible(now)
		require.False(t, !rate.Reset.IsZero() && rate.Reset.Sub(now) > resetHorizon, "reset %v believed", rate.Reset)
	})
}

func FuzzRetryAfter(f *testing.F) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, s := range []string{"", "0", "120", "-1", "1e3", "99999999999999999999999", now.Add(time.Hour).Format(http.TimeFormat), "Sun, 06 Nov 1994 08:49:37 GMT", strconv.Itoa(1 << 40)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		d, ok := parseRetryAfter(v, now)
		require.GreaterOrEqual(t, d, time.Duration(0), "parseRetryAfter(%q)", v)
		require.LessOrEqual(t, d, maxRetryAfter, "parseRetryAfter(%q)", v)
		if !ok {
			require.Zero(t, d, "parseRetryAfter(%q) not ok", v)
		}
	})
}

// FuzzGuard sends whatever the fuzzer makes through a real Client to a
// local server. No input may be both let through by the guard and, read
// at the server by forbiddenAtServer, a conversation create or a
// participants write that mentions a Client; and a refused request must
// not reach the server at all.
func FuzzGuard(f *testing.F) {
	js := "application/vnd.api+json"
	form := "application/x-www-form-urlencoded"
	f.Add("POST", "inbox/participants", js, "", []byte(`{"participants":[{"conversation_id":3,"member_id":5,"member_type":"Host"}]}`))
	f.Add("POST", "inbox/participants.json?participants[][member_type]=Client", js, "", []byte(`{"participants":[{"member_type":"Host"}]}`))
	f.Add("POST", "inbox/participants", js, "", []byte(`{"participants":[{"member_type":"Host"},{"member":{"type":"\u0043lient"}}]}`))
	f.Add("POST", "inbox/participants", js, "", []byte(`/* */ {"participants":[{"member_type":"Client"}]}`))
	f.Add("POST", "inbox/participants", form, "", []byte(`participants[][member_type]=%43lient`))
	f.Add("PUT", "inbox/participants/5", "", "", []byte(`member_type=client`))
	f.Add("POST", "inbox/participants", "multipart/form-data; boundary=B", "", []byte("--B\r\nContent-Disposition: form-data; name=\"member_type\"\r\n\r\nClient\r\n--B--\r\n"))
	f.Add("GET", "inbox/participants?member_type=Client", "", "POST", []byte(nil))
	f.Add("GET", "inbox/participants?_method=post&member_type=Client", "", "", []byte(nil))
	f.Add("POST", "inbox/conversations.xml", js, "", []byte(`{}`))
	f.Add("GET", "inbox/%2563onversations", "", "POST", []byte(nil))
	f.Add("POST", "inbox/messages/..;/conversations", form, "", []byte(`a=1`))
	f.Add("PUT", "inbox/conversations/5", js, "", []byte(`{"conversations":[{"closed":true}]}`))
	f.Add("GET", "inbox/participants?page=2", "", "", []byte(nil))

	var (
		mu   sync.Mutex
		seen *wireRequest
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		seen = &wireRequest{r.Method, r.RequestURI, r.Header.Clone(), body}
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	c, err := NewClient(WithBaseURL(srv.URL), WithToken(testToken), WithRetry(RetryPolicy{MaxAttempts: 1}))
	require.NoError(f, err)
	f.Fuzz(func(t *testing.T, method, target, ctype, override string, body []byte) {
		req, err := http.NewRequest(method, srv.URL+"/api/v3/"+target, bytes.NewReader(body))
		if err != nil {
			return
		}
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		if override != "" {
			req.Header.Set("X-HTTP-Method-Override", override)
		}
		mu.Lock()
		seen = nil
		mu.Unlock()
		_, err = c.Do(req, nil)
		mu.Lock()
		got := seen
		mu.Unlock()
		if got == nil {
			return
		}
		require.NotErrorIs(t, err, ErrRefused, "refused (%v) and sent all the same: %+v", err, got)
		why := got.forbidden()
		require.EqualValues(t, "", why, "the guard let through %s: %s %s %q %q", why, got.Method, got.URI, got.Header.Get("Content-Type"), got.Body)
	})
}

// wireRequest is a request as the server received it.
type wireRequest struct {
	Method, URI string
	Header      http.Header
	Body        []byte
}

// forbidden reads the request as a deliberately over-cautious server
// might, written apart from the guard: it decodes the path however often
// it can, reads every parameter however its Content-Type allows, and
// names what the guard should have refused, or returns "".
func (r *wireRequest) forbidden() string {
	rawPath, rawQuery, _ := strings.Cut(r.URI, "?")
	p := rawPath
	for range 4 {
		if d, err := url.PathUnescape(p); err == nil {
			p = d
		}
	}
	p = strings.ToLower(strings.ReplaceAll(p, `\`, "/"))
	var segs []string
	for _, s := range strings.Split(p, "/") {
		s, _, _ = strings.Cut(s, ";")
		switch s = strings.Trim(s, " \t\r\n\x00"); s {
		case "", ".":
		case "..":
			if len(segs) > 0 {
				segs = segs[:len(segs)-1]
			}
		default:
			segs = append(segs, s)
		}
	}

	// Everything a parameter could say: keys and values, decoded once
	// the way the Content-Type allows, and also left as they are.
	texts := []string{string(r.Body)}
	texts = append(texts, lenientForm(rawQuery)...)
	texts = append(texts, lenientForm(string(r.Body))...)
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); strings.HasSuffix(mt, "json") {
		for _, lit := range jsonLiteral.FindAllString(string(r.Body), -1) {
			var s string
			if json.Unmarshal([]byte(lit), &s) == nil {
				texts = append(texts, s)
			}
		}
	}
	says := func(word string) bool {
		for _, s := range texts {
			if strings.Contains(strings.ToLower(s), word) {
				return true
			}
		}
		return false
	}
	write := !slices.Contains([]string{"GET", "HEAD", "OPTIONS"}, strings.ToUpper(r.Method)) ||
		strings.TrimSpace(r.Header.Get("X-HTTP-Method-Override")) != "" || says("_method")

	if len(segs) > 0 && write {
		last := segs[len(segs)-1]
		if i := strings.IndexByte(last, '.'); i > 0 {
			last = last[:i]
		}
		if last == "conversations" {
			return "a conversation create"
		}
	}
	if strings.Contains(p, "participants") && (write || len(r.Body) > 0) && says("client") {
		return "a Client participant"
	}
	return ""
}

var jsonLiteral = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)

// lenientForm splits a query or form on & and ;, and decodes each key and
// value once where it can.
func lenientForm(s string) []string {
	var out []string
	for _, kv := range strings.FieldsFunc(s, func(r rune) bool { return r == '&' || r == ';' }) {
		for _, part := range strings.SplitN(kv, "=", 2) {
			if d, err := url.QueryUnescape(part); err == nil {
				part = d
			}
			out = append(out, part)
		}
	}
	return out
}

// FuzzRedact: no secret of eight characters or more survives redaction, in
// any form it is escaped to, whatever the text around it.
func FuzzRedact(f *testing.F) {
	f.Add("tok-S3CR3T-never-print", "401: Bearer tok-S3CR3T-never-print rejected")
	f.Add("DREDACTE", "DREDACTEDREDACTE")
	f.Add("a/b+c=d\"e<f", `{"echo":"a\/b+c=d\"e\u003cf"} a%2Fb%2Bc%3Dd%22e%3Cf`)
	f.Fuzz(func(t *testing.T, secret, text string) {
		got := redact(text, secret)
		if len(secret) < minRedacted {
			require.EqualValues(t, text, got, "a short secret changed the text: %q", got)
			return
		}
		for _, form := range tokenForms(secret) {
			require.NotContains(t, got, form, "%q survives in %q", form, got)
		}
	})
}
