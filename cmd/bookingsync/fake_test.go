package main

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/go-bookingsync/bookingsync/bookingsynctest"
)

// What a browser test of an inbox needs from the standalone fake: two
// accounts to sign in as, picked on its sign-in page. (That a guest's
// message POSTed to it reaches --webhook-url, e2e/ shows with the fake's
// binary built without the race detector: under it, the fake's Close
// racing a delivery started by a request is reported.)
func TestFakeSignInPage(t *testing.T) {
	t.Parallel()
	p, base, _ := startFakeProc(t, "--accounts", "2")
	var second int64
	var token string
	if _, err := fmt.Sscanf(line(t, p.stdout), "account %d token %s", &second, &token); err != nil || second != 2 {
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
}
