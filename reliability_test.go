package bookingsync

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
)

func TestDefaultRetryPolicy(t *testing.T) {
	t.Parallel()
	p := DefaultRetryPolicy()
	require.Equal(t, 3, p.MaxAttempts)
	require.Equal(t, 250*time.Millisecond, p.MinBackoff)
	require.Equal(t, 30*time.Second, p.MaxBackoff)
	require.Equal(t, []int{502, 503, 504}, p.RetryStatuses)
	c, err := NewClient()
	require.NoError(t, err)
	assert.Equal(t, p.RetryStatuses, c.policy.RetryStatuses, "a new client's retry statuses")
	assert.Equal(t, 3, c.policy.MaxAttempts, "a new client's max attempts")
	assert.EqualValues(t, DefaultTimeout, c.hc.Timeout, "default http.Client timeout %v", c.hc.Timeout)
	c, err = NewClient(WithRetry(RetryPolicy{MaxBackoff: 100 * time.Millisecond}))
	require.NoError(t, err)
	assert.Equal(t, 100*time.Millisecond, c.policy.MinBackoff, "MinBackoff defaults to MaxBackoff when that is smaller")
}

func TestWithRetryRejectsNonsense(t *testing.T) {
	t.Parallel()
	for _, p := range []RetryPolicy{
		{MaxAttempts: -1},
		{MinBackoff: -time.Second},
		{MinBackoff: 2 * time.Second, MaxBackoff: time.Second},
		{RetryStatuses: []int{429}},
		{RetryStatuses: []int{401}},
		{RetryStatuses: []int{503, 404}},
	} {
		_, err := NewClient(WithRetry(p))
		assert.Error(t, err, "WithRetry(%+v) accepted", p)
	}
	_, err := NewClient(WithRateLimitWait(-time.Second))
	assert.Error(t, err, "WithRateLimitWait(-1s) accepted")
}

func TestBackoffBounds(t *testing.T) {
	t.Parallel()
	c, err := NewClient(WithRetry(RetryPolicy{MaxAttempts: 10, MinBackoff: 100 * time.Millisecond, MaxBackoff: 2 * time.Second}))
	require.NoError(t, err)
	for n := 1; n <= 10; n++ {
		ceil := min(100*time.Millisecond<<n, 2*time.Second)
		for range 200 {
			d := c.backoff(n)
			require.GreaterOrEqual(t, d, 100*time.Millisecond, "backoff(%d)", n)
			require.LessOrEqual(t, d, ceil, "backoff(%d)", n)
		}
		c.randN = func(k int64) int64 { return k - 1 }
		assert.Equal(t, ceil, c.backoff(n), "backoff(%d) at the top of the jitter", n)
		c.randN = func(int64) int64 { return 0 }
		assert.Equal(t, 100*time.Millisecond, c.backoff(n), "backoff(%d) at the bottom of the jitter", n)
		c.randN = defaultReliability().randN
	}
	assert.LessOrEqual(t, c.backoff(1<<20), 2*time.Second, "backoff of a huge n")
}

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"", 0, false},
		{"0", 0, true},
		{"5", 5 * time.Second, true},
		{" 7 ", 7 * time.Second, true},
		{"-1", 0, false},
		{"1.5", 0, false},
		{"soon", 0, false},
		{"99999999999999999999999999", maxRetryAfter, true},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0, true},
		{now.Add(time.Minute).Format(time.RFC850), time.Minute, true},
	}
	for _, tt := range tests {
		got, ok := parseRetryAfter(tt.in, now)
		assert.Equal(t, tt.want, got, "parseRetryAfter(%q)", tt.in)
		assert.Equal(t, tt.ok, ok, "parseRetryAfter(%q) ok", tt.in)
	}
}

// rotatingSource hands out a token the server rejects until refreshed.
type rotatingSource struct {
	mu        sync.Mutex
	tok       *oauth2.Token
	refreshes int
}

func (s *rotatingSource) Token() (*oauth2.Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tok, nil
}

func (s *rotatingSource) RefreshToken(ctx context.Context, rejected *oauth2.Token) (*oauth2.Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refreshes++
	s.tok = &oauth2.Token{AccessToken: "fresh-" + testToken, TokenType: "Bearer", Expiry: time.Now().Add(time.Hour)}
	return s.tok, nil
}

func TestUnauthorizedRefreshResendsPOSTOnce(t *testing.T) {
	t.Parallel()
	challenge := `Bearer realm="Doorkeeper", error="invalid_token", error_description="The access token is invalid"`
	tests := []struct {
		name      string
		alwaysBad bool
		static    bool
		received  int
		refreshes int
		ok        bool
	}{
		{"refreshed token accepted", false, false, 2, 1, true},
		{"refreshed token rejected too: no second refresh", true, false, 2, 1, false},
		{"static token: never resent", false, true, 1, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var processed atomic.Int32
			fs := newTestServer(t, 0)
			fs.script(func(n int, w http.ResponseWriter, r *http.Request) {
				if tt.alwaysBad || r.Header.Get("Authorization") != "Bearer fresh-"+testToken {
					answer(w, 401, `{"error":"Not authorized"}`, "WWW-Authenticate", challenge)
					return
				}
				processed.Add(1)
				answer(w, 201, `{"messages":[{"id":9}]}`)
			})
			src := &rotatingSource{tok: &oauth2.Token{AccessToken: "old-" + testToken, TokenType: "Bearer"}}
			auth := WithTokenSource(src)
			if tt.static {
				auth = WithToken("old-" + testToken)
			}
			c := fs.client(t, auth)
			newFakeClock(c)
			_, err := doMethod(context.Background(), c, "POST")
			got := fs.count("POST", "")
			assert.EqualValues(t, tt.received, got, "server received %d POSTs, want %d", got, tt.received)
			assert.EqualValues(t, tt.refreshes, src.refreshes, "%d refreshes, want %d", src.refreshes, tt.refreshes)
			require.False(t, processed.Load() > 1, "processed %d times", processed.Load())
			if tt.ok {
				require.NoError(t, err)
				require.EqualValues(t, 1, processed.Load(), "processed")
				return
			}
			var er *ErrorResponse
			require.ErrorAs(t, err, &er)
			require.ErrorIs(t, err, ErrUnauthorized)
			require.Equal(t, "invalid_token", er.AuthError)
		})
	}
}

func TestRefreshedTokenCarriesThroughRetries(t *testing.T) {
	t.Parallel()
	fs := newTestServer(t, 0)
	fs.script(func(n int, w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Header.Get("Authorization") != "Bearer fresh-"+testToken:
			answer(w, 401, `{"error":"Not authorized"}`)
		case n == 2:
			answer(w, 503, "")
		default:
			answer(w, 200, convOK)
		}
	})
	src := &rotatingSource{tok: &oauth2.Token{AccessToken: "old-" + testToken, TokenType: "Bearer"}}
	c := fs.client(t, WithTokenSource(src))
	newFakeClock(c)
	_, _, err := getConv(context.Background(), c)
	require.NoError(t, err)
	require.Equal(t, 3, fs.count("GET", ""), "requests received")
	require.EqualValues(t, 1, src.refreshes, "refreshes")
}

// TestConnectionsReused checks that every outcome, an error answer, a
// retried 503, a body over the limit, leaves the connection reusable.
func TestConnectionsReused(t *testing.T) {
	t.Parallel()
	var flaky atomic.Int32
	fs := newTestServer(t, 0)
	fs.script(func(n int, w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/missing"):
			answer(w, 404, `{"error":"Not found"}`)
		case strings.HasSuffix(r.URL.Path, "/flaky") && flaky.Add(1) == 1:
			answer(w, 503, "<html>busy</html>", "Content-Type", "text/html")
		case strings.HasSuffix(r.URL.Path, "/big"):
			answer(w, 200, `{"conversations":[{"subject":"`+strings.Repeat("x", 4000)+`"}]}`)
		case strings.HasSuffix(r.URL.Path, "/bad"):
			answer(w, 200, `{"conversations":[{"id":"five"`)
		default:
			answer(w, 200, convOK)
		}
	})
	c := fs.client(t, WithMaxResponseBytes(1024))
	newFakeClock(c)
	var conns, reused atomic.Int32
	ctx := httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) {
		conns.Add(1)
		if i.Reused {
			reused.Add(1)
		}
	}})
	for _, p := range []string{"ok", "missing", "big", "flaky", "bad", "ok", "missing", "ok"} {
		req, err := c.NewRequest(ctx, "GET", "inbox/conversations/"+p, nil)
		require.NoError(t, err)
		var v struct {
			Conversations []*Conversation `json:"conversations"`
		}
		_, err = c.Do(req, &v)
		switch p {
		case "missing":
			require.ErrorIs(t, err, ErrNotFound, "%s: %v", p, err)
		case "big":
			require.ErrorIs(t, err, ErrResponseTooLarge, "%s: want ErrResponseTooLarge, got %v", p, err)
		case "bad":
			var de *DecodeError
			require.True(t, errors.As(err, &de), "%s: want *DecodeError, got %v", p, err)
		default:
			require.NoError(t, err, "%s", p)
		}
	}
	// Every body read to its end leaves its connection for the next
	// request; the one over the limit drops its own rather than being
	// drained at the server's pace.
	assert.EqualValues(t, 2, fs.accepts.Load(), "connections the server accepted")
	assert.EqualValues(t, 9, conns.Load(), "exchanges")
	assert.EqualValues(t, 7, reused.Load(), "exchanges on a reused connection")
	assert.EqualValues(t, 9, fs.count("GET", ""), "server received %d GETs, want 9 (the 503 retried once, the oversized body not retried)", fs.count("GET", ""))
}

func TestSecretsNeverLeak(t *testing.T) {
	t.Parallel()
	var flaky atomic.Int32
	fs := newTestServer(t, 0)
	fs.script(func(n int, w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/denied"):
			answer(w, 401, `{"error":"Not authorized"}`, "WWW-Authenticate", `Bearer realm="Doorkeeper", error="invalid_token"`)
		case strings.HasSuffix(r.URL.Path, "/flaky") && flaky.Add(1) == 1:
			answer(w, 503, "")
		case strings.HasSuffix(r.URL.Path, "/reset"):
			hijackReset(w, r)
		default:
			answer(w, 200, convOK)
		}
	})
	var logs syncBuffer
	c := fs.client(t, WithLogger(debugLogger(&logs)), WithRetry(RetryPolicy{MaxAttempts: 1}))
	newFakeClock(c)
	c2 := fs.client(t, WithLogger(debugLogger(&logs)))
	newFakeClock(c2)
	ctx := context.Background()
	query := "?access_token=leak-A&code=leak-B&refresh_token=leak-C&client_secret=leak-D"
	var errs []error
	var resps []*Response
	for _, p := range []string{"ok", "denied", "reset", "flaky"} {
		cl := c
		if p == "flaky" {
			cl = c2
		}
		req, err := cl.NewRequest(ctx, "GET", "inbox/conversations/"+p+query, nil)
		require.NoError(t, err)
		resp, err := cl.Do(req, nil)
		errs = append(errs, err)
		resps = append(resps, resp)
	}
	// A transport error on a URL with secrets in its query.
	dead := fs.client(t, WithHTTPClient((&failingDialer{fail: 100}).client()), WithRetry(RetryPolicy{MaxAttempts: 1}), WithLogger(debugLogger(&logs)))
	newFakeClock(dead)
	req, _ := dead.NewRequest(ctx, "POST", "inbox/messages"+query, map[string]any{"messages": []any{}})
	_, err := dead.Do(req, nil)
	errs = append(errs, err)
	// Local errors that print a path or URL.
	_, err = c.NewRequest(ctx, "GET", "https://evil.example/x"+query, nil)
	errs = append(errs, err)
	_, err = c.NewRequest(ctx, "GET", "x%zz"+query, nil)
	errs = append(errs, err)
	_, err = c.NewRequest(ctx, "GET", "../../oauth/token"+query, nil)
	errs = append(errs, err)
	_, err = NewClient(WithBaseURL("http://example.com/" + query))
	errs = append(errs, err)

	secrets := []string{testToken, "Bearer", "leak-A", "leak-B", "leak-C", "leak-D"}
	var text strings.Builder
	text.WriteString(logs.String())
	for i, err := range errs {
		if i != 0 && i != 3 {
			assert.Error(t, err, "case %d", i)
		}
		if err != nil {
			fmt.Fprintf(&text, "%v\n%+v\n", err, err)
		}
	}
	for _, r := range resps {
		if r != nil && r.Request != nil {
			assert.Empty(t, r.Request.Header.Get("Authorization"), "Response.Request carries Authorization")
		}
	}
	var er *ErrorResponse
	assert.False(t, errors.As(errs[1], &er) && er.Response.Request.Header.Get("Authorization") != "", "ErrorResponse.Response.Request carries Authorization")
	for _, s := range secrets {
		assert.NotContains(t, text.String(), s, "%q leaked into logs or errors:\n%s", s, text.String())
	}
	out := logs.String()
	for _, want := range []string{"level=DEBUG", "method=GET", "path=/api/v3/inbox/conversations/flaky", "status=503", "attempt=2", "request_id=req-200", "duration="} {
		assert.Contains(t, out, want, "log lacks %q:\n%s", want, out)
	}
	assert.Contains(t, text.String(), "REDACTED", "printed URLs are not redacted:\n%s", text.String())
}

func TestRedactURL(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"https://h/x?access_token=abc&page=2":         "https://h/x?access_token=REDACTED&page=2",
		"x?page=1&Token=abc;secret=s#code=c":          "x?page=1&Token=REDACTED;secret=REDACTED#code=REDACTED",
		"/oauth/token?refresh_token=r&password=p&x=1": "/oauth/token?refresh_token=REDACTED&password=REDACTED&x=1",
		"/oauth/token?client_secret=s&client_id=id":   "/oauth/token?client_secret=REDACTED&client_id=id",
		"/inbox/conversations/5?fields=id,subject":    "/inbox/conversations/5?fields=id,subject",
		"/x?mytoken=keep&codex=keep":                  "/x?mytoken=keep&codex=keep",
	}
	for in, want := range tests {
		got := redactURL(in)
		assert.EqualValues(t, want, got, "redactURL(%q) = %q, want %q", in, got, want)
	}
}

func TestNewRequestOddPaths(t *testing.T) {
	t.Parallel()
	c, err := NewClient(WithBaseURL("https://sandbox.example.com"))
	require.NoError(t, err)
	ctx := context.Background()
	ok := map[string]string{
		"inbox/conversations/1,2,3":  "https://sandbox.example.com/api/v3/inbox/conversations/1,2,3",
		"/inbox/conversations/5":     "https://sandbox.example.com/api/v3/inbox/conversations/5",
		"hosts/a b":                  "https://sandbox.example.com/api/v3/hosts/a%20b",
		"inbox/messages?page=2#frag": "https://sandbox.example.com/api/v3/inbox/messages?page=2#frag",
		"//evil.example/x":           "https://sandbox.example.com/api/v3/evil.example/x",
	}
	for p, want := range ok {
		req, err := c.NewRequest(ctx, "GET", p, nil)
		if !assert.NoError(t, err, "NewRequest(%q)", p) {
			continue
		}
		got := req.URL.String()
		assert.EqualValues(t, want, got, "NewRequest(%q) URL %q, want %q", p, got, want)
	}
	for _, p := range []string{"../../oauth/token", "inbox/../../x", "https://evil.example/x", "x%zz", "\x7f"} {
		_, err := c.NewRequest(ctx, "GET", p, nil)
		assert.Error(t, err, "NewRequest(%q) accepted", p)
	}
}

// TestConcurrentClient shares one client among 64 goroutines mixing
// reads, writes, 429s and 503s; run it under -race. Every message is
// processed at most once.
func TestConcurrentClient(t *testing.T) {
	t.Parallel()
	var gets, puts, posts atomic.Int64
	var mu sync.Mutex
	processed := map[string]int{}
	fs := newTestServer(t, 0)
	fs.script(func(n int, w http.ResponseWriter, r *http.Request) {
		budget := rateHeaders(500, strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10))
		switch r.Method {
		case "GET":
			if gets.Add(1)%4 == 0 {
				answer(w, 503, "", budget...)
				return
			}
			answer(w, 200, convOK, budget...)
		case "PUT":
			if puts.Add(1)%5 == 0 {
				answer(w, 429, limited, append(budget, "Retry-After", "0")...)
				return
			}
			answer(w, 200, convOK, budget...)
		case "POST":
			var body struct {
				Messages []struct{ Content string } `json:"messages"`
			}
			if err := json.NewDecoder(r.Body).Decode(&body); err != nil || len(body.Messages) != 1 {
				answer(w, 400, `{"error":"bad body"}`)
				return
			}
			k := posts.Add(1)
			switch {
			case k%3 == 0:
				answer(w, 429, limited, append(budget, "Retry-After", "0")...)
				return
			case k%7 == 0: // processed, but the answer is lost behind a 503
				mu.Lock()
				processed[body.Messages[0].Content]++
				mu.Unlock()
				answer(w, 503, "", budget...)
				return
			}
			mu.Lock()
			processed[body.Messages[0].Content]++
			mu.Unlock()
			answer(w, 201, `{"messages":[{"id":1}]}`, budget...)
		}
	})
	c := fs.client(t, WithRateLimitWait(time.Minute))
	newFakeClock(c)
	ctx := context.Background()
	const workers, rounds = 64, 8
	var wg sync.WaitGroup
	var sentOK sync.Map
	errc := make(chan error, workers*rounds)
	for g := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range rounds {
				var err error
				switch i % 3 {
				case 0:
					_, _, err = getConv(ctx, c)
				case 1:
					_, _, err = c.Conversations.Update(ctx, 5, &ConversationUpdate{})
				case 2:
					content := fmt.Sprintf("g%d-r%d", g, i)
					var req *http.Request
					req, err = c.NewRequest(ctx, "POST", "inbox/messages", map[string]any{"messages": []map[string]any{{"content": content}}})
					if err == nil {
						_, err = c.Do(req, io.Discard)
					}
					if err == nil {
						sentOK.Store(content, true)
					}
				}
				if err != nil {
					errc <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		var er *ErrorResponse
		require.ErrorAs(t, err, &er)
		assert.Contains(t, []int{503, 429}, er.StatusCode)
	}
	mu.Lock()
	defer mu.Unlock()
	for content, n := range processed {
		assert.EqualValues(t, 1, n, "message %s processed %d times", content, n)
	}
	sentOK.Range(func(k, _ any) bool {
		assert.EqualValues(t, 1, processed[k.(string)], "message %s reported sent but processed %d times", k, processed[k.(string)])
		return true
	})
	assert.EqualValues(t, 500, c.Rate().Remaining, "Rate %+v", c.Rate())
}
