package bookingsync

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestErrorResponses(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		status   int
		ctype    string
		body     string
		header   map[string]string
		sentinel error
		check    func(t *testing.T, e *ErrorResponse)
	}{
		{
			name: "401 doorkeeper", status: 401, ctype: "application/json", body: `{"error": "Not authorized"}`,
			header:   map[string]string{"WWW-Authenticate": `Bearer realm="Doorkeeper", error="invalid_token", error_description="The access token is invalid"`},
			sentinel: ErrUnauthorized,
			check: func(t *testing.T, e *ErrorResponse) {
				assert.Equal(t, "Not authorized", e.Message)
				assert.Equal(t, "invalid_token", e.AuthError)
				assert.Equal(t, "The access token is invalid", e.AuthErrorDescription)
			},
		},
		{
			name: "403", status: 403, ctype: "application/vnd.api+json", body: `{"errors":[{"code":"forbidden","title":"Missing scope inbox_write"}]}`,
			sentinel: ErrForbidden,
			check:    func(t *testing.T, e *ErrorResponse) { assert.Equal(t, "Missing scope inbox_write", e.Message) },
		},
		{
			name: "404 empty", status: 404, sentinel: ErrNotFound,
			check: func(t *testing.T, e *ErrorResponse) { assert.Empty(t, e.Message) },
		},
		{
			name: "422 fields", status: 422, ctype: "application/vnd.api+json",
			body:     `{"errors": {"content": ["can't be blank"], "sender_id": ["can't be blank", "is invalid"], "odd": "single"}}`,
			sentinel: ErrValidation,
			check: func(t *testing.T, e *ErrorResponse) {
				assert.Equal(t, []string{"can't be blank"}, e.Errors["content"])
				assert.Equal(t, []string{"can't be blank", "is invalid"}, e.Errors["sender_id"])
				assert.Equal(t, []string{"single"}, e.Errors["odd"])
				assert.Contains(t, e.Error(), "content can't be blank; odd single; sender_id can't be blank, is invalid")
			},
		},
		{
			name: "502 html", status: 502, ctype: "text/html",
			body: "<html>\n<head><title>502 Bad Gateway</title></head>\n<body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>",
			check: func(t *testing.T, e *ErrorResponse) {
				assert.Equal(t, "502 Bad Gateway 502 Bad Gateway nginx", e.Body)
				assert.Contains(t, e.Error(), `502 Bad Gateway: "502 Bad Gateway`)
			},
		},
		{
			name: "500 binary garbage", status: 500, body: "\xff\xfe\x00garbage" + strings.Repeat("x", 5000),
			check: func(t *testing.T, e *ErrorResponse) {
				assert.LessOrEqual(t, len(e.Body), 210)
				assert.True(t, strings.HasPrefix(e.Body, "\uFFFD"))
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, mux, srv := setup(t)
			mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tc.header {
					w.Header().Set(k, v)
				}
				if tc.ctype != "" {
					w.Header().Set("Content-Type", tc.ctype)
				}
				w.Header().Set("X-Request-Id", "rid-9")
				w.WriteHeader(tc.status)
				w.Write([]byte(tc.body))
			})
			_, _, err := srv.client(t).Conversations.Get(context.Background(), 5)
			var e *ErrorResponse
			require.ErrorAs(t, err, &e)
			assert.Equal(t, tc.status, e.StatusCode)
			assert.Equal(t, "rid-9", e.RequestID)
			assert.Equal(t, "GET", e.Method)
			assert.Equal(t, "/api/v3/inbox/conversations/5", e.Path)
			assert.Contains(t, err.Error(), "GET /api/v3/inbox/conversations/5")
			assert.Contains(t, err.Error(), "(request id rid-9)")
			assert.NotContains(t, err.Error(), testToken)
			if tc.sentinel != nil {
				assert.ErrorIs(t, err, tc.sentinel)
			}
			for _, other := range []error{ErrUnauthorized, ErrForbidden, ErrNotFound, ErrValidation, ErrRateLimited, ErrRefused} {
				if other != tc.sentinel {
					assert.NotErrorIs(t, err, other)
				}
			}
			tc.check(t, e)
		})
	}
}

func TestRateLimitError(t *testing.T) {
	t.Parallel()
	_, mux, srv := setup(t)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-RateLimit-Limit", "1000")
		w.Header().Set("X-RateLimit-Remaining", "0")
		w.Header().Set("X-RateLimit-Reset", "1545398400")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(429)
		w.Write([]byte(`{"error": "API v3 rate limit exceeded."}`))
	})
	_, _, err := srv.client(t).Conversations.List(context.Background(), nil)
	var rle *RateLimitError
	require.ErrorAs(t, err, &rle)
	assert.Equal(t, Rate{Limit: 1000, Remaining: 0, Reset: time.Unix(1545398400, 0).UTC()}, rle.Rate)
	assert.ErrorIs(t, err, ErrRateLimited)
	var er *ErrorResponse
	require.ErrorAs(t, err, &er, "a 429 is also an *ErrorResponse")
	assert.Equal(t, 429, er.StatusCode)
	assert.Equal(t, "API v3 rate limit exceeded.", er.Message)
	assert.Contains(t, err.Error(), "resets at 2018-12-21 13:20:00 UTC", "a reset not today shows its date")
}

func TestDecodeErrors(t *testing.T) {
	t.Parallel()
	full := string(fixture(t, "conversations/inbox_write-scope-response.json"))
	for name, body := range map[string]string{
		"truncated":      full[:len(full)/2],
		"html with 200":  "<html><body>Please log in</body></html>",
		"wrong type":     `{"conversations": {"id": 5}}`,
		"bad time":       `{"conversations": [{"id": 5, "created_at": "yesterday"}]}`,
		"bad id":         `{"conversations": [{"id": "five"}]}`,
		"bad creator id": `{"conversations": [{"id": 5, "created_by_id": "x"}]}`,
	} {
		t.Run(name, func(t *testing.T) {
			_, mux, srv := setup(t)
			mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { serveJSON(w, 200, []byte(body)) })
			got, _, err := srv.client(t).Conversations.List(context.Background(), nil)
			var de *DecodeError
			require.ErrorAs(t, err, &de)
			assert.Nil(t, got, "never a partial result")
			assert.Equal(t, 200, de.StatusCode)
			assert.Equal(t, "req-123", de.RequestID)
			assert.NotEmpty(t, de.Body)
			assert.Contains(t, err.Error(), "GET /api/v3/inbox/conversations")
		})
	}
}

func TestErrorBodyShapes(t *testing.T) {
	t.Parallel()
	for body, want := range map[string]string{
		`{"error": {"message": "nested"}}`:                     "nested",
		`{"message": "plain"}`:                                 "plain",
		`{"error": "invalid_grant", "error_description": "x"}`: "invalid_grant",
		`{"error_description": "only desc"}`:                   "only desc",
		`{"errors": ["one", "two"]}`:                           "one; two",
		`{"errors": [{"detail": "d"}, {"title": "t"}]}`:        "d; t",
	} {
		r := &http.Response{StatusCode: 400, Header: http.Header{}}
		err := newErrorResponse("GET", "/x", r, []byte(body))
		var e *ErrorResponse
		require.True(t, errors.As(err, &e))
		assert.Equal(t, want, e.Message, body)
	}
}
