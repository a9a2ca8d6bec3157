package bookingsynctest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"
)

func TestManyAccounts(t *testing.T) {
	t.Parallel()
	clk := newClock()
	// The delayed conversation stays hidden: the clock moves a minute
	// below, and its announcement would reach the webhook receiver the
	// uninstall check counts on (when the announcer came after it).
	s := NewServer(WithClock(clk.Now), WithAccounts(2), WithTokenLifetime(time.Minute), WithConversationDelay(time.Hour))
	defer s.Close()
	accts := s.Accounts()
	if len(accts) != 2 || accts[0] != s.Account || accts[0].ID() != AccountID {
		t.Fatalf("accounts %v", accts)
	}
	b := accts[1]
	if !b.TokenExpiry().Equal(clk.Now().Add(time.Minute)) || !s.TokenExpiry().IsZero() {
		t.Errorf("token expiry %v %v", b.TokenExpiry(), s.TokenExpiry())
	}
	since := clk.Now().Add(-time.Second).UTC().Format(time.RFC3339)

	// Each account has its own data, ids never shared.
	bc := call(t, s, "GET", "inbox/conversations", b.Token(), nil).objects(t, "conversations")
	ac := get(t, s, "inbox/conversations").objects(t, "conversations")
	if len(bc) != len(ac) || idsOf(bc)[0] == idsOf(ac)[0] || bc[0]["links"].(map[string]any)["account"] != float64(b.ID()) {
		t.Fatalf("second account's conversations %v", idsOf(bc))
	}
	expectStatus(t, call(t, s, "GET", "inbox/conversations/11", b.Token(), nil), 404)
	me := call(t, s, "GET", "me", b.Token(), nil).objects(t, "accounts_applications")[0]
	if me["links"].(map[string]any)["account"] != float64(b.ID()) {
		t.Errorf("me %v", me)
	}
	if got := idsOf(call(t, s, "GET", "accounts", b.Token(), nil).objects(t, "accounts")); !slices.Equal(got, []int64{b.ID()}) {
		t.Errorf("a user token lists %v", got)
	}

	// Budgets are per account.
	b.SetRateLimit(5, 0)
	expectStatus(t, call(t, s, "GET", "hosts", b.Token(), nil), 429)
	expectStatus(t, get(t, s, "hosts"), 200)
	if b.Throttled() != 1 || s.Throttled() != 0 {
		t.Errorf("throttled %d %d", b.Throttled(), s.Throttled())
	}

	// Client credentials: every installed account.
	cc := s.IssueClientCredentialsToken()
	if got := idsOf(call(t, s, "GET", "accounts", cc, nil).objects(t, "accounts")); !slices.Equal(got, []int64{AccountID, b.ID()}) {
		t.Errorf("client credentials list %v", got)
	}
	expectStatus(t, call(t, s, "GET", "inbox/conversations", cc, nil), 403)
	expectStatus(t, call(t, s, "GET", "me", cc, nil), 403)

	// Refresh rotation, per account, counting spent tokens.
	b.SetRateLimit(1000, 1000)
	refresh := func(rt string) (int, map[string]any) {
		return tokenRequest(t, s, url.Values{"grant_type": {"refresh_token"}, "client_id": {DefaultClientID},
			"client_secret": {DefaultClientSecret}, "refresh_token": {rt}, "redirect_uri": {DefaultRedirectURI}})
	}
	clk.Add(time.Minute) // WithTokenLifetime: expired
	expectStatus(t, call(t, s, "GET", "hosts", b.Token(), nil), 401)
	st, tok := refresh(b.RefreshToken())
	if st != 200 || tok["expires_in"] != float64(60) {
		t.Fatalf("refresh %d %v", st, tok)
	}
	if st, body := refresh(b.RefreshToken()); st != 401 || body["error"] != "invalid_grant" {
		t.Errorf("spent refresh token: %d %v", st, body)
	}
	if b.RefreshCount() != 1 || b.SpentRefreshCount() != 1 || s.Account.RefreshCount() != 0 || s.RefreshCount() != 1 {
		t.Errorf("refresh counts %d %d %d", b.RefreshCount(), b.SpentRefreshCount(), s.RefreshCount())
	}
	fresh := tok["access_token"].(string)
	expectStatus(t, call(t, s, "GET", "hosts", fresh, nil), 200)
	if b.RequestTotal() < 5 || b.RequestCount("GET", "hosts") != 2 { // the 429 and the last one; the expired token's 401 is nobody's
		t.Errorf("requests of b: %d total, %d hosts", b.RequestTotal(), b.RequestCount("GET", "hosts"))
	}

	// Uninstall, with a webhook receiver.
	var mu sync.Mutex
	var got []map[string]any
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.Header.Get("X-Content-Signature") != SignWebhook(body, DefaultClientSecret) {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var m map[string]any
		_ = json.Unmarshal(body, &m)
		mu.Lock()
		got = append(got, m)
		mu.Unlock()
	}))
	defer hook.Close()
	b.SetWebhookURL(hook.URL)
	if !b.Uninstall() || b.Uninstall() || b.Installed() {
		t.Fatal("Uninstall")
	}
	s.FlushWebhooks()
	if len(got) != 1 || got[0]["event"] != "accounts_application_destroyed" || got[0]["account_id"] != float64(b.ID()) {
		t.Errorf("webhooks %v", got)
	}
	if d := b.WebhookDeliveries(); len(d) != 1 || d[0].Status != 200 {
		t.Errorf("deliveries %+v", d)
	}
	expectStatus(t, call(t, s, "GET", "hosts", fresh, nil), 401)
	cc = s.IssueClientCredentialsToken() // the first one expired with the clock
	if st, body := refresh(tok["refresh_token"].(string)); st != 401 || body["error"] != "invalid_grant" {
		t.Errorf("refresh after uninstall: %d %v", st, body)
	}
	if got := idsOf(call(t, s, "GET", "accounts", cc, nil).objects(t, "accounts")); !slices.Equal(got, []int64{AccountID}) {
		t.Errorf("after uninstall, listed %v", got)
	}
	r := call(t, s, "GET", "accounts?updated_since="+url.QueryEscape(since), cc, nil)
	if d := r.body["meta"].(map[string]any)["deleted_ids"].([]any); !slices.Equal(d, []any{float64(b.ID())}) {
		t.Errorf("deleted_ids %v", d)
	}
	access, _ := b.Reinstall("inbox_read")
	expectStatus(t, call(t, s, "GET", "inbox/conversations", access, nil), 200)
	if !b.Installed() {
		t.Error("Reinstall")
	}
}

func TestWebhooksOnWrites(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var events []string
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var m struct {
			Event     string                     `json:"event"`
			AccountID int64                      `json:"account_id"`
			Resource  map[string]json.RawMessage `json:"resource"`
		}
		if json.Unmarshal(body, &m) != nil || r.Header.Get("X-Content-Signature") != SignWebhook(body, "hook-secret") ||
			r.Header.Get("User-Agent") != "BookingSync Webhook Delivery" || m.AccountID != AccountID || m.Resource["links"] == nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		mu.Lock()
		events = append(events, m.Event)
		mu.Unlock()
	}))
	defer hook.Close()
	s := NewServer(WithWebhookURL(hook.URL), WithWebhookSecret("hook-secret"))
	defer s.Close()
	r := call(t, s, "POST", "inbox/messages", s.Token(), wrap("messages", map[string]any{"conversation_id": 11,
		"sender_id": AirbnbHostParticipantID, "content": "Hi", "origin": "bookingsync_inbox", "visibility": "external"}))
	expectStatus(t, r, 201)
	expectStatus(t, call(t, s, "PUT", "inbox/conversations/11", s.Token(), wrap("conversations", map[string]any{"closed": true})), 200)
	expectStatus(t, call(t, s, "POST", "hosts", s.Token(), wrap("hosts", map[string]any{"firstname": "A", "lastname": "B"})), 201)
	s.AddMessage(MessageSeed{ConversationID: 12, SenderID: BookingComClientParticipantID, Content: "Hello?"})
	s.FlushWebhooks()
	slices.Sort(events)
	if want := []string{"inbox_conversation_updated", "inbox_message_created", "inbox_message_created"}; !slices.Equal(events, want) {
		t.Errorf("events %v, want %v", events, want)
	}
	for _, d := range s.WebhookDeliveries() {
		if d.Status != 200 {
			t.Errorf("delivery %s answered %d %s", d.Event, d.Status, d.Err)
		}
	}
}

func TestGenerateInbox(t *testing.T) {
	t.Parallel()
	s := NewServer(WithoutSeed(), WithSeedSize(10000, 50000), WithRateLimit(1<<30))
	defer s.Close()
	for path, want := range map[string]string{"inbox/conversations": "10000", "inbox/messages": "50000", "inbox/participants": "10000", "clients": "10000"} {
		if r := get(t, s, path+"?per_page=1"); r.Header.Get("X-Total-Count") != want {
			t.Errorf("%s: %s records, want %s", path, r.Header.Get("X-Total-Count"), want)
		}
	}
	c := get(t, s, "inbox/conversations/1?include=participants").objects(t, "conversations")[0]
	p := c["participants"].([]any)[0].(map[string]any)
	member := p["links"].(map[string]any)["member"].(map[string]any)
	if len(c["links"].(map[string]any)["messages"].([]any)) != 5 || member["type"] != "Client" {
		t.Fatalf("generated conversation %v", c)
	}
	expectStatus(t, get(t, s, "clients/"+jsonNum(member["id"])), 200)
}

func jsonNum(v any) string { b, _ := json.Marshal(v); return string(b) }

func TestFaultPerAccount(t *testing.T) {
	t.Parallel()
	s := NewServer(WithAccounts(2))
	defer s.Close()
	b := s.Accounts()[1]
	s.AddFault(Fault{AccountID: b.ID(), Kind: FaultStatus, Status: 503})
	expectStatus(t, get(t, s, "hosts"), 200)
	expectStatus(t, call(t, s, "GET", "hosts", b.Token(), nil), 503)
	s.ClearFaults()
	s.AddFault(Fault{Kind: FaultStatus, Rate: 0.5})
	n := 0
	for i := 0; i < 200; i++ {
		if get(t, s, "hosts").StatusCode == 502 {
			n++
		}
	}
	if n == 0 || n == 200 {
		t.Errorf("Rate 0.5 faulted %d of 200", n)
	}
}

func TestClientCredentialsRentals(t *testing.T) {
	t.Parallel()
	s := NewServer(WithAccounts(3))
	defer s.Close()
	third := s.Accounts()[2]
	third.Uninstall()
	cc := s.IssueClientCredentialsToken()
	r := call(t, s, "GET", "rentals?per_page=3", cc, nil)
	expectStatus(t, r, 200)
	off := int64(accountIDSpace)
	if got := idsOf(r.objects(t, "rentals")); !slices.Equal(got, []int64{16, 17, off + 16}) || r.Header.Get("X-Total-Count") != "4" {
		t.Errorf("published rentals of the installed accounts: %v, total %s", got, r.Header.Get("X-Total-Count"))
	}
	if a := r.objects(t, "rentals")[2]["links"].(map[string]any)["account"]; a != float64(s.Accounts()[1].ID()) {
		t.Errorf("account link %v", a)
	}
	expectStatus(t, call(t, s, "GET", "rentals/"+jsonNum(off+17), cc, nil), 200)
	expectStatus(t, call(t, s, "GET", "rentals/18", cc, nil), 404)
}

func TestDelayedConversationIsAnnounced(t *testing.T) {
	t.Parallel()
	got := make(chan string, 4)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m struct {
			Event    string `json:"event"`
			Resource struct {
				Conversation struct {
					ID int64 `json:"id"`
				} `json:"conversation"`
			} `json:"resource"`
		}
		_ = json.NewDecoder(r.Body).Decode(&m)
		got <- m.Event + " " + jsonNum(m.Resource.Conversation.ID)
	}))
	defer hook.Close()
	clk := newClock()
	s := NewServer(WithClock(clk.Now), WithWebhookURL(hook.URL), WithConversationDelay(time.Minute))
	defer s.Close()
	s.Advance(30 * time.Second)
	s.FlushWebhooks()
	select {
	case e := <-got:
		t.Fatalf("announced before it appeared: %s", e)
	default:
	}
	s.Advance(30 * time.Second)
	s.FlushWebhooks()
	if e := <-got; e != "inbox_conversation_created 14" {
		t.Errorf("webhook %q", e)
	}
}
