package bookingsync_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"os"

	"github.com/go-bookingsync/bookingsync"
	"golang.org/x/oauth2"
)

// The authorization code flow: send the user to BookingSync, exchange the
// code the callback receives, save the token, then let a StoredTokenSource
// refresh and persist it from then on.
func ExampleNewStoredTokenSource() {
	ctx := context.Background()
	cfg := &oauth2.Config{
		ClientID:     os.Getenv("BOOKINGSYNC_CLIENT_ID"),
		ClientSecret: os.Getenv("BOOKINGSYNC_CLIENT_SECRET"),
		RedirectURL:  "https://app.example.com/oauth/callback",
		Scopes:       []string{bookingsync.ScopePublic, bookingsync.ScopeInboxRead, bookingsync.ScopeInboxWrite},
		Endpoint:     bookingsync.Endpoint("https://www.bookingsync.com"),
	}
	store := bookingsync.NewFileTokenStore("/var/lib/app/bookingsync-token.json")

	// 1. Send the user to the authorization page (state protects against
	// CSRF: generate it per user and check it in the callback).
	http.HandleFunc("/oauth/start", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, cfg.AuthCodeURL("per-user-random-state", bookingsync.AccountID(1059638630)), http.StatusFound)
	})

	// 2. The callback exchanges the code and saves the token at once: its
	// refresh token is the account's only way back in.
	http.HandleFunc("/oauth/callback", func(w http.ResponseWriter, r *http.Request) {
		if r.FormValue("state") != "per-user-random-state" {
			http.Error(w, "bad state", http.StatusBadRequest)
			return
		}
		tok, err := cfg.Exchange(r.Context(), r.FormValue("code"))
		if err != nil {
			http.Error(w, "authorization failed", http.StatusBadGateway)
			return
		}
		if err := store.Save(r.Context(), tok); err != nil {
			http.Error(w, "could not store the token", http.StatusInternalServerError)
			return
		}
		fmt.Fprintln(w, "BookingSync connected")
	})

	// 3. Later, in any process: a token source that refreshes the rotating
	// refresh token and saves every new one before using it. Give it to
	// the Client (bookingsync.WithTokenSource) or to an oauth2.Transport.
	ts := bookingsync.NewStoredTokenSource(ctx, cfg, store,
		bookingsync.WithSaveErrorHandler(func(err error) {
			log.Printf("ALERT: new BookingSync token not saved: %v", err)
		}),
	)
	httpClient := &http.Client{Transport: &oauth2.Transport{Source: ts}}
	_ = httpClient
}

// The client credentials grant: one token for every account that
// authorized the application, public scope only, renewed automatically.
func ExampleClientCredentials() {
	ctx := context.Background()
	cc := bookingsync.ClientCredentials(
		os.Getenv("BOOKINGSYNC_CLIENT_ID"),
		os.Getenv("BOOKINGSYNC_CLIENT_SECRET"),
		"https://www.bookingsync.com",
	)
	httpClient := cc.Client(ctx) // or bookingsync.WithTokenSource(cc.TokenSource(ctx))
	_ = httpClient
}
