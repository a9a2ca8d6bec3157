package bookingsynctest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
)

func keysOf(m map[string]any) []string {
	var k []string
	for key := range m {
		k = append(k, key)
	}
	sort.Strings(k)
	return k
}

// kindOf classifies a JSON value for shape comparison: null, array,
// object or scalar.
func kindOf(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return "scalar"
}

// TestShapesMatchFixtures compares the fake's responses with the API
// reference's example responses: top-level keys, link-template keys,
// attribute keys and the array/object nature of every link. Extra keys
// are allowed only where the project's API notes document them beyond the
// example.
func TestShapesMatchFixtures(t *testing.T) {
	s := NewServer()
	defer s.Close()
	recordedBooking := []string{"created_by_id", "created_by_type", "cancelation_reason", "cancelation_message_to_guest",
		"cancelation_message_to_channel", "damage_deposit_collection_method", "damage_deposit_external_collection_method_name",
		"door_key_code", "imported", "reconciliation", "authorized_amount", "paid_or_authorized_amount", "payback_to_owner"}
	cases := []struct {
		fixture, path, key string
		extra              []string // documented beyond the example, absent from it
		extraLinks         []string // recorded, absent from the example
	}{
		{"conversations/inbox_read-inbox_write-scope-response.json", "inbox/conversations/11", "conversations", []string{"created_by_id", "created_by_type"}, nil},
		{"participants/inbox_read-inbox_write-scope-response.json", "inbox/participants/1", "participants", nil, []string{"account"}},
		{"messages/inbox_read-inbox_write-scope-response.json", "inbox/messages/1", "messages", []string{"created_by_id", "created_by_type"}, []string{"account"}},
		{"hosts/inbox_read-inbox_write-scope-response.json", "hosts/2", "hosts", nil, nil},
		{"bookings/bookings_read-bookings_write-scope-response.json", "bookings/80", "bookings", recordedBooking, nil},
		{"applications/applications_read-scope-response.json", "applications/65", "applications", []string{"default_price_increase", "created_at", "updated_at"}, nil},
	}
	for _, c := range cases {
		t.Run(c.key, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join("..", "testdata", c.fixture))
			if err != nil {
				t.Fatal(err)
			}
			var want map[string]any
			if err := json.Unmarshal(raw, &want); err != nil {
				t.Fatal(err)
			}
			r := get(t, s, c.path)
			expectStatus(t, r, 200)
			if ct := r.Header.Get("Content-Type"); ct != "application/vnd.api+json; charset=utf-8" {
				t.Errorf("Content-Type %q", ct)
			}
			if !slices.Equal(keysOf(r.body), keysOf(want)) {
				t.Fatalf("top-level keys %v, want %v", keysOf(r.body), keysOf(want))
			}
			if wl, ok := want["links"].(map[string]any); ok {
				wk := keysOf(wl)
				for _, l := range c.extraLinks {
					wk = append(wk, c.key+"."+l)
				}
				sort.Strings(wk)
				if gl := r.body["links"].(map[string]any); !slices.Equal(keysOf(gl), wk) {
					t.Errorf("link templates %v, want %v", keysOf(gl), wk)
				}
			}
			wo := want[c.key].([]any)[0].(map[string]any)
			got := r.objects(t, c.key)
			if len(got) != 1 {
				t.Fatalf("%d objects, want an array of one", len(got))
			}
			g := got[0]
			wk := append(keysOf(wo), c.extra...)
			sort.Strings(wk)
			if !slices.Equal(keysOf(g), wk) {
				t.Errorf("object keys\n got %v\nwant %v", keysOf(g), wk)
			}
			if wlinks, ok := wo["links"].(map[string]any); ok {
				glinks := g["links"].(map[string]any)
				wk := append(keysOf(wlinks), c.extraLinks...)
				sort.Strings(wk)
				if !slices.Equal(keysOf(glinks), wk) {
					t.Errorf("links keys %v, want %v", keysOf(glinks), keysOf(wlinks))
				}
				for k, wv := range wlinks {
					wkind, gkind := kindOf(wv), kindOf(glinks[k])
					if wkind == "array" || wkind == "object" || gkind == "array" || gkind == "object" {
						if wkind != gkind {
							t.Errorf("links.%s is %s, want %s", k, gkind, wkind)
						}
					}
				}
			}
			for k, wv := range wo {
				if kindOf(wv) == "array" && kindOf(g[k]) != "array" {
					t.Errorf("%s is %s, want an array", k, kindOf(g[k]))
				}
			}
			// Recorded: a single GET carries the paging headers and a meta copy.
			m, _ := r.body["meta"].(map[string]any)
			if m["X-Total-Pages"] != "1" || m["X-Total-Count"] != "1" || m["Link"] == nil || r.Header.Get("X-Total-Pages") != "1" || r.Header.Get("Link") == "" {
				t.Errorf("meta = %v, headers %v", r.body["meta"], r.Header)
			}
		})
	}
}

func TestConversationContent(t *testing.T) {
	s := NewServer()
	defer s.Close()
	c := get(t, s, "inbox/conversations/11").objects(t, "conversations")[0]
	if c["created_by_type"] != "Doorkeeper::Application" || c["created_by_id"] != float64(AirbnbAppID) || c["default_channel"] != "airbnb" {
		t.Errorf("creator/channel: %v %v %v", c["created_by_type"], c["created_by_id"], c["default_channel"])
	}
	l := c["links"].(map[string]any)
	if !slices.Equal(l["bookings"].([]any), []any{float64(AirbnbBookingID)}) || len(l["participants"].([]any)) != 2 || len(l["messages"].([]any)) != 3 {
		t.Errorf("links %v", l)
	}
	b := get(t, s, "bookings/80").objects(t, "bookings")[0]
	if got := b["links"].(map[string]any)["conversations"]; !slices.Equal(got.([]any), []any{float64(11)}) {
		t.Errorf("booking conversations %v", got)
	}
	if b["final_price"] != "2700.0" || b["status"] != "Booked" {
		t.Errorf("booking %v %v", b["final_price"], b["status"])
	}
	c13 := get(t, s, "inbox/conversations/13").objects(t, "conversations")[0]
	if c13["closed_at"] == nil || c["closed_at"] != nil {
		t.Errorf("closed_at: 13=%v 11=%v", c13["closed_at"], c["closed_at"])
	}
	if r := get(t, s, "applications/70").objects(t, "applications")[0]; r["name"] != "Smily Guest App" {
		t.Errorf("app 70 %v", r)
	}
	// Request ids are unique.
	a, b2 := get(t, s, "hosts"), get(t, s, "hosts")
	if a.Header.Get("X-Request-Id") == "" || a.Header.Get("X-Request-Id") == b2.Header.Get("X-Request-Id") {
		t.Errorf("request ids %q %q", a.Header.Get("X-Request-Id"), b2.Header.Get("X-Request-Id"))
	}
}

// TestDocListsEveryResource keeps the package doc's table of endpoints in
// step with the registry the routes come from.
func TestDocListsEveryResource(t *testing.T) {
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range registry {
		if !strings.Contains(string(doc), "GET  /"+k.path) && !strings.Contains(string(doc), "GET /"+k.path) {
			t.Errorf("doc.go does not list /%s", k.path)
		}
	}
}

// TestShapesMatchRecordings compares the fake with the shapes recorded
// from the live API (testdata/recorded): every recorded attribute and link
// is there, and the reduced booking has exactly the recorded keys.
func TestShapesMatchRecordings(t *testing.T) {
	s := NewServer()
	defer s.Close()
	cases := []struct {
		fixture, path, key, token string
		exact                     bool
	}{
		{"bookings-response.json", "bookings/80", "bookings", s.Token(), false},
		{"bookings-without-bookings_read-response.json", "bookings/80", "bookings", s.IssueToken("inbox_read"), true},
		{"participants-response.json", "inbox/participants/1", "participants", s.Token(), false},
		{"messages-response.json", "inbox/messages/1", "messages", s.Token(), false},
		{"applications-response.json", "applications/65", "applications", s.Token(), true},
		{"rentals-response.json", "rentals/16?include=availability,change_over", "rentals", s.Token(), false},
		{"accounts-response.json", "accounts/1", "accounts", s.Token(), false},
		{"reviews-response.json", "reviews/97", "reviews", s.Token(), true},
		{"review_replies-response.json", "review_replies/" + replyID(1), "review_replies", s.Token(), true},
	}
	for _, c := range cases {
		raw, err := os.ReadFile(filepath.Join("..", "testdata", "recorded", c.fixture))
		if err != nil {
			t.Fatal(err)
		}
		var want map[string]any
		if err := json.Unmarshal(raw, &want); err != nil {
			t.Fatal(err)
		}
		r := call(t, s, "GET", c.path, c.token, nil)
		expectStatus(t, r, 200)
		g, w := r.objects(t, c.key)[0], want[c.key].([]any)[0].(map[string]any)
		gl, _ := g["links"].(map[string]any)
		wl, _ := w["links"].(map[string]any)
		for _, pair := range [][2]map[string]any{{g, w}, {gl, wl}} {
			for k := range pair[1] {
				if _, ok := pair[0][k]; !ok {
					t.Errorf("%s: %s lacks %q", c.fixture, c.path, k)
				}
			}
			if c.exact && len(pair[0]) != len(pair[1]) {
				t.Errorf("%s: keys %v, want %v", c.fixture, keysOf(pair[0]), keysOf(pair[1]))
			}
		}
		wantLinks, _ := want["links"].(map[string]any)
		for k := range wantLinks {
			if _, ok := r.body["links"].(map[string]any)[k]; !ok {
				t.Errorf("%s: no link template %q", c.fixture, k)
			}
		}
		// Sideloaded records have the recorded shape too.
		for k, wv := range w {
			if wm, ok := wv.(map[string]any); ok && wm["id"] != nil {
				gm, _ := g[k].(map[string]any)
				if !slices.Equal(keysOf(gm), keysOf(wm)) {
					t.Errorf("%s: sideloaded %s keys %v, want %v", c.fixture, k, keysOf(gm), keysOf(wm))
				}
			}
		}
	}
}
