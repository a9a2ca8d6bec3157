package bookingsynctest

import (
	"bufio"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
)

// routesFile reads the repository's list of the API's routes,
// "METHOD /path", in its order.
func routesFile(t *testing.T) []string {
	t.Helper()
	f, err := os.Open("../testdata/routes.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		cols := strings.Fields(line)
		if len(cols) != 3 {
			t.Fatalf("routes.txt: %q: want method, path, page", line)
		}
		out = append(out, cols[0]+" "+cols[1])
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestReferenceRoutesMatchTheRoutesFile(t *testing.T) {
	t.Parallel()
	if got, want := referenceRoutes, routesFile(t); !slices.Equal(got, want) {
		t.Errorf("referenceRoutes (reference.go) and testdata/routes.txt differ:\n%v\n%v", got, want)
	}
}

// TestEveryReferenceRouteIsAnswered walks every route of the reference
// against the fake: none may fall to the catch-all "not found" (a caller's
// test would read "no such record" where the API would have answered),
// and one the fake does not implement answers 501 naming itself.
func TestEveryReferenceRouteIsAnswered(t *testing.T) {
	t.Parallel()
	s := NewServer(WithoutRequestLog())
	defer s.Close()
	for _, rt := range routesFile(t) {
		method, path, _ := strings.Cut(rt, " ")
		for strings.Contains(path, "{") { // any id will do for the route
			i, j := strings.IndexByte(path, '{'), strings.IndexByte(path, '}')
			path = path[:i] + "7" + path[j+1:]
		}
		req := httptest.NewRequest(method, "/api/v3"+path, nil)
		if _, pattern := s.mux.Handler(req); pattern == "/api/v3/" || pattern == "/" || pattern == "" {
			t.Errorf("%s: no route in the fake (pattern %q): a caller would read 404", rt, pattern)
			continue
		}
		r := call(t, s, method, path, s.Token(), nil)
		if r.StatusCode == http.StatusNotImplemented && r.body["route"] != rt {
			t.Errorf("%s: 501 names %v", rt, r.body["route"])
		}
	}
}

func TestNotImplementedRouteNamesItself(t *testing.T) {
	t.Parallel()
	s := NewServer()
	defer s.Close()
	r := call(t, s, http.MethodPost, "rentals/16/bookings", s.Token(), wrap("bookings", map[string]any{"booked": true}))
	expectStatus(t, r, http.StatusNotImplemented)
	if r.body["route"] != "POST /rentals/{rental_id}/bookings" || !strings.Contains(r.body["error"].(string), "POST /rentals/{rental_id}/bookings") {
		t.Errorf("501 body %s", r.raw)
	}
	if r.Header.Get("X-RateLimit-Remaining") == "" {
		t.Error("a 501 still carries the rate headers")
	}
	// A route the API does not have is still a 404.
	expectStatus(t, get(t, s, "no_such_resource"), http.StatusNotFound)
}
