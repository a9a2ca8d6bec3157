package bookingsync

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"testing"
	"time"
	"unicode/utf8"
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
			if p < 0 {
				t.Fatalf("negative page %d from %q", p, v)
			}
		}
		// A Response built from the header agrees with the parser.
		r := newResponse(&http.Response{Header: http.Header{"Link": {v}}})
		if r.NextPage != next || r.LastPage != last {
			t.Fatalf("newResponse disagrees with parseLinkPages on %q", v)
		}
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
		if it == nil {
			t.Fatalf("%s[%d] decoded as nil", key, i)
		}
	}
	if _, err := json.Marshal(items); err != nil {
		t.Fatalf("decoded %s do not encode: %v", key, err)
	}
	if resp.TotalPages < 0 || resp.TotalCount < 0 || resp.PerPage < 0 || resp.NextPage < 0 {
		t.Fatalf("negative paging from meta: %+v", resp)
	}
}

func FuzzErrorBody(f *testing.F) {
	f.Add(401, `Bearer realm="Doorkeeper", error="invalid_token", error_description="The access token is invalid"`, "", []byte(`{"error":"Not authorized"}`))
	f.Add(422, "", "", []byte(`{"errors":{"content":["can't be blank"],"sent_at":"is invalid"}}`))
	f.Add(422, "", "", []byte(`{"errors":[{"title":"bad"},"worse",{"code":"x"}]}`))
	f.Add(429, "", "1700000000", []byte(`{"error":"API v3 rate limit exceeded."}`))
	f.Add(429, "", "garbage", []byte(``))
	f.Add(502, "", "", []byte("<html><body><h1>502 Bad Gateway</h1>\xff\xfe</body></html>"))
	f.Add(500, "", "", []byte(`{"error":{"error":{"message":"nested"}}}`))
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
		if err == nil {
			t.Fatal("nil error")
		}
		msg := err.Error()
		var er *ErrorResponse
		if !errors.As(err, &er) || er.StatusCode != status || er.RequestID != "req-1" {
			t.Fatalf("not an *ErrorResponse for %d: %T", status, err)
		}
		if len(er.Body) > 200+len("…") || !utf8.ValidString(er.Body) {
			t.Fatalf("body excerpt %q", er.Body)
		}
		var rl *RateLimitError
		if isRL := errors.As(err, &rl); isRL != (status == 429) || errors.Is(err, ErrRateLimited) != (status == 429) {
			t.Fatalf("status %d: RateLimitError %v, matches ErrRateLimited %v", status, isRL, errors.Is(err, ErrRateLimited))
		}
		if msg == "" {
			t.Fatal("empty message")
		}
	})
}

func FuzzRetryAfter(f *testing.F) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, s := range []string{"", "0", "120", "-1", "1e3", "99999999999999999999999", now.Add(time.Hour).Format(http.TimeFormat), "Sun, 06 Nov 1994 08:49:37 GMT", strconv.Itoa(1 << 40)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		d, ok := parseRetryAfter(v, now)
		if d < 0 || d > maxRetryAfter || (!ok && d != 0) {
			t.Fatalf("parseRetryAfter(%q) = %v, %v", v, d, ok)
		}
	})
}
