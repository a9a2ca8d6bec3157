package bookingsynctest

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzWrites sends arbitrary bodies to every write route the registry
// derives: the fake must answer each with a 2xx or a 4xx, never panic or
// 500, whatever a test suite in another language throws at it.
func FuzzWrites(f *testing.F) {
	for _, seed := range []string{
		`{"messages":[{"conversation_id":11,"sender_id":2,"content":"x","origin":"email","visibility":"external"}]}`,
		`{"participants":[{"conversation_id":"11","member_id":2,"member_type":"Host"}]}`,
		`{"attachments":[{"name":"a","file":"data:image/png;base64,iVBORw0KGgo="}]}`,
		`{"conversations":{"closed":"yes","assignee_id":[1]}}`,
		`{"bookings":[{"id":80}]}`, `{"hosts":[{"firstname":{},"lastname":null}]}`, `[]`, `{`, `null`,
	} {
		f.Add(seed)
	}
	s := NewServer(WithRateLimit(1<<30), WithoutRequestLog())
	defer s.Close()
	var targets []string
	for _, k := range registry {
		if k.create != nil {
			targets = append(targets, "POST /api/v3/"+k.path)
		}
		if k.update != nil {
			targets = append(targets, "PUT /api/v3/"+k.path+"/1")
		}
		for a := range k.actions {
			targets = append(targets, "PUT /api/v3/"+k.path+"/1/"+a)
		}
	}
	f.Fuzz(func(t *testing.T, body string) {
		for _, tg := range targets {
			method, path, _ := strings.Cut(tg, " ")
			req := httptest.NewRequest(method, path, strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+s.Token())
			req.Header.Set("Content-Type", "application/json")
			w := httptest.NewRecorder()
			s.serveHTTP(w, req)
			if w.Code >= http.StatusInternalServerError {
				t.Fatalf("%s with %q: %d %s", tg, body, w.Code, w.Body)
			}
		}
	})
}
