package bookingsynctest

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// parseLinks splits a Link header into rel -> URL.
func parseLinks(t *testing.T, h string) map[string]*url.URL {
	t.Helper()
	out := map[string]*url.URL{}
	re := regexp.MustCompile(`<([^>]*)>; rel="(\w+)"`)
	for _, m := range re.FindAllStringSubmatch(h, -1) {
		u, err := url.Parse(m[1])
		if err != nil {
			t.Fatal(err)
		}
		out[m[2]] = u
	}
	return out
}

func TestPaging(t *testing.T) {
	s := NewServer(WithoutSeed())
	defer s.Close()
	s.AddApplication("Airbnb")
	want := s.GenerateConversations(250, 1)
	r := get(t, s, "inbox/conversations?per_page=100&fields=id,subject&q=a+b%26c")
	expectStatus(t, r, 200)
	if r.Header.Get("X-Total-Pages") != "3" || r.Header.Get("X-Total-Count") != "250" || r.Header.Get("X-Per-Page") != "100" {
		t.Fatalf("paging headers %v", r.Header)
	}
	links := parseLinks(t, r.Header.Get("Link"))
	if _, ok := links["prev"]; ok || links["next"] == nil || links["first"] == nil || links["last"] == nil {
		t.Fatalf("page 1 links %q", r.Header.Get("Link"))
	}
	nq := links["next"].Query()
	if nq.Get("page") != "2" || nq.Get("per_page") != "100" || nq.Get("fields") != "id,subject" || nq.Get("q") != "a b&c" {
		t.Errorf("next link query %v", nq)
	}
	if !strings.HasPrefix(links["next"].String(), s.URL+"/api/v3/inbox/conversations?") {
		t.Errorf("next link %s", links["next"])
	}
	if links["last"].Query().Get("page") != "3" {
		t.Errorf("last %s", links["last"])
	}
	var got []int64
	u := s.APIURL() + "inbox/conversations?per_page=100"
	for pages := 0; u != ""; pages++ {
		if pages > 3 {
			t.Fatal("too many pages")
		}
		r := get(t, s, u)
		expectStatus(t, r, 200)
		got = append(got, idsOf(r.objects(t, "conversations"))...)
		u = ""
		if n := parseLinks(t, r.Header.Get("Link"))["next"]; n != nil {
			u = n.String()
		}
		if pages == 2 {
			if _, ok := parseLinks(t, r.Header.Get("Link"))["prev"]; !ok {
				t.Error("last page lacks prev")
			}
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("walked %d ids, want %d in order", len(got), len(want))
	}
	// per_page is capped.
	if r := get(t, s, "inbox/conversations?per_page=500"); r.Header.Get("X-Per-Page") != "100" || len(r.objects(t, "conversations")) != 100 {
		t.Errorf("cap: X-Per-Page %s", r.Header.Get("X-Per-Page"))
	}
	// fields keeps id, links and the named attributes.
	o := r.objects(t, "conversations")[0]
	if len(o) != 3 || o["subject"] == nil || o["links"] == nil || o["id"] == nil {
		t.Errorf("fields: %v", o)
	}
}

func TestPageSizeCapOption(t *testing.T) {
	s := NewServer(WithPageSizeCap(2))
	defer s.Close()
	r := get(t, s, "inbox/conversations")
	if len(r.objects(t, "conversations")) != 2 || r.Header.Get("X-Total-Pages") != "2" {
		t.Errorf("cap 2: %d objects, %s pages", len(r.objects(t, "conversations")), r.Header.Get("X-Total-Pages"))
	}
}

// TestIDListsArePagedAtTheResourceCap: the live API pages an id-list
// answer like a listing, rentals at 50 a page (recorded), the others at
// 100; page and per_page select the page, and the paging headers and
// their meta copy say what follows.
func TestIDListsArePagedAtTheResourceCap(t *testing.T) {
	t.Parallel()
	s := NewServer(WithoutSeed())
	defer s.Close()
	var ids []string
	var want []int64
	for i := range 60 {
		id := s.AddRental(RentalSeed{Name: fmt.Sprint("r", i)})
		ids = append(ids, strconv.FormatInt(id, 10))
		want = append(want, id)
	}
	path := "rentals/" + strings.Join(ids, ",")
	first := get(t, s, path)
	expectStatus(t, first, 200)
	h := first.Header
	if h.Get("X-Per-Page") != "50" || h.Get("X-Total-Count") != "60" || h.Get("X-Total-Pages") != "2" {
		t.Fatalf("page 1 headers: per %s, count %s, pages %s", h.Get("X-Per-Page"), h.Get("X-Total-Count"), h.Get("X-Total-Pages"))
	}
	next := parseLinks(t, h.Get("Link"))["next"]
	if next == nil || next.Query().Get("page") != "2" {
		t.Fatalf("page 1 Link %q", h.Get("Link"))
	}
	if m := first.body["meta"].(map[string]any)["Link"].(map[string]any); m["next"] == nil {
		t.Errorf("meta copy without next: %v", m)
	}
	second := get(t, s, path+"?page=2")
	if _, ok := parseLinks(t, second.Header.Get("Link"))["next"]; ok {
		t.Errorf("page 2 of 2 has a next link: %q", second.Header.Get("Link"))
	}
	got := append(idsOf(first.objects(t, "rentals")), idsOf(second.objects(t, "rentals"))...)
	if !slices.Equal(got, want) {
		t.Errorf("two pages hold %v, want %v", got, want)
	}
	if n := len(get(t, s, path+"?page=3").objects(t, "rentals")); n != 0 {
		t.Errorf("page 3 of 2 holds %d rentals", n)
	}
	// per_page below the cap is honoured, above it capped; other
	// resources cap at 100, and WithPageCap sets one resource's cap.
	if r := get(t, s, path+"?per_page=20"); len(r.objects(t, "rentals")) != 20 || r.Header.Get("X-Total-Pages") != "3" {
		t.Errorf("per_page 20: %d rentals, %s pages", len(r.objects(t, "rentals")), r.Header.Get("X-Total-Pages"))
	}
	if r := get(t, s, path+"?per_page=100"); len(r.objects(t, "rentals")) != 50 {
		t.Errorf("per_page 100 of rentals: %d, want the cap 50", len(r.objects(t, "rentals")))
	}
	if r := get(t, s, "rentals"); r.Header.Get("X-Per-Page") != "50" {
		t.Errorf("the rentals listing pages at %s", r.Header.Get("X-Per-Page"))
	}
	if r := get(t, s, "inbox/conversations"); r.Header.Get("X-Per-Page") != "100" {
		t.Errorf("conversations page at %s", r.Header.Get("X-Per-Page"))
	}
	capped := NewServer(WithoutSeed(), WithPageCap("rentals", 7), WithPageSizeCap(3))
	defer capped.Close()
	capped.AddRental(RentalSeed{Name: "a"})
	if r := get(t, capped, "rentals"); r.Header.Get("X-Per-Page") != "7" {
		t.Errorf("WithPageCap: rentals page at %s, want 7", r.Header.Get("X-Per-Page"))
	}
	if r := get(t, capped, "hosts"); r.Header.Get("X-Per-Page") != "3" {
		t.Errorf("WithPageSizeCap: hosts page at %s, want 3", r.Header.Get("X-Per-Page"))
	}
}

func TestIncludeAndGetMany(t *testing.T) {
	s := NewServer()
	defer s.Close()
	r := get(t, s, "inbox/conversations/11?include=participants,messages")
	c := r.objects(t, "conversations")[0]
	ps, _ := c["participants"].([]any)
	if len(ps) != 2 {
		t.Fatalf("included participants: %v", c["participants"])
	}
	types := []string{}
	for _, p := range ps {
		types = append(types, p.(map[string]any)["links"].(map[string]any)["member"].(map[string]any)["type"].(string))
	}
	if !slices.Equal(types, []string{"Client", "Host"}) {
		t.Errorf("member types %v", types)
	}
	if ms, _ := c["messages"].([]any); len(ms) != 3 {
		t.Errorf("included messages %v", c["messages"])
	}
	if _, ok := get(t, s, "inbox/conversations/11").objects(t, "conversations")[0]["participants"]; ok {
		t.Error("participants embedded without include")
	}

	many := get(t, s, "inbox/conversations/12,11,999")
	expectStatus(t, many, 200)
	if got := idsOf(many.objects(t, "conversations")); !slices.Equal(got, []int64{11, 12}) {
		t.Errorf("GetMany ids %v", got)
	}
	expectStatus(t, get(t, s, "inbox/conversations/999"), 404)
	expectStatus(t, get(t, s, "inbox/conversations/998,999"), 404)
	expectStatus(t, get(t, s, "inbox/conversations/abc"), 404)
	nf := get(t, s, "hosts/999")
	if nf.body["error"] != "Not found" {
		t.Errorf("404 body %s", nf.raw)
	}
}

func TestUpdatedSince(t *testing.T) {
	clk := newClock()
	s := NewServer(WithClock(clk.Now))
	defer s.Close()
	clk.Add(time.Hour)
	r := get(t, s, "inbox/conversations?updated_since=2000-01-01T00:00:00Z")
	expectStatus(t, r, 200)
	synced := r.Header.Get("X-Updated-Since-Request-Synced-At")
	if synced != "2024-05-10 13:00:00 UTC" {
		t.Fatalf("synced-at %q", synced)
	}
	if d := r.body["meta"].(map[string]any)["deleted_ids"]; d == nil || len(d.([]any)) != 0 {
		t.Errorf("deleted_ids %v, want []", d)
	}
	clk.Add(time.Minute)
	// A host message in conversation 12 and a deleted conversation 13.
	pr := call(t, s, "POST", "inbox/participants", s.Token(), wrap("participants", map[string]any{
		"conversation_id": 12, "member_id": HostJanID, "member_type": "Host"}))
	expectStatus(t, pr, 201)
	if got := pr.Header.Get("X-Per-Page"); got != "100" {
		t.Errorf("a 201's X-Per-Page %q, want the resource's page cap, 100", got)
	}
	pid := pr.objects(t, "participants")[0]["id"]
	mr := call(t, s, "POST", "inbox/messages", s.Token(), wrap("messages", map[string]any{
		"conversation_id": "12", "sender_id": pid, "content": "Sure, a cot is ready.", "origin": "bookingsync_inbox",
		"visibility": "external", "channel": "booking-com", "sent_at": "2024-05-10T13:01:00Z"}))
	expectStatus(t, mr, 201)
	if !s.DeleteConversation(13) || s.DeleteConversation(13) {
		t.Fatal("DeleteConversation")
	}
	since := url.QueryEscape(strings.Replace(strings.TrimSuffix(synced, " UTC"), " ", "T", 1) + "Z")
	r = get(t, s, "inbox/conversations?updated_since="+since)
	if got := idsOf(r.objects(t, "conversations")); !slices.Equal(got, []int64{12}) {
		t.Errorf("changed conversations %v, want [12]", got)
	}
	if d := r.body["meta"].(map[string]any)["deleted_ids"].([]any); !slices.Equal(d, []any{float64(13)}) {
		t.Errorf("deleted_ids %v", d)
	}
	if r.Header.Get("X-Total-Count") != "1" {
		t.Errorf("total %s", r.Header.Get("X-Total-Count"))
	}
	c := get(t, s, "inbox/conversations/12").objects(t, "conversations")[0]
	if c["last_message_at"] != "2024-05-10T13:01:00Z" || c["updated_at"] != "2024-05-10T13:01:00Z" {
		t.Errorf("conversation after message: %v %v", c["last_message_at"], c["updated_at"])
	}
	// The synced-at layout is also accepted back.
	expectStatus(t, get(t, s, "inbox/messages?updated_since="+url.QueryEscape(synced)), 200)
	expectStatus(t, get(t, s, "inbox/messages?updated_since=yesterday"), 422)
	// Deleting a conversation deleted its messages too.
	if d := get(t, s, "inbox/messages?updated_since="+since).body["meta"].(map[string]any)["deleted_ids"].([]any); len(d) != 2 {
		t.Errorf("deleted messages %v", d)
	}
}

func TestDelayedConversation(t *testing.T) {
	clk := newClock()
	s := NewServer(WithClock(clk.Now), WithConversationDelay(30*time.Second))
	defer s.Close()
	links := func() []any {
		return get(t, s, "bookings/82").objects(t, "bookings")[0]["links"].(map[string]any)["conversations"].([]any)
	}
	if l := links(); len(l) != 0 {
		t.Fatalf("before: booking conversations %v", l)
	}
	expectStatus(t, get(t, s, "inbox/conversations/14"), 404)
	if ids := idsOf(get(t, s, "inbox/conversations").objects(t, "conversations")); slices.Contains(ids, 14) {
		t.Fatalf("before: listed %v", ids)
	}
	if ids := idsOf(get(t, s, "inbox/participants").objects(t, "participants")); slices.Contains(ids, 6) {
		t.Fatalf("before: participants %v", ids)
	}
	clk.Add(29 * time.Second)
	expectStatus(t, get(t, s, "inbox/conversations/14"), 404)
	clk.Add(time.Second)
	if l := links(); !slices.Equal(l, []any{float64(14)}) {
		t.Fatalf("after: booking conversations %v", l)
	}
	c := get(t, s, "inbox/conversations/14").objects(t, "conversations")[0]
	if c["created_by_id"] != float64(BookingComAppID) || c["default_channel"] != "booking-com" {
		t.Errorf("delayed conversation %v", c)
	}
	if ids := idsOf(get(t, s, "inbox/conversations").objects(t, "conversations")); !slices.Contains(ids, 14) {
		t.Errorf("after: listed %v", ids)
	}
}

func TestBookingFilters(t *testing.T) {
	clk := newClock()
	s := NewServer(WithClock(clk.Now))
	defer s.Close()
	cases := map[string][]int64{
		"bookings":                                     {80, 81, 82, 85},
		"bookings?include_canceled=true":               {80, 81, 82, 83, 85},
		"bookings?status=Unavailable":                  {85},
		"bookings?status=booked,TENTATIVE":             {80, 81, 82},
		"bookings?client_id=37,38":                     {80, 81},
		"bookings?rental_id=17":                        {81, 85},
		"bookings?from=2024-04-01T00:00:00Z":           {80, 81, 82, 84, 85},
		"bookings?from=2024-04-01T00:00:00Z&months=1":  {84},
		"bookings?until=2024-05-26T00:00:00Z":          {80},
		"bookings?updated_since=2024-05-01T00:00:00Z":  {80, 81, 82, 83, 85},
		"bookings?include_canceled=1&rental_id=16,999": {80, 83},
	}
	for path, want := range cases {
		r := get(t, s, path)
		expectStatus(t, r, 200)
		if got := idsOf(r.objects(t, "bookings")); !slices.Equal(got, want) {
			t.Errorf("%s: %v, want %v", path, got, want)
		}
	}
	expectStatus(t, get(t, s, "bookings?from=soon"), 422)
	b := get(t, s, "bookings/83?include_canceled=true").objects(t, "bookings")[0]
	if b["status"] != "Canceled" || b["canceled_at"] == nil {
		t.Errorf("canceled booking %v %v", b["status"], b["canceled_at"])
	}
	// A token with only the public scope sees the reduced view.
	pub := s.IssueToken()
	r := call(t, s, "GET", "bookings/80", pub, nil)
	expectStatus(t, r, 200)
	o := r.objects(t, "bookings")[0]
	if len(o) != 6 || o["final_price"] != nil {
		t.Errorf("public view %v", o)
	}
	if r.body["links"].(map[string]any)["bookings.client"] != nil {
		t.Error("public view has client template")
	}
	w := s.IssueToken("bookings_write")
	expectStatus(t, call(t, s, http.MethodGet, "bookings/80", w, nil), 200)
}

// TestCloseTwice: Close may be called again, as httptest.Server.Close may.
func TestCloseTwice(t *testing.T) {
	t.Parallel()
	s := NewServer()
	s.Close()
	s.Close()
}
