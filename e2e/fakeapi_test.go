package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// fakeAPI talks to the standalone fake as a channel (a guest writing)
// and as an observer (what arrived, what a request costs).
type fakeAPI struct {
	base   string
	tokens map[int64]string // account → a token of its own
}

// idSpace is how far apart the fake puts two accounts' ids.
const idSpace = 10_000_000

// seeded is the id in account of one of the seeded records (the ids of
// the first account, shifted).
func seeded(account, id int64) int64 { return (account-1)*idSpace + id }

// The fake's seeded records the scenario uses (bookingsynctest's
// constants; this module does not import the SDK).
const (
	airbnbConversation = 11 // open, guest Emma Dubois, Ocean View Loft
	airbnbGuest        = 1  // its Client participant
)

func (f *fakeAPI) do(t *testing.T, account int64, method, path, body string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, f.base+"/api/v3/"+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+f.tokens[account])
	if body != "" {
		req.Header.Set("Content-Type", "application/vnd.api+json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// remaining is the account's rate budget left, as the fake states it:
// every API request with the account's tokens, serve's included, takes
// one, and so does this look.
func (f *fakeAPI) remaining(t *testing.T, account int64) int {
	t.Helper()
	resp, _ := f.do(t, account, http.MethodGet, "me", "")
	n, err := strconv.Atoi(resp.Header.Get("X-RateLimit-Remaining"))
	if err != nil {
		t.Fatalf("GET /me: no X-RateLimit-Remaining (%d)", resp.StatusCode)
	}
	return n
}

// guestWrites posts a message from the guest of the account's seeded
// Airbnb conversation, as the channel would, and returns its id.
func (f *fakeAPI) guestWrites(t *testing.T, account int64, content string) int64 {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"messages": []any{map[string]any{
		"conversation_id": seeded(account, airbnbConversation), "sender_id": seeded(account, airbnbGuest),
		"content": content, "origin": "airbnb_message", "visibility": "all"}}})
	resp, b := f.do(t, account, http.MethodPost, "inbox/messages", string(body))
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST /inbox/messages: %d %s", resp.StatusCode, b)
	}
	var created struct {
		Messages []struct{ ID int64 } `json:"messages"`
	}
	if err := json.Unmarshal(b, &created); err != nil || len(created.Messages) != 1 {
		t.Fatalf("POST /inbox/messages answered %s", b)
	}
	return created.Messages[0].ID
}

// messageSent reports whether the account's conversation has a message
// with this content at the fake.
func (f *fakeAPI) messageSent(t *testing.T, account int64, content string) bool {
	t.Helper()
	resp, b := f.do(t, account, http.MethodGet, "inbox/messages?per_page=100", "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /inbox/messages: %d", resp.StatusCode)
	}
	var list struct {
		Messages []struct {
			Content string
			Links   struct{ Conversation int64 }
		} `json:"messages"`
	}
	if err := json.Unmarshal(b, &list); err != nil {
		t.Fatal(err)
	}
	for _, m := range list.Messages {
		if m.Content == content && m.Links.Conversation == seeded(account, airbnbConversation) {
			return true
		}
	}
	return false
}
