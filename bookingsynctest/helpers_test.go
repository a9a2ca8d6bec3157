package bookingsynctest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"
)

// fakeClock is an injectable clock safe for concurrent use.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock {
	return &fakeClock{t: time.Date(2024, 5, 10, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type result struct {
	*http.Response
	raw  []byte
	body map[string]any
}

// call sends one API request (path relative to the API root unless it
// starts with "/") with the given token ("" for none).
func call(t *testing.T, s *Server, method, path, token string, body any) result {
	t.Helper()
	u := s.APIURL() + path
	if len(path) > 0 && path[0] == '/' {
		u = s.URL + path
	}
	if len(path) > 4 && path[:4] == "http" {
		u = path
	}
	var rd io.Reader
	if body != nil {
		switch b := body.(type) {
		case string:
			rd = bytes.NewReader([]byte(b))
		default:
			j, err := json.Marshal(b)
			if err != nil {
				t.Fatal(err)
			}
			rd = bytes.NewReader(j)
		}
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "application/vnd.api+json")
	if body != nil {
		req.Header.Set("Content-Type", "application/vnd.api+json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", method, path, err)
	}
	r := result{Response: resp, raw: raw}
	if len(raw) > 0 && raw[0] == '{' {
		if err := json.Unmarshal(raw, &r.body); err != nil {
			t.Fatalf("%s %s: bad JSON %q: %v", method, path, raw, err)
		}
	}
	return r
}

func get(t *testing.T, s *Server, path string) result {
	t.Helper()
	return call(t, s, http.MethodGet, path, s.Token(), nil)
}

func expectStatus(t *testing.T, r result, want int) {
	t.Helper()
	if r.StatusCode != want {
		t.Fatalf("%s %s: status %d, want %d; body %s", r.Request.Method, r.Request.URL.Path, r.StatusCode, want, r.raw)
	}
}

// objects returns the resource array under key.
func (r result) objects(t *testing.T, key string) []map[string]any {
	t.Helper()
	arr, ok := r.body[key].([]any)
	if !ok {
		t.Fatalf("no %q array in %s", key, r.raw)
	}
	out := make([]map[string]any, len(arr))
	for i, v := range arr {
		out[i] = v.(map[string]any)
	}
	return out
}

func idsOf(objs []map[string]any) []int64 {
	var out []int64
	for _, o := range objs {
		out = append(out, int64(o["id"].(float64)))
	}
	return out
}

func wrap(key string, obj map[string]any) map[string]any {
	return map[string]any{key: []any{obj}}
}
