package bookingsynctest_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-bookingsync/bookingsync"
	"github.com/go-bookingsync/bookingsync/bookingsynctest"
)

// A test of your own code: seed a guest's conversation, let the code under
// test answer it through the SDK, then check what reached the server.
func Example() {
	srv := bookingsynctest.NewServer(bookingsynctest.WithoutSeed())
	defer srv.Close()

	host := srv.AddHost("Jan", "Kowalski", "jan@example.com")
	guest := srv.AddClient(bookingsynctest.ClientSeed{Firstname: "Emma", Lastname: "Dubois"})
	conv, guestParticipant := srv.AddConversationWithClient(bookingsynctest.ConversationSeed{
		Subject: "Late check-in", Channel: "airbnb", ClientID: guest})
	srv.AddMessage(bookingsynctest.MessageSeed{ConversationID: conv, SenderID: guestParticipant,
		Content: "Can we arrive at 11pm?", Origin: "airbnb_message", Channel: "airbnb"})

	// The code under test.
	ctx := context.Background()
	client, err := bookingsync.NewClient(bookingsync.WithBaseURL(srv.URL), bookingsync.WithToken(srv.Token()))
	if err != nil {
		panic(err)
	}
	reply, err := client.Messages.SendAsHost(ctx, conv, host, &bookingsync.NewMessage{Content: "Of course, the key is in the box."})
	if err != nil {
		panic(err)
	}

	fmt.Println("reply:", reply.Content)
	fmt.Println("messages sent:", srv.RequestCount(http.MethodPost, "inbox/messages"))
	// Output:
	// reply: Of course, the key is in the box.
	// messages sent: 1
}

// Time moves only when the test says so: Advance expires tokens and
// refills rate-limit windows as if the time had passed.
func ExampleServer_Advance() {
	srv := bookingsynctest.NewServer()
	defer srv.Close()
	token := srv.IssueToken("inbox_read") // lives two hours

	status := func() int {
		req, _ := http.NewRequest(http.MethodGet, srv.APIURL()+"inbox/conversations", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			panic(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	fmt.Println(status())
	srv.Advance(2 * time.Hour)
	fmt.Println(status())
	// Output:
	// 200
	// 401
}

// Many accounts: each has its own data, tokens and budget. Uninstalling
// the application revokes the account's tokens, and the client-credentials
// listing of accounts reports it in meta.deleted_ids.
func ExampleServer_AddAccount() {
	srv := bookingsynctest.NewServer()
	defer srv.Close()
	since := srv.Now().UTC().Format(time.RFC3339)
	second := srv.AddAccount(bookingsynctest.AccountSeed{BusinessName: "Villas du Sud"})

	get := func(token, path string) (int, string) {
		req, _ := http.NewRequest(http.MethodGet, srv.APIURL()+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			panic(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	status, _ := get(second.Token(), "me")
	fmt.Println("before:", status)
	second.Uninstall()
	status, _ = get(second.Token(), "me")
	fmt.Println("after:", status)

	_, body := get(srv.IssueClientCredentialsToken(), "accounts?updated_since="+url.QueryEscape(since))
	fmt.Println(strings.Contains(body, fmt.Sprintf(`"deleted_ids":[%d]`, second.ID())))
	// Output:
	// before: 200
	// after: 401
	// true
}
