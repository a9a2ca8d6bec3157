package bookingsync

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// conversationPage is a realistic page of n conversations as the API
// writes it: top-level link templates, per-resource links, nulls.
func conversationPage(n int) []byte {
	b := []byte(`{"links":{"conversations.account":"https://www.bookingsync.com/api/v3/accounts/{conversations.account}","conversations.assignee":"https://www.bookingsync.com/api/v3/hosts/{conversations.assignee}","conversations.participants":"https://www.bookingsync.com/api/v3/inbox/participants/{conversations.participants}"},"conversations":[`)
	for i := 1; i <= n; i++ {
		if i > 1 {
			b = append(b, ',')
		}
		b = fmt.Appendf(b, `{"links":{"account":1,"assignee":null,"bookings":[%d],"inquiries":[],"source":null,"messages":[%d,%d,%d],"participants":[%d,%d]},"closed_at":null,"created_at":"2018-12-20T14:25:57Z","deadline_response_at":null,"default_channel":"booking-com","id":%d,"last_message_at":"2018-12-20T14:25:57Z","marked_as_spam_at":null,"subject":"Booking 0000EG %d, 3 nights","updated_at":"2018-12-20T14:25:57Z","read_at":null,"created_by_id":66,"created_by_type":"Doorkeeper::Application"}`,
			i+1000, 3*i, 3*i+1, 3*i+2, 2*i, 2*i+1, i, i)
	}
	return append(b, `],"meta":{}}`...)
}

// flatConversation has Conversation's fields and the creator attributes
// side by side, no embedding and no methods: what one pass of
// encoding/json costs at best.
type flatConversation struct {
	ID                 int64             `json:"id"`
	Subject            string            `json:"subject"`
	DefaultChannel     Channel           `json:"default_channel"`
	CreatedAt          time.Time         `json:"created_at"`
	UpdatedAt          time.Time         `json:"updated_at"`
	ClosedAt           *time.Time        `json:"closed_at"`
	DeadlineResponseAt *time.Time        `json:"deadline_response_at"`
	LastMessageAt      *time.Time        `json:"last_message_at"`
	MarkedAsSpamAt     *time.Time        `json:"marked_as_spam_at"`
	ReadAt             *time.Time        `json:"read_at"`
	CreatedBy          Polymorphic       `json:"created_by"`
	Links              ConversationLinks `json:"links"`
	Participants       []*Participant    `json:"participants,omitempty"`
	Messages           []*Message        `json:"messages,omitempty"`
	CreatedByID        int64             `json:"created_by_id"`
	CreatedByType      string            `json:"created_by_type"`
}

// BenchmarkDecodePage/sdk decodes a 100-conversation page the way every
// service does; /flat decodes the same bytes with one json.Unmarshal into
// an envelope of flat structs with the same fields. Budget: sdk within
// 1.10x of flat in time and allocs/op. Besides ns/op each reports
// cpu-ns/op, the process's CPU time per op, steadier than wall time on a
// shared machine.
func BenchmarkDecodePage(b *testing.B) {
	body := conversationPage(100)
	b.Run("flat", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(body)))
		cpu := processCPU()
		for b.Loop() {
			var env struct {
				Conversations []*flatConversation `json:"conversations"`
				Meta          Meta                `json:"meta"`
			}
			if err := json.Unmarshal(body, &env); err != nil || len(env.Conversations) != 100 {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(processCPU()-cpu)/float64(b.N), "cpu-ns/op")
	})
	b.Run("sdk", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(body)))
		cpu := processCPU()
		for b.Loop() {
			p := page[Conversation]{key: "conversations"}
			if err := decodeBody(body, &p, &Response{}); err != nil || len(p.items) != 100 {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(processCPU()-cpu)/float64(b.N), "cpu-ns/op")
	})
}

// BenchmarkGetRoundTrip compares Conversations.Get on loopback with a
// hand-written net/http + encoding/json call against the same server.
func BenchmarkGetRoundTrip(b *testing.B) {
	body := fixture(b, "conversations/inbox_write-scope-response.json")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/vnd.api+json; charset=utf-8")
		w.Header().Set("X-Request-Id", "r")
		w.Header().Set("X-RateLimit-Limit", "1000")
		w.Header().Set("X-RateLimit-Remaining", "999")
		w.Header().Set("X-RateLimit-Reset", "1700000000")
		w.Write(body)
	}))
	defer srv.Close()
	hc := srv.Client()
	ctx := context.Background()

	b.Run("baseline", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/api/v3/inbox/conversations/5", nil)
			req.Header.Set("Authorization", "Bearer t")
			req.Header.Set("Accept", "application/vnd.api+json")
			resp, err := hc.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			data, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil || resp.StatusCode != 200 {
				b.Fatal(err)
			}
			var env struct {
				Conversations []*Conversation `json:"conversations"`
			}
			if err := json.Unmarshal(data, &env); err != nil || env.Conversations[0].ID != 5 {
				b.Fatal(err)
			}
		}
	})
	b.Run("sdk", func(b *testing.B) {
		c, err := NewClient(WithBaseURL(srv.URL), WithToken("t"), WithHTTPClient(hc))
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			conv, _, err := c.Conversations.Get(ctx, 5)
			if err != nil || conv.ID != 5 {
				b.Fatal(err)
			}
		}
	})
}

// nestedErrorBody is a hostile error body: depth levels of
// {"error": {"error": … "deep" …}} (encoding/json accepts up to 10000).
func nestedErrorBody(depth int) []byte {
	b := bytes.Repeat([]byte(`{"error":`), depth)
	b = append(b, `"deep"`...)
	return append(b, bytes.Repeat([]byte(`}`), depth)...)
}

// BenchmarkErrorBody parses error bodies as newErrorResponse does: hostile
// nested ones at two depths (twice the depth must cost twice, not four
// times), and an ordinary 422 with many fields as the control (its cost
// must not grow when the hostile one shrinks).
func BenchmarkErrorBody(b *testing.B) {
	wide := []byte(`{"errors":{`)
	for i := range 200 {
		if i > 0 {
			wide = append(wide, ',')
		}
		wide = fmt.Appendf(wide, `"field_%d":["can't be blank","is invalid"]`, i)
	}
	wide = append(wide, `}}`...)
	for _, c := range []struct {
		name string
		body []byte
	}{{"nested4500", nestedErrorBody(4500)}, {"nested9000", nestedErrorBody(9000)}, {"wide422", wide}} {
		b.Run(c.name, func(b *testing.B) {
			r := &http.Response{StatusCode: 422, Header: http.Header{}}
			b.SetBytes(int64(len(c.body)))
			b.ReportAllocs()
			for b.Loop() {
				if newErrorResponse("GET", "/x", r, c.body) == nil {
					b.Fatal("nil")
				}
			}
		})
	}
}
