package bookingsynctest

import (
	"encoding/base64"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestAuthErrors(t *testing.T) {
	clk := newClock()
	s := NewServer(WithClock(clk.Now))
	defer s.Close()
	for _, tok := range []string{"", "wrong"} {
		r := call(t, s, "GET", "inbox/conversations", tok, nil)
		expectStatus(t, r, 401)
		if r.body["error"] != "Not authorized" || !strings.Contains(r.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
			t.Errorf("401: %s %q", r.raw, r.Header.Get("WWW-Authenticate"))
		}
		// As recorded: no rate headers on a 401.
		if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") || r.Header.Get("X-Request-Id") == "" || r.Header.Get("X-RateLimit-Limit") != "" {
			t.Errorf("401 headers %v", r.Header)
		}
	}
	// Issued tokens expire after 7200 s by the server clock.
	tok := s.IssueToken("inbox_read")
	expectStatus(t, call(t, s, "GET", "inbox/conversations", tok, nil), 200)
	clk.Add(7199 * time.Second)
	expectStatus(t, call(t, s, "GET", "inbox/conversations", tok, nil), 200)
	clk.Add(time.Second)
	expectStatus(t, call(t, s, "GET", "inbox/conversations", tok, nil), 401)
	tok = s.IssueToken("inbox_read")
	s.ExpireTokens()
	expectStatus(t, call(t, s, "GET", "inbox/conversations", tok, nil), 401)
	expectStatus(t, get(t, s, "inbox/conversations"), 200) // the static token never expires

	// Scopes.
	ro := s.IssueToken("inbox_read")
	expectStatus(t, call(t, s, "GET", "hosts", ro, nil), 200)
	r := call(t, s, "POST", "hosts", ro, wrap("hosts", map[string]any{"firstname": "A", "lastname": "B"}))
	expectStatus(t, r, 403)
	if r.body["error"] != "Forbidden" {
		t.Errorf("403 body %s", r.raw)
	}
	wo := s.IssueToken("inbox_write")
	expectStatus(t, call(t, s, "GET", "inbox/messages", wo, nil), 200)
	expectStatus(t, call(t, s, "GET", "applications", wo, nil), 403)
	expectStatus(t, call(t, s, "GET", "bookings", s.IssueToken("inbox_read", "bookings_read"), nil), 200)
	noScopes := NewServer(WithScopes("public"), WithToken("t2"))
	defer noScopes.Close()
	expectStatus(t, call(t, noScopes, "GET", "inbox/conversations", "t2", nil), 403)
	expectStatus(t, call(t, noScopes, "GET", "inbox/conversations", DefaultToken, nil), 401)
	s.RevokeToken(ro)
	expectStatus(t, call(t, s, "GET", "hosts", ro, nil), 401)
}

func TestRateLimit(t *testing.T) {
	clk := newClock()
	s := NewServer(WithClock(clk.Now), WithRateLimit(3))
	defer s.Close()
	reset := strconv.FormatInt(clk.Now().Add(time.Hour).Unix(), 10)
	for i, want := range []string{"2", "1", "0"} {
		r := get(t, s, "hosts")
		expectStatus(t, r, 200)
		if r.Header.Get("X-RateLimit-Remaining") != want || r.Header.Get("X-RateLimit-Limit") != "3" || r.Header.Get("X-RateLimit-Reset") != reset {
			t.Fatalf("request %d: rate headers %v", i, r.Header)
		}
	}
	r := call(t, s, "POST", "hosts", s.Token(), wrap("hosts", map[string]any{"firstname": "Over", "lastname": "Budget"}))
	expectStatus(t, r, 429)
	if r.body["error"] != "API v3 rate limit exceeded." || r.Header.Get("X-RateLimit-Remaining") != "0" {
		t.Errorf("429: %s %v", r.raw, r.Header)
	}
	clk.Add(time.Hour)
	r = get(t, s, "hosts")
	expectStatus(t, r, 200)
	if len(r.objects(t, "hosts")) != 2 {
		t.Errorf("the 429'd POST was processed: %d hosts", len(r.objects(t, "hosts")))
	}
	if r.Header.Get("X-RateLimit-Remaining") != "2" {
		t.Errorf("after reset remaining %s", r.Header.Get("X-RateLimit-Remaining"))
	}
	s.SetRateLimit(10, 0)
	expectStatus(t, get(t, s, "hosts"), 429)
	s.SetRateLimitReset(clk.Now())
	if r := get(t, s, "hosts"); r.StatusCode != 200 || r.Header.Get("X-RateLimit-Remaining") != "9" {
		t.Errorf("forced reset: %d %v", r.StatusCode, r.Header.Get("X-RateLimit-Remaining"))
	}
}

func TestValidation(t *testing.T) {
	s := NewServer()
	defer s.Close()
	tok := s.Token()
	msg := func(m map[string]any) result {
		base := map[string]any{"conversation_id": 11, "sender_id": AirbnbHostParticipantID, "content": "Hi",
			"origin": "bookingsync_inbox", "visibility": "external", "sent_at": "2024-05-10T12:00:00Z"}
		for k, v := range m {
			if v == nil {
				delete(base, k)
			} else {
				base[k] = v
			}
		}
		return call(t, s, "POST", "inbox/messages", tok, wrap("messages", base))
	}
	errs := func(r result) map[string]any {
		t.Helper()
		expectStatus(t, r, 422)
		return r.body["errors"].(map[string]any)
	}
	if e := errs(msg(map[string]any{"content": nil})); !slices.Equal(e["content"].([]any), []any{"can't be blank"}) {
		t.Errorf("blank content: %v", e)
	}
	if e := errs(msg(map[string]any{"visibility": "internal", "channel": "airbnb"})); e["visibility"] == nil {
		t.Errorf("internal with channel: %v", e)
	}
	if e := errs(msg(map[string]any{"visibility": "internal", "sender_id": AirbnbClientParticipantID})); e["visibility"] == nil {
		t.Errorf("internal from client: %v", e)
	}
	if e := errs(msg(map[string]any{"sender_id": BookingComClientParticipantID})); e["sender"] == nil {
		t.Errorf("sender of another conversation: %v", e)
	}
	if e := errs(msg(map[string]any{"sent_at": "soon", "origin": "carrier-pigeon"})); e["sent_at"] == nil || e["origin"] == nil {
		t.Errorf("sent_at/origin: %v", e)
	}
	// Recorded: a message without sent_at is accepted, sent_at null.
	if r := msg(map[string]any{"sent_at": nil}); r.StatusCode != 201 || r.objects(t, "messages")[0]["sent_at"] != nil {
		t.Errorf("no sent_at: %d %s", r.StatusCode, r.raw)
	}
	ok := msg(map[string]any{"visibility": "internal"})
	expectStatus(t, ok, 201)
	m := ok.objects(t, "messages")[0]
	if m["visibility"] != "internal" || m["links"].(map[string]any)["sender"] != float64(AirbnbHostParticipantID) {
		t.Errorf("created %v", m)
	}
	// Bare object under the plural key, string values.
	r := call(t, s, "POST", "hosts", tok, map[string]any{"hosts": map[string]any{"firstname": "Ana", "lastname": "Lima", "user_id": "7"}})
	expectStatus(t, r, 201)
	if h := r.objects(t, "hosts")[0]; h["links"].(map[string]any)["user"] != float64(7) || h["email"] != nil {
		t.Errorf("host %v", h)
	}
	if e := errs(call(t, s, "POST", "hosts", tok, wrap("hosts", map[string]any{"firstname": "Ana"}))); e["lastname"] == nil {
		t.Errorf("host errors %v", e)
	}
	expectStatus(t, call(t, s, "POST", "hosts", tok, `{"hosts": [`), 400)
	expectStatus(t, call(t, s, "POST", "hosts", tok, `{"hosts": [{"firstname":"a","lastname":"b"}]} trailing`), 400)
	expectStatus(t, call(t, s, "POST", "hosts", tok, `{"other": []}`), 400)
	req, _ := http.NewRequest("POST", s.APIURL()+"hosts", strings.NewReader(`{"hosts":[{"firstname":"a","lastname":"b"}]}`))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "text/plain")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 415 {
		t.Errorf("text/plain body: %d", resp.StatusCode)
	}
	expectStatus(t, call(t, s, "PUT", "hosts/999", tok, wrap("hosts", map[string]any{"firstname": "x"})), 404)
	expectStatus(t, call(t, s, "DELETE", "hosts/2", tok, nil), 404)
}

func TestInboxWrites(t *testing.T) {
	clk := newClock()
	s := NewServer(WithClock(clk.Now))
	defer s.Close()
	tok := s.Token()
	put := func(path, key string, obj map[string]any) map[string]any {
		t.Helper()
		r := call(t, s, "PUT", path, tok, wrap(key, obj))
		expectStatus(t, r, 200)
		return r.objects(t, strings.Split(strings.TrimPrefix(path, "inbox/"), "/")[0])[0]
	}
	clk.Add(time.Minute)
	c := put("inbox/conversations/11", "conversations", map[string]any{"closed": "true", "assignee_id": HostJanID, "subject": "ignored"})
	if c["closed_at"] != "2024-05-10T12:01:00Z" || c["links"].(map[string]any)["assignee"] != float64(HostJanID) || c["subject"] == "ignored" {
		t.Errorf("update %v", c)
	}
	c = put("inbox/conversations/11", "conversations", map[string]any{"closed": false, "marked_as_spam": true})
	if c["closed_at"] != nil || c["marked_as_spam_at"] == nil {
		t.Errorf("reopen %v", c)
	}
	expectStatus(t, call(t, s, "PUT", "inbox/conversations/11", tok, wrap("conversations", map[string]any{"assignee_id": 999})), 422)

	c = put("inbox/conversations/13/connect_booking", "bookings", map[string]any{"id": 85})
	if !slices.Equal(c["links"].(map[string]any)["bookings"].([]any), []any{float64(85)}) {
		t.Errorf("connect %v", c["links"])
	}
	if l := get(t, s, "bookings/85").objects(t, "bookings")[0]["links"].(map[string]any)["conversations"].([]any); !slices.Equal(l, []any{float64(13)}) {
		t.Errorf("booking side %v", l)
	}
	c = put("inbox/conversations/13/disconnect_booking", "bookings", map[string]any{"id": 85})
	if len(c["links"].(map[string]any)["bookings"].([]any)) != 0 {
		t.Errorf("disconnect %v", c["links"])
	}

	// POST /inbox/conversations exists in the real API and works here.
	r := call(t, s, "POST", "inbox/conversations", tok, wrap("conversations", map[string]any{"subject": "Subject.", "default_channel": "email"}))
	expectStatus(t, r, 201)
	if r.objects(t, "conversations")[0]["created_by_type"] != nil {
		t.Errorf("created conversation %s", r.raw)
	}

	// Participants: a duplicate Host is accepted (recorded), Client is
	// accepted, read marks.
	dup := call(t, s, "POST", "inbox/participants", tok, wrap("participants", map[string]any{"conversation_id": 11, "member_id": HostJanID, "member_type": "Host"}))
	expectStatus(t, dup, 201)
	expectStatus(t, call(t, s, "POST", "inbox/participants", tok, wrap("participants", map[string]any{"conversation_id": 11, "member_id": 55, "member_type": "Client"})), 201)
	if e := call(t, s, "POST", "inbox/participants", tok, wrap("participants", map[string]any{"conversation_id": 11})); e.StatusCode != 422 || e.body["errors"].(map[string]any)["member_type"] == nil {
		t.Errorf("participant without member: %s", e.raw)
	}
	p := put("inbox/participants/2", "participants", map[string]any{"read": "true"})
	if p["read_at"] != "2024-05-10T12:01:00Z" {
		t.Errorf("read %v", p)
	}
	h := get(t, s, "hosts/2").objects(t, "hosts")[0]
	if !slices.Equal(h["links"].(map[string]any)["participants"].([]any), []any{float64(2), dup.objects(t, "participants")[0]["id"]}) {
		t.Errorf("host participants %v", h["links"])
	}

	// Attachments: a data URI with a PNG, then attach to a message.
	png := "iVBORw0KGgoAAAANSUhEUgAAAAIAAAADCAYAAAC56t6BAAAAEUlEQVR4nGP4z8DwH4QZMBgAoXkL9U3EmgcAAAAASUVORK5CYII="
	if _, err := base64.StdEncoding.DecodeString(png); err != nil {
		t.Fatal(err)
	}
	r = call(t, s, "POST", "inbox/attachments", tok, wrap("attachments", map[string]any{"name": "tiny.png", "file": "data:image/png;base64," + png}))
	expectStatus(t, r, 201)
	a := r.objects(t, "attachments")[0]
	if a["file_content_type"] != "image/png" || a["image_width"] != float64(2) || a["image_height"] != float64(3) || a["url"] != "/uploads/attachments/1/tiny.png" {
		t.Errorf("attachment %v", a)
	}
	for _, bad := range []string{"not a data uri", "data:image/png;base64,***", "data:;base64,AAAA"} {
		expectStatus(t, call(t, s, "POST", "inbox/attachments", tok, wrap("attachments", map[string]any{"name": "x", "file": bad})), 422)
	}
	big := base64.StdEncoding.EncodeToString(make([]byte, 10<<20+1))
	expectStatus(t, call(t, s, "POST", "inbox/attachments", tok, `{"attachments":[{"name":"big","file":"data:text/plain;base64,`+big+`"}]}`), 422)
	m := put("inbox/messages/1/add_attachment", "attachments", map[string]any{"id": 1})
	if !slices.Equal(m["links"].(map[string]any)["attachments"].([]any), []any{float64(1)}) {
		t.Errorf("add_attachment %v", m["links"])
	}
	if l := get(t, s, "inbox/attachments/1").objects(t, "attachments")[0]["links"].(map[string]any)["messages"].([]any); !slices.Equal(l, []any{float64(1)}) {
		t.Errorf("attachment messages %v", l)
	}
	expectStatus(t, call(t, s, "PUT", "inbox/messages/1/add_attachment", tok, wrap("attachments", map[string]any{"id": 99})), 422)
	expectStatus(t, call(t, s, "PUT", "inbox/messages/1/nope", tok, wrap("attachments", map[string]any{"id": 1})), 404)
}
