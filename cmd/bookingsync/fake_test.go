package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/go-bookingsync/bookingsync/bookingsynctest"
)

// What a browser test of an inbox needs from the standalone fake: two
// accounts to sign in as, picked on the sign-in page, and a guest's
// message POSTed through the API delivered, signed, to the webhook URL as
// that account's inbox_message_created.
func TestFakeSignInPageAndWebhooks(t *testing.T) {
	t.Parallel()
	deliveries := make(chan []byte, 10)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if r.Header.Get("X-Content-Signature") != bookingsynctest.SignWebhook(b, bookingsynctest.DefaultClientSecret) {
			t.Errorf("delivery not signed with the client secret: %s", b)
		}
		deliveries <- b
	}))
	defer hook.Close()
	p, base, _ := startFakeProc(t, "--accounts", "2", "--webhook-url", hook.URL, "--conversation-delay", "0")
	var second int64
	var token2 string
	if _, err := fmt.Sscanf(line(t, p.stdout), "account %d token %s", &second, &token2); err != nil || second != 2 {
		t.Fatalf("third line: account %d, %v", second, err)
	}

	q := url.Values{"client_id": {bookingsynctest.DefaultClientID}, "redirect_uri": {bookingsynctest.DefaultRedirectURI},
		"response_type": {"code"}, "scope": {"inbox_read"}, "state": {"s"}}
	resp, err := http.Get(base + "/oauth/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, id := range []string{"1", "2"} {
		if !strings.Contains(string(page), `name="account_id" value="`+id+`"`) {
			t.Errorf("the sign-in page has no button for account %s:\n%s", id, page)
		}
	}

	// Account 2's copy of the seeded Airbnb conversation and its guest.
	const space = 10_000_000
	msg := fmt.Sprintf(`{"messages":[{"conversation_id":%d,"sender_id":%d,"content":"Is the pool heated?","origin":"airbnb_message","visibility":"all"}]}`,
		space+bookingsynctest.AirbnbConversationID, space+bookingsynctest.AirbnbClientParticipantID)
	req, _ := http.NewRequest(http.MethodPost, base+"/api/v3/inbox/messages", strings.NewReader(msg))
	req.Header.Set("Authorization", "Bearer "+token2)
	req.Header.Set("Content-Type", "application/vnd.api+json")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST /inbox/messages: %d", resp.StatusCode)
	}
	var d struct {
		AccountID int64  `json:"account_id"`
		Event     string `json:"event"`
	}
	if err := json.Unmarshal(<-deliveries, &d); err != nil || d.AccountID != 2 || d.Event != "inbox_message_created" {
		t.Fatalf("delivery: %+v %v", d, err)
	}
}
