package bookingsync

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// inboxToken is the bearer token the Inbox tests' server expects.
const inboxToken = "inbox-test-token"

// inboxRequest is a request as the test server received it.
type inboxRequest struct {
	Method string
	Path   string // relative to the API root: "inbox/participants/10"
	Query  string
	Body   []byte
}

// inboxServer is an httptest server speaking the API's wire format that
// records every request it receives, so tests can count them.
type inboxServer struct {
	*httptest.Server
	t   *testing.T
	mux *http.ServeMux

	mu   sync.Mutex
	reqs []inboxRequest
}

// newInboxServer starts a server and a client pointed at it.
func newInboxServer(t *testing.T, opts ...Option) (*inboxServer, *Client) {
	t.Helper()
	s := &inboxServer{t: t, mux: http.NewServeMux()}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	opts = append([]Option{WithBaseURL(s.URL), WithToken(inboxToken), WithHTTPClient(s.Client())}, opts...)
	c, err := NewClient(opts...)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	return s, c
}

func (s *inboxServer) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	s.reqs = append(s.reqs, inboxRequest{
		Method: r.Method,
		Path:   strings.TrimPrefix(r.URL.Path, apiPath),
		Query:  r.URL.RawQuery,
		Body:   body,
	})
	s.mu.Unlock()
	r.Body = io.NopCloser(bytes.NewReader(body))
	w.Header().Set("X-Request-Id", fmt.Sprintf("req-%d", s.total()))
	w.Header().Set("X-RateLimit-Limit", "1000")
	w.Header().Set("X-RateLimit-Remaining", "999")
	w.Header().Set("X-RateLimit-Reset", "1700000000")
	if r.Header.Get("Authorization") != "Bearer "+inboxToken {
		writeInboxJSON(w, http.StatusUnauthorized, `{"error":"Not authorized"}`)
		return
	}
	s.mux.ServeHTTP(w, r)
}

// handle routes "METHOD /path" (relative to the API root, ServeMux
// patterns) to h.
func (s *inboxServer) handle(pattern string, h http.HandlerFunc) {
	method, path, _ := strings.Cut(pattern, " ")
	s.mux.HandleFunc(method+" "+strings.TrimSuffix(apiPath, "/")+path, h)
}

// requests returns the requests received so far.
func (s *inboxServer) requests() []inboxRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]inboxRequest(nil), s.reqs...)
}

func (s *inboxServer) total() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.reqs)
}

// count returns how many requests had the method and a path starting with
// prefix (relative to the API root).
func (s *inboxServer) count(method, prefix string) int {
	n := 0
	for _, r := range s.requests() {
		if r.Method == method && strings.HasPrefix(r.Path, prefix) {
			n++
		}
	}
	return n
}

// last returns the last request with the method and path prefix.
func (s *inboxServer) last(method, prefix string) inboxRequest {
	s.t.Helper()
	reqs := s.requests()
	for i := len(reqs) - 1; i >= 0; i-- {
		if reqs[i].Method == method && strings.HasPrefix(reqs[i].Path, prefix) {
			return reqs[i]
		}
	}
	s.t.Fatalf("no %s %s request among %d", method, prefix, len(reqs))
	return inboxRequest{}
}

// writeInboxJSON writes body with the API's media type.
func writeInboxJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/vnd.api+json; charset=utf-8")
	w.WriteHeader(status)
	io.WriteString(w, body)
}

// inboxEnvelope wraps raw JSON objects in the API's envelope.
func inboxEnvelope(key string, items ...string) string {
	return fmt.Sprintf(`{"links":{"%s.account":"https://www.bookingsync.com/api/v3/accounts/{%s.account}"},"%s":[%s],"meta":{}}`,
		key, key, key, strings.Join(items, ","))
}

// inboxFixture reads a file under testdata/.
func inboxFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", filepath.FromSlash(name)))
	if err != nil {
		t.Fatalf("fixture: %v", err)
	}
	return b
}

// serveInboxFixture answers with a testdata file.
func serveInboxFixture(t *testing.T, status int, name string) http.HandlerFunc {
	b := inboxFixture(t, name)
	return func(w http.ResponseWriter, r *http.Request) { writeInboxJSON(w, status, string(b)) }
}

// decodeInboxJSON decodes b into a generic value.
func decodeInboxJSON(t *testing.T, b []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decoding %q: %v", b, err)
	}
	return v
}

// assertSameJSON fails unless want and got decode to equal values.
func assertSameJSON(t *testing.T, want, got []byte) {
	t.Helper()
	w, g := decodeInboxJSON(t, want), decodeInboxJSON(t, got)
	if !reflect.DeepEqual(w, g) {
		t.Errorf("body mismatch\n got: %s\nwant: %s", got, want)
	}
}

// inboxBodyItem returns the single object of a {"key": [obj]} body.
func inboxBodyItem(t *testing.T, body []byte, key string) map[string]any {
	t.Helper()
	var env map[string][]map[string]any
	if err := json.Unmarshal(body, &env); err != nil {
		t.Fatalf("request body %s: %v", body, err)
	}
	if len(env) != 1 || len(env[key]) != 1 {
		t.Fatalf("request body %s: want {%q: [one object]}", body, key)
	}
	return env[key][0]
}

// assertNothingSent checks err wraps target and the server saw no request.
func assertNothingSent(t *testing.T, s *inboxServer, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("err = %v, want one wrapping %v", err, target)
	}
	if n := s.total(); n != 0 {
		t.Errorf("server received %d requests, want 0: %+v", n, s.requests())
	}
}

var inboxCtx = context.Background()

// inboxMember is a participant held by inboxConversation.
type inboxMember struct {
	ID, MemberID int64
	MemberType   string
}

func (m inboxMember) json(conversationID int64) string {
	return fmt.Sprintf(`{"links":{"conversation":%d,"member":{"id":%d,"type":%q}},"id":%d,"created_at":"2018-12-21T10:42:17Z","updated_at":"2018-12-21T10:42:17Z","last_message_sent_at":null,"read_at":null}`,
		conversationID, m.MemberID, m.MemberType, m.ID)
}

// inboxConversation is one conversation and its participants, served
// statefully: GET /inbox/conversations/{id} (sideloading participants when
// asked and Sideload is set), GET /inbox/participants/{ids} and POST
// /inbox/participants, which adds a participant.
type inboxConversation struct {
	ID       int64
	Sideload bool

	mu      sync.Mutex
	members []inboxMember
	nextID  int64
}

func (c *inboxConversation) add(memberID int64, memberType string) int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.nextID++
	id := 100 + c.nextID
	c.members = append(c.members, inboxMember{ID: id, MemberID: memberID, MemberType: memberType})
	return id
}

func (c *inboxConversation) register(s *inboxServer) {
	s.handle("GET /inbox/conversations/{id}", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("id") != strconv.FormatInt(c.ID, 10) {
			writeInboxJSON(w, http.StatusNotFound, `{"errors":[{"code":"not_found"}]}`)
			return
		}
		c.mu.Lock()
		ids, objs := []string{}, []string{}
		for _, m := range c.members {
			ids = append(ids, strconv.FormatInt(m.ID, 10))
			objs = append(objs, m.json(c.ID))
		}
		c.mu.Unlock()
		conv := fmt.Sprintf(`{"links":{"account":1,"assignee":null,"bookings":[],"inquiries":[],"source":null,"messages":[],"participants":[%s]},"id":%d,"subject":"Stay","default_channel":"airbnb","created_at":"2018-12-20T14:25:57Z","updated_at":"2018-12-20T14:25:57Z"`,
			strings.Join(ids, ","), c.ID)
		if c.Sideload && r.URL.Query().Get("include") == "participants" {
			conv += `,"participants":[` + strings.Join(objs, ",") + `]`
		}
		writeInboxJSON(w, http.StatusOK, inboxEnvelope("conversations", conv+"}"))
	})
	s.handle("GET /inbox/participants/{ids}", func(w http.ResponseWriter, r *http.Request) {
		want := map[string]bool{}
		for _, id := range strings.Split(r.PathValue("ids"), ",") {
			want[id] = true
		}
		c.mu.Lock()
		var objs []string
		for _, m := range c.members {
			if want[strconv.FormatInt(m.ID, 10)] {
				objs = append(objs, m.json(c.ID))
			}
		}
		c.mu.Unlock()
		writeInboxJSON(w, http.StatusOK, inboxEnvelope("participants", objs...))
	})
	s.handle("POST /inbox/participants", func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Participants []NewParticipant `json:"participants"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil || len(body.Participants) != 1 || body.Participants[0].ConversationID != c.ID {
			writeInboxJSON(w, http.StatusUnprocessableEntity, `{"errors":{"conversation_id":["is invalid"]}}`)
			return
		}
		p := body.Participants[0]
		id := c.add(p.MemberID, p.MemberType)
		writeInboxJSON(w, http.StatusCreated, inboxEnvelope("participants", inboxMember{ID: id, MemberID: p.MemberID, MemberType: p.MemberType}.json(c.ID)))
	})
}
