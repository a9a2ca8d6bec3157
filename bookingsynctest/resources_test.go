package bookingsynctest

import (
	"encoding/base64"
	"net/http"
	"slices"
	"strings"
	"testing"
)

func TestRecordedBehaviours(t *testing.T) {
	t.Parallel()
	s := NewServer()
	defer s.Close()
	tok := s.Token()
	// The synced-at header on every response: POST, PUT, 404, 401.
	rs := []result{
		call(t, s, "POST", "hosts", tok, wrap("hosts", map[string]any{"firstname": "A", "lastname": "B"})),
		call(t, s, "PUT", "inbox/messages/1", tok, wrap("messages", map[string]any{"content": "Edited"})),
		get(t, s, "hosts/999"), call(t, s, "GET", "hosts", "nope", nil), get(t, s, "hosts"),
	}
	for _, r := range rs {
		if r.Header.Get("X-Updated-Since-Request-Synced-At") == "" {
			t.Errorf("%s %s %d: no synced-at", r.Request.Method, r.Request.URL.Path, r.StatusCode)
		}
	}
	if m := rs[1].objects(t, "messages")[0]; m["content"] != "Edited" {
		t.Errorf("PUT content: %v", m["content"])
	}
	// Bare Base64, wrapped as Ruby writes it.
	png := "iVBORw0KGgoAAAANSUhEUgAAAAIAAAADCAYAAAC56t6BAAAAEUlEQVR4nGP4z8DwH4QZMBgAoXkL9U3EmgcAAAAASUVORK5CYII="
	wrapped := png[:60] + "\n" + png[60:] + "\n"
	r := call(t, s, "POST", "inbox/attachments", tok, wrap("attachments", map[string]any{"name": "a.png", "file": wrapped}))
	expectStatus(t, r, 201)
	if a := r.objects(t, "attachments")[0]; a["file_content_type"] != "image/png" || a["image_width"] != float64(2) {
		t.Errorf("bare base64 attachment %v", a)
	}
	if _, err := base64.StdEncoding.DecodeString(png); err != nil {
		t.Fatal(err)
	}
	// public is implicit; without bookings_read the booking has no
	// conversations link at all.
	inbox := s.IssueToken("inbox_read")
	expectStatus(t, call(t, s, "GET", "me", inbox, nil), 200)
	for _, tk := range []string{inbox, s.IssueToken("bookings_write")} {
		b := call(t, s, "GET", "bookings/80", tk, nil).objects(t, "bookings")[0]
		if _, ok := b["links"].(map[string]any)["conversations"]; ok {
			t.Errorf("reduced booking has a conversations link: %v", b["links"])
		}
	}
	full := get(t, s, "bookings/80").objects(t, "bookings")[0]
	if l := full["links"].(map[string]any)["conversations"]; !slices.Equal(l.([]any), []any{float64(11)}) {
		t.Errorf("full booking conversations %v", l)
	}
	if full["locked"] != "doorkeeper/application-65" {
		t.Errorf("locked %v", full["locked"])
	}
}

func TestResourcesAroundInbox(t *testing.T) {
	t.Parallel()
	s := NewServer()
	defer s.Close()
	// Client participant -> client, booking -> client and rental.
	p := get(t, s, "inbox/participants/1").objects(t, "participants")[0]
	member := p["links"].(map[string]any)["member"].(map[string]any)
	b := get(t, s, "bookings/80").objects(t, "bookings")[0]["links"].(map[string]any)
	if member["id"] != b["client"] || member["id"] != float64(AirbnbClientID) {
		t.Fatalf("participant member %v, booking client %v", member, b["client"])
	}
	c := get(t, s, "clients/37").objects(t, "clients")[0]
	emails := c["emails"].([]any)
	if c["fullname"] != "Emma Dubois" || len(emails) != 1 || emails[0].(map[string]any)["email"] == nil || c["addresses"] == nil {
		t.Errorf("client %v", c)
	}
	if got := idsOf(get(t, s, "clients/38,37,999?fields=fullname").objects(t, "clients")); !slices.Equal(got, []int64{37, 38}) {
		t.Errorf("GetMany clients %v", got)
	}
	if c := get(t, s, "clients/37?fields=fullname").objects(t, "clients")[0]; len(c) != 3 {
		t.Errorf("fields: %v", c)
	}
	r := get(t, s, "rentals/16").objects(t, "rentals")[0]
	if r["name"] != "Ocean View Loft" || r["address1"] == nil || b["rental"] != float64(OceanViewRentalID) {
		t.Errorf("rental %v", r)
	}
	if got := idsOf(get(t, s, "sources").objects(t, "sources")); !slices.Equal(got, []int64{1, 2}) {
		t.Errorf("sources %v", got)
	}
	conv := get(t, s, "inbox/conversations/13").objects(t, "conversations")[0]
	if l := conv["links"].(map[string]any)["inquiries"]; !slices.Equal(l.([]any), []any{float64(InquiryID)}) {
		t.Errorf("conversation inquiries %v", l)
	}
	if q := get(t, s, "inquiries/90").objects(t, "inquiries")[0]; q["firstname"] != "Liam" {
		t.Errorf("inquiry %v", q)
	}
	acct := get(t, s, "accounts/1").objects(t, "accounts")[0]
	if acct["business_name"] == nil || acct["inbox_email"] == nil {
		t.Errorf("account %v", acct)
	}
	// updated_since and deleted_ids on the new resources too.
	s.Delete("clients", 42)
	if d := get(t, s, "clients?updated_since=2000-01-01").body["meta"].(map[string]any)["deleted_ids"].([]any); !slices.Equal(d, []any{float64(42)}) {
		t.Errorf("deleted clients %v", d)
	}

	// Scopes: clients and inquiries need theirs; rentals are public when
	// published, without their private attributes.
	pub := s.IssueToken("inbox_read")
	expectStatus(t, call(t, s, "GET", "clients", pub, nil), http.StatusForbidden)
	expectStatus(t, call(t, s, "GET", "inquiries/90", pub, nil), http.StatusForbidden)
	expectStatus(t, call(t, s, "GET", "sources", pub, nil), http.StatusForbidden)
	rl := call(t, s, "GET", "rentals", pub, nil)
	if got := idsOf(rl.objects(t, "rentals")); !slices.Equal(got, []int64{16, 17}) {
		t.Errorf("public rentals %v", got)
	}
	if _, ok := rl.objects(t, "rentals")[0]["address1"]; ok {
		t.Error("public rental shows address1")
	}
	expectStatus(t, call(t, s, "GET", "rentals/18", pub, nil), http.StatusNotFound)
	expectStatus(t, get(t, s, "rentals/18"), http.StatusOK)
	if a := call(t, s, "GET", "accounts", s.IssueToken(), nil).objects(t, "accounts")[0]; a["inbox_email"] != nil {
		t.Error("inbox_email without an Inbox scope")
	}
	// Builders.
	gid := s.AddClient(ClientSeed{Firstname: "Ana", Lastname: "Lima", Email: "ana@example.com"})
	cid, pid := s.AddConversationWithClient(ConversationSeed{Subject: "Hi", ClientID: gid})
	if pp := get(t, s, "inbox/participants/"+jsonNum(pid)).objects(t, "participants")[0]; pp["links"].(map[string]any)["conversation"] != float64(cid) {
		t.Errorf("participant %v", pp)
	}
	if _, pid2 := s.AddConversationWithClient(ConversationSeed{}); pid2 == 0 {
		t.Error("no Client participant created")
	}
	rid := s.AddRental(RentalSeed{Name: "Chalet"})
	if q := s.AddInquiry(InquirySeed{RentalID: rid, Firstname: "Z", ConversationID: cid}); !strings.Contains(get(t, s, "inbox/conversations/"+jsonNum(cid)).String(), jsonNum(q)) {
		t.Error("inquiry not linked")
	}
	if s.AddSource("Vrbo") == 0 {
		t.Error("AddSource")
	}
}

func (r result) String() string { return string(r.raw) }

// TestResourceAttributes: every attribute the API reference
// lists for the resources around the Inbox is present.
func TestResourceAttributes(t *testing.T) {
	t.Parallel()
	s := NewServer()
	defer s.Close()
	for path, keys := range map[string][]string{
		"clients/37": {"links", "id", "fullname", "firstname", "lastname", "company", "notes", "passport", "preferred_locale",
			"vat_number", "emails", "phones", "addresses", "created_at", "updated_at", "forget_me_at", "processing_restricted_at"},
		"rentals/16": {"links", "id", "name", "headline", "summary", "description", "address1", "address2", "city", "zip", "state",
			"country_code", "checkin_time", "checkout_time", "sleeps", "bedrooms_count", "currency", "published_at", "created_at", "updated_at"},
		"accounts/1": {"id", "business_name", "email", "status", "default_locale", "inbox_email", "created_at", "updated_at"},
		"sources/1":  {"links", "id", "name", "position", "created_at", "updated_at"},
		"inquiries/90": {"links", "id", "firstname", "lastname", "email", "country_code", "phone", "start_at", "end_at", "adults",
			"children", "message", "locked", "created_at", "updated_at"},
		"me": {"links", "partnership_invoice_recipient"},
	} {
		key := strings.SplitN(path, "/", 2)[0]
		if key == "me" {
			key = "accounts_applications"
		}
		o := get(t, s, path).objects(t, key)[0]
		for _, k := range keys {
			if _, ok := o[k]; !ok {
				t.Errorf("%s lacks %s", path, k)
			}
		}
	}
}
