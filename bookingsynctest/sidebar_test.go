package bookingsynctest

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// Lists repeat the paging headers in meta, as the recordings show.
func TestListsRepeatThePagingHeadersInMeta(t *testing.T) {
	t.Parallel()
	s := NewServer()
	defer s.Close()
	r := get(t, s, "clients?per_page=2&page=2")
	expectStatus(t, r, 200)
	m := r.body["meta"].(map[string]any)
	links, _ := m["Link"].(map[string]any)
	if m["X-Total-Pages"] != "3" || m["X-Total-Count"] != "6" || m["X-Per-Page"] != "2" ||
		!slices.Equal(keysOf(links), []string{"first", "last", "next", "prev"}) {
		t.Fatalf("meta %v", m)
	}
	for rel, page := range map[string]string{"first": "1", "prev": "1", "next": "3", "last": "3"} {
		u, err := url.Parse(links[rel].(string))
		if err != nil || u.Query().Get("page") != page || !strings.Contains(r.Header.Get("Link"), links[rel].(string)) {
			t.Errorf("meta Link %s = %v, header %s", rel, links[rel], r.Header.Get("Link"))
		}
	}
	// With updated_since, deleted_ids comes beside them.
	m = get(t, s, "clients?updated_since=2000-01-01T00:00:00Z").body["meta"].(map[string]any)
	if m["deleted_ids"] == nil || m["X-Total-Count"] != "6" {
		t.Errorf("meta with updated_since %v", m)
	}
}

// A 201 carries the recorded Link (rel="first", the record's attributes
// as a Rails query) and X-Per-Page, and their meta copy; no totals.
func TestCreatedCarriesLinkAndPerPage(t *testing.T) {
	t.Parallel()
	s := NewServer()
	defer s.Close()
	r := call(t, s, "POST", "hosts", s.Token(), wrap("hosts", map[string]any{"firstname": "John", "lastname": "Doe", "email": "j@example.com"}))
	expectStatus(t, r, 201)
	want := s.APIURL() + "hosts?" + url.Values{"hosts[][firstname]": {"John"}, "hosts[][lastname]": {"Doe"},
		"hosts[][email]": {"j@example.com"}, "page": {"1"}}.Encode()
	if got := r.Header.Get("Link"); got != "<"+want+`>; rel="first"` {
		t.Errorf("Link %s, want %s", got, want)
	}
	if r.Header.Get("X-Per-Page") != "100" || r.Header.Get("X-Total-Pages") != "" || r.Header.Get("X-Total-Count") != "" {
		t.Errorf("headers %v", r.Header)
	}
	m := r.body["meta"].(map[string]any)
	if m["Link"].(map[string]any)["first"] != want || m["X-Per-Page"] != "100" || m["X-Total-Pages"] != nil || m["X-Total-Count"] != nil {
		t.Errorf("meta %v", m)
	}
	if _, ok := m["X-Total-Count"]; !ok {
		t.Error("meta's totals are null, not absent")
	}
}

func TestRentalSideloadsTheCalendars(t *testing.T) {
	t.Parallel()
	clk := newClock()
	s := NewServer(WithClock(clk.Now))
	defer s.Close()
	plain := get(t, s, "rentals/16").objects(t, "rentals")[0]
	if plain["availability"] != nil || plain["price_kind"] != "weekly" || plain["links"].(map[string]any)["availability"] != float64(16) {
		t.Errorf("rental without include: %v", plain)
	}
	r := get(t, s, "rentals/16?include=availability,change_over").objects(t, "rentals")[0]
	av, co := r["availability"].(map[string]any), r["change_over"].(map[string]any)
	if av["start_date"] != "2024-05-01" || len(av["map"].(string)) != 1096 || len(co["map"].(string)) != 1096 {
		t.Fatalf("calendars %v %v", av["start_date"], co["start_date"])
	}
	// Booking 80 stays 5 nights from day 14 after the start (May 10).
	day := 9 + 14 // index of May 24 from May 1
	if got := av["map"].(string)[day-1 : day+6]; got != "0111110" {
		t.Errorf("availability around the stay %q", got)
	}
	if got := co["map"].(string)[day-1 : day+6]; got != "CIXXXXO" {
		t.Errorf("change-over around the stay %q", got)
	}
	// Without rentals_read: published rentals only, no private attributes.
	pub := call(t, s, "GET", "rentals", s.IssueToken(), nil).objects(t, "rentals")
	if len(pub) != 2 || pub[0]["address1"] != nil || pub[0]["owner_email"] != nil || pub[0]["price_kind"] == nil {
		t.Errorf("public rentals %v", pub)
	}
}

func TestRentalsSearch(t *testing.T) {
	t.Parallel()
	clk := newClock()
	s := NewServer(WithClock(clk.Now))
	defer s.Close()
	search := func(method, query string) []int64 {
		t.Helper()
		r := call(t, s, method, "rentals/search?"+query, s.Token(), nil)
		expectStatus(t, r, 200)
		return idsOf(r.objects(t, "rentals"))
	}
	if got := search("GET", ""); !slices.Equal(got, []int64{16, 17, 18}) {
		t.Errorf("all %v", got)
	}
	// Booking 80 holds rental 16 from May 24 to 29; 81 holds 17 from May 31.
	if got := search("GET", "start_at=20240525&end_at=20240527"); !slices.Equal(got, []int64{17, 18}) {
		t.Errorf("during booking 80: %v", got)
	}
	if got := search("POST", "start_at=2024-05-01T16:00:00Z&end_at=2024-05-04T10:00:00Z&city=biarritz"); !slices.Equal(got, []int64{16}) {
		t.Errorf("Biarritz in early May: %v", got)
	}
	if got := search("GET", "rental_id=17,18&guests=9"); len(got) != 0 {
		t.Errorf("nine guests: %v", got)
	}
	r := call(t, s, "GET", "rentals/search?start_at=20240501&end_at=20240508&rental_id=16", s.Token(), nil).objects(t, "rentals")[0]
	if r["final_price"] != "300.00" || r["currency"] != "EUR" || r["name"] != nil || r["price_details"] == nil {
		t.Errorf("a week's result %v", r)
	}
	expectStatus(t, call(t, s, "GET", "rentals/search?start_at=20240508&end_at=20240501", s.Token(), nil), 422)
	// The public scope searches published rentals, POST included.
	r2 := call(t, s, "POST", "rentals/search", s.IssueToken(), `{"city":"Porto"}`)
	expectStatus(t, r2, 200)
	if got := idsOf(r2.objects(t, "rentals")); len(got) != 0 {
		t.Errorf("unpublished rental 18 found publicly: %v", got)
	}
}

func TestAccountAndInquiryCarryTheDocumentedFields(t *testing.T) {
	t.Parallel()
	s := NewServer()
	defer s.Close()
	a := get(t, s, "accounts/1").objects(t, "accounts")[0]
	if a["demo"] != false || a["test"] != false || a["preferences"].(map[string]any)["bookings"] == nil {
		t.Errorf("account %v", a)
	}
	q := get(t, s, "inquiries/90").objects(t, "inquiries")[0]
	if l := q["links"].(map[string]any); l["conversation"] != float64(ClosedConversationID) || l["account"] != float64(1) {
		t.Errorf("inquiry links %v", l)
	}
}

func TestSidebarResources(t *testing.T) {
	t.Parallel()
	s := NewServer()
	defer s.Close()
	b := get(t, s, "bookings/80").objects(t, "bookings")[0]
	l := b["links"].(map[string]any)
	if !slices.Equal(l["payments"].([]any), []any{float64(PaymentID)}) || len(l["bookings_payments"].([]any)) != 1 ||
		b["paid_amount"] != "1350.0" || b["bookings_payments_count"] != float64(1) {
		t.Errorf("booking 80 %v %v", l, b["paid_amount"])
	}
	if l := get(t, s, "bookings/81").objects(t, "bookings")[0]["links"].(map[string]any); !slices.Equal(l["booking_comments"].([]any), []any{float64(BookingCommentID)}) {
		t.Errorf("booking 81 comments %v", l["booking_comments"])
	}
	p := get(t, s, "payments?order_id=none").objects(t, "payments")
	if len(p) != 0 {
		t.Errorf("order filter %v", p)
	}
	bp := get(t, s, "bookings_payments").objects(t, "bookings_payments")[0]
	if bp["amount_in_cents"] != float64(135000) || bp["links"].(map[string]any)["booking"] != float64(AirbnbBookingID) {
		t.Errorf("bookings payment %v", bp)
	}
	rv := get(t, s, "reviews/97").objects(t, "reviews")[0]
	reply := rv["links"].(map[string]any)["reply"].(string)
	rr := get(t, s, "review_replies/"+reply).objects(t, "review_replies")[0]
	if rr["id"] != reply || rr["message"] != "Thank you, Noah!" || rr["links"].(map[string]any)["guest_review"] != float64(ReviewID) {
		t.Errorf("reply %v", rr)
	}
	if rl := get(t, s, "rentals/17").objects(t, "rentals")[0]; !slices.Equal(rl["links"].(map[string]any)["reviews"].([]any), []any{float64(ReviewID)}) || rl["reviews_count"] != float64(1) {
		t.Errorf("rental 17 reviews %v", rl["links"])
	}
	expectStatus(t, get(t, s, "review_replies/12"), 404)

	// Scopes: payments need a payments scope, comments a bookings one;
	// reviews are public.
	pub := s.IssueToken("inbox_read")
	for path, want := range map[string]int{"payments": 403, "bookings_payments": 403, "booking_comments": 403, "reviews": 200, "review_replies": 200} {
		expectStatus(t, call(t, s, "GET", path, pub, nil), want)
	}
}

func TestBookingCommentWrites(t *testing.T) {
	t.Parallel()
	clk := newClock()
	s := NewServer(WithClock(clk.Now))
	defer s.Close()
	w := s.IssueToken("bookings_write")
	// booking_id beside the record, as the reference sends it.
	r := call(t, s, "POST", "booking_comments", w, map[string]any{"booking_id": 80, "booking_comments": []any{map[string]any{"content": "Late"}}})
	expectStatus(t, r, 201)
	bc := r.objects(t, "booking_comments")[0]
	id := jsonNum(bc["id"])
	if bc["editable"] != true || bc["links"].(map[string]any)["booking"] != float64(80) {
		t.Errorf("created %v", bc)
	}
	expectStatus(t, call(t, s, "POST", "booking_comments", w, wrap("booking_comments", map[string]any{"booking_id": 80, "content": ""})), 422)
	expectStatus(t, call(t, s, "POST", "booking_comments", w, wrap("booking_comments", map[string]any{"booking_id": 999, "content": "x"})), 422)
	expectStatus(t, call(t, s, "POST", "booking_comments", s.Token(), wrap("booking_comments", map[string]any{"booking_id": 80, "content": "x"})), 403)
	clk.Add(time.Minute)
	r = call(t, s, "PUT", "booking_comments/"+id, w, wrap("booking_comments", map[string]any{"content": "Very late", "visible_for_all_account_users": false}))
	expectStatus(t, r, 200)
	if bc := r.objects(t, "booking_comments")[0]; bc["content"] != "Very late" || bc["visible_for_all_account_users"] != false {
		t.Errorf("updated %v", bc)
	}
	since := clk.Now().Add(-time.Second).Format(time.RFC3339)
	d := call(t, s, "DELETE", "booking_comments/"+id, w, nil)
	expectStatus(t, d, http.StatusNoContent)
	if len(d.raw) != 0 {
		t.Errorf("204 body %q", d.raw)
	}
	expectStatus(t, call(t, s, "DELETE", "booking_comments/"+id, w, nil), 404)
	m := get(t, s, "booking_comments?updated_since="+since).body["meta"].(map[string]any)
	if !slices.Contains(m["deleted_ids"].([]any), any(bc["id"])) {
		t.Errorf("deleted_ids %v", m["deleted_ids"])
	}
	if l := get(t, s, "bookings/80").objects(t, "bookings")[0]["links"].(map[string]any); len(l["booking_comments"].([]any)) != 0 {
		t.Errorf("booking 80 comments after the delete %v", l["booking_comments"])
	}
}

func TestClientAndSourceWrites(t *testing.T) {
	t.Parallel()
	s := NewServer()
	defer s.Close()
	w := s.IssueToken("clients_write", "bookings_write")
	r := call(t, s, "POST", "clients", w, wrap("clients", map[string]any{"firstname": "Ana",
		"addresses": []any{map[string]any{"label": "home", "city": "Porto", "country_code": "PT"}}}))
	expectStatus(t, r, 201)
	g := r.objects(t, "clients")[0]
	if g["fullname"] != "Ana" || g["addresses"].([]any)[0].(map[string]any)["city"] != "Porto" {
		t.Errorf("created client %v", g)
	}
	for _, bad := range []map[string]any{{"company": "X"}, {"fullname": strings.Repeat("a", 151)},
		{"fullname": "A", "emails": []any{map[string]any{"label": "x"}}}, {"fullname": "A", "phones": "nope"}} {
		expectStatus(t, call(t, s, "POST", "clients", w, wrap("clients", bad)), 422)
	}
	expectStatus(t, call(t, s, "POST", "clients", s.Token(), wrap("clients", map[string]any{"fullname": "A"})), 403)
	r = call(t, s, "PUT", "clients/37", w, wrap("clients", map[string]any{"fullname": "Emma D."}))
	expectStatus(t, r, 200)
	if g := r.objects(t, "clients")[0]; g["fullname"] != "Emma D." || g["firstname"] != "Emma" {
		t.Errorf("updated client %v", g)
	}

	r = call(t, s, "POST", "sources", w, wrap("sources", map[string]any{"name": "Mine", "position": 1}))
	expectStatus(t, r, 201)
	if src := r.objects(t, "sources")[0]; src["position"] != float64(1) {
		t.Errorf("source %v", src)
	}
	expectStatus(t, call(t, s, "POST", "sources", w, wrap("sources", map[string]any{"name": ""})), 422)
	expectStatus(t, call(t, s, "PUT", "sources/1", w, wrap("sources", map[string]any{"name": "Airbnb (old)"})), 200)
	expectStatus(t, call(t, s, "PUT", "sources/1", s.Token(), wrap("sources", map[string]any{"name": "x"})), 403)
}
