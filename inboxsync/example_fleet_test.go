package inboxsync_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"

	"github.com/go-bookingsync/bookingsync"
	"github.com/go-bookingsync/bookingsync/bookingsynctest"
	"github.com/go-bookingsync/bookingsync/inboxsync"
	"golang.org/x/oauth2"
)

// Install an account from the OAuth callback, then act for it through the
// fleet's client: its token is refreshed under a lock every replica
// shares, and EnsureHost adds at most one Host participant whichever
// replicas call it at once. Run (not shown) syncs every installed account.
func ExampleNewFleet() {
	ctx := context.Background()
	srv := bookingsynctest.NewServer() // stands in for BookingSync
	defer srv.Close()
	dir, err := os.MkdirTemp("", "inboxsync-fleet")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	st, err := inboxsync.Open(ctx, "sqlite:"+filepath.Join(dir, "inbox.db")) // Postgres for replicas on several machines
	if err != nil {
		panic(err)
	}
	defer st.Close()

	cfg := &oauth2.Config{
		ClientID: bookingsynctest.DefaultClientID, ClientSecret: bookingsynctest.DefaultClientSecret,
		RedirectURL: bookingsynctest.DefaultRedirectURI, Scopes: []string{bookingsync.ScopeInboxWrite},
		Endpoint: bookingsync.Endpoint(srv.URL),
	}
	code := authorize(srv, cfg) // the user approved; the callback got ?code=…
	id, err := st.Install(ctx, cfg, code, bookingsync.WithBaseURL(srv.URL))
	if err != nil {
		panic(err)
	}
	fmt.Println("installed account", id)

	fleet, err := inboxsync.NewFleet(st, inboxsync.FleetConfig{
		OAuth:         cfg,
		ClientOptions: []bookingsync.Option{bookingsync.WithBaseURL(srv.URL)},
		WebhookSecret: cfg.ClientSecret,
	})
	if err != nil {
		panic(err)
	}
	c, err := fleet.Client(ctx, id)
	if err != nil {
		panic(err)
	}
	conv := srv.AddConversation(bookingsynctest.ConversationSeed{Subject: "Late arrival"})
	p, err := c.Participants.EnsureHost(ctx, conv, bookingsynctest.HostJanID)
	if err != nil {
		panic(err)
	}
	fmt.Println("host participant:", p.Links.Member.Type)
	// Output:
	// installed account 1
	// host participant: Host
}

// authorize plays the user's browser: it follows the authorization URL
// and returns the code the redirect carries.
func authorize(srv *bookingsynctest.Server, cfg *oauth2.Config) string {
	hc := srv.Client()
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := hc.Get(cfg.AuthCodeURL("state"))
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	loc, err := resp.Location()
	if err != nil {
		panic(err)
	}
	return loc.Query().Get("code")
}
