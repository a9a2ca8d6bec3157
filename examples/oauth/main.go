// Command oauth connects a BookingSync account with the OAuth 2.0
// authorization code flow, keeps the token in a file and uses it, letting
// the SDK refresh it (BookingSync rotates refresh tokens: every refresh
// returns a new one and kills the old, so each must be saved).
//
// Without BOOKINGSYNC_CLIENT_ID it runs against an in-memory BookingSync
// server (bookingsynctest) whose authorization page approves at once; the
// program plays the browser itself, then expires the token to show a
// refresh. With an application's credentials it serves the flow on -addr
// and waits for you to open it in a browser; register
// http://<addr>/callback as the application's redirect URI:
//
//	go run ./examples/oauth                            # no account needed
//	BOOKINGSYNC_CLIENT_ID=... BOOKINGSYNC_CLIENT_SECRET=... go run ./examples/oauth
//
// With real credentials the token is kept in -store, by default
// bookingsync/token.json in the user's config directory (never the temp
// directory: it holds the account's only refresh token, and losing it
// means authorizing again); the program says where.
package main

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"time"

	"github.com/go-bookingsync/bookingsync"
	"github.com/go-bookingsync/bookingsync/bookingsynctest"
	"golang.org/x/oauth2"
)

// config is what main reads from the environment and the flags.
type config struct {
	clientID     string                  // BOOKINGSYNC_CLIENT_ID
	clientSecret string                  // BOOKINGSYNC_CLIENT_SECRET; never printed
	baseURL      string                  // BOOKINGSYNC_BASE_URL, default bookingsync.DefaultBaseURL
	demo         *bookingsynctest.Server // the in-memory server, without credentials

	ln      net.Listener  // serves the flow; the redirect URI is http://<ln>/callback
	store   string        // the token file
	account int64         // pre-selects this account on the authorization page; 0: the user picks
	wait    time.Duration // how long to wait for the browser
}

func main() {
	cfg := config{
		clientID:     os.Getenv("BOOKINGSYNC_CLIENT_ID"),
		clientSecret: os.Getenv("BOOKINGSYNC_CLIENT_SECRET"),
		baseURL:      cmp.Or(os.Getenv("BOOKINGSYNC_BASE_URL"), bookingsync.DefaultBaseURL),
	}
	addr := flag.String("addr", "127.0.0.1:8080", "listen address (with credentials)")
	flag.StringVar(&cfg.store, "store", "", "token file (default: bookingsync/token.json in the user config dir; without credentials, a temp file)")
	flag.Int64Var(&cfg.account, "account", 0, "account id to pre-select on the authorization page")
	flag.DurationVar(&cfg.wait, "wait", 5*time.Minute, "how long to wait for the browser")
	flag.Parse()

	if cfg.clientID == "" {
		*addr = "127.0.0.1:0" // any free port
	}
	var err error
	if cfg.ln, err = net.Listen("tcp", *addr); err != nil {
		fmt.Fprintln(os.Stderr, "oauth:", err)
		os.Exit(1)
	}
	if cfg.clientID == "" {
		// The in-memory server must know the redirect URI, which names
		// the port this program listens on: hence listening first.
		cfg.clientID, cfg.clientSecret = bookingsynctest.DefaultClientID, bookingsynctest.DefaultClientSecret
		cfg.demo = bookingsynctest.NewServer(bookingsynctest.WithOAuthClient(cfg.clientID, cfg.clientSecret, redirectURL(cfg.ln)))
		defer cfg.demo.Close()
	}
	if cfg.store, err = tokenPath(cfg.store, cfg.demo != nil); err != nil {
		fmt.Fprintln(os.Stderr, "oauth:", err)
		os.Exit(2)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Stdout, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "oauth:", err)
		os.Exit(1)
	}
}

// tokenPath is where the token is kept: -store if given; for the demo, a
// temp file (never a real account's file); else bookingsync/token.json in
// the user's config directory, created owner-only. A real account's token
// never goes to the temp directory, which the system may empty.
func tokenPath(store string, demo bool) (string, error) {
	switch {
	case store != "":
		return store, nil
	case demo:
		return filepath.Join(os.TempDir(), "bookingsynctest-token.json"), nil
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("no -store given and no user config directory (%v): pass -store FILE, a file that is kept and backed up", err)
	}
	dir = filepath.Join(dir, "bookingsync")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("creating %s: %w; pass -store FILE", dir, err)
	}
	return filepath.Join(dir, "token.json"), nil
}

func redirectURL(ln net.Listener) string { return "http://" + ln.Addr().String() + "/callback" }

func run(ctx context.Context, out io.Writer, cfg config) error {
	base := cfg.baseURL
	if cfg.demo != nil {
		fmt.Fprintln(out, "No BOOKINGSYNC_CLIENT_ID: running against the in-memory BookingSync server (bookingsynctest).")
		base = cfg.demo.URL
		cfg.account = cmp.Or(cfg.account, bookingsynctest.AccountID)
	} else {
		fmt.Fprintf(out, "Running against %s\n", base)
	}
	oc := &oauth2.Config{
		ClientID:     cfg.clientID,
		ClientSecret: cfg.clientSecret,
		RedirectURL:  redirectURL(cfg.ln),
		Scopes:       []string{bookingsync.ScopePublic, bookingsync.ScopeInboxRead},
		Endpoint:     bookingsync.Endpoint(base),
	}
	store := bookingsync.NewFileTokenStore(cfg.store)

	// 1. Connect the account: the browser goes to / and comes back to
	// /callback with a code, which becomes a token in the store.
	if err := authorize(ctx, out, cfg, oc, store); err != nil {
		return err
	}
	if fi, err := os.Stat(store.Path()); err == nil {
		fmt.Fprintf(out, "Token saved to %s (mode %v)\n", store.Path(), fi.Mode().Perm())
	}
	if cfg.demo == nil {
		fmt.Fprintln(out, "Keep that file: it holds the account's only refresh token (each refresh replaces it); without it the account must be authorized again.")
	}

	// 2. Use it, from now on in any run of the program: the stored token
	// source refreshes the token when it expires or the API rejects it,
	// and saves every new one before using it.
	ts := bookingsync.NewStoredTokenSource(ctx, oc, store)
	client, err := bookingsync.NewClient(bookingsync.WithTokenSource(ts), bookingsync.WithBaseURL(base))
	if err != nil {
		return err
	}
	if err := listConversations(ctx, out, client); err != nil {
		return err
	}
	if cfg.demo == nil {
		return nil
	}

	// 3. Against the in-memory server: expire every token it issued. The
	// next request is answered 401; the client asks the token source for
	// a new token, which refreshes, saves the new pair and resends.
	before, err := store.Load(ctx)
	if err != nil {
		return err
	}
	cfg.demo.ExpireTokens()
	fmt.Fprintln(out, "The server expired the access token.")
	if err := listConversations(ctx, out, client); err != nil {
		return err
	}
	after, err := store.Load(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "Refreshed: new refresh token saved: %v\n", after.RefreshToken != before.RefreshToken)
	return nil
}

// authorize runs the authorization code flow once.
func authorize(ctx context.Context, out io.Writer, cfg config, oc *oauth2.Config, store bookingsync.TokenStore) error {
	// state ties the callback to this flow (CSRF protection).
	state := rand.Text()
	var opts []oauth2.AuthCodeOption
	if cfg.account != 0 {
		opts = append(opts, bookingsync.AccountID(cfg.account))
	}
	done := make(chan error, 1)
	finish := func(err error) {
		select {
		case done <- err:
		default: // a later callback; the first one counts
		}
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, oc.AuthCodeURL(state, opts...), http.StatusFound)
	})
	mux.HandleFunc("GET /callback", func(w http.ResponseWriter, r *http.Request) {
		if subtle.ConstantTimeCompare([]byte(r.FormValue("state")), []byte(state)) != 1 {
			http.Error(w, "unknown state: start again at /", http.StatusBadRequest)
			return
		}
		if e := r.FormValue("error"); e != "" {
			http.Error(w, "authorization refused: "+e, http.StatusForbidden)
			finish(fmt.Errorf("authorization refused: %s", e))
			return
		}
		tok, err := oc.Exchange(r.Context(), r.FormValue("code"))
		if err == nil {
			// Save at once: the refresh token is the account's only way back.
			err = store.Save(r.Context(), tok)
		}
		if err != nil {
			http.Error(w, "could not connect the account", http.StatusBadGateway)
			finish(err)
			return
		}
		fmt.Fprintln(w, "BookingSync account connected; you can close this page.")
		finish(nil)
	})
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(cfg.ln)
	defer hs.Close()

	start := "http://" + cfg.ln.Addr().String() + "/"
	if cfg.demo != nil {
		fmt.Fprintln(out, "Playing the browser: GET", start)
		if err := browse(ctx, start); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(out, "Open %s in a browser to connect your account (waiting %s)\n", start, cfg.wait)
	}
	t := time.NewTimer(cfg.wait)
	defer t.Stop()
	select {
	case err := <-done:
		if err != nil {
			return err
		}
		fmt.Fprintln(out, "Account connected.")
		return nil
	case <-t.C:
		return errors.New("no authorization before -wait ran out")
	case <-ctx.Done():
		return ctx.Err()
	}
}

// browse does what the user's browser would: follow the redirects from the
// start page to the authorization page and back to the callback.
func browse(ctx context.Context, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("the flow ended with %s at %s", resp.Status, resp.Request.URL.Path)
	}
	return nil
}

func listConversations(ctx context.Context, out io.Writer, client *bookingsync.Client) error {
	convs, _, err := client.Conversations.List(ctx, &bookingsync.ConversationListOptions{ListOptions: bookingsync.ListOptions{PerPage: 3}})
	if err != nil {
		return err
	}
	for _, c := range convs {
		fmt.Fprintf(out, "  conversation %d: %s\n", c.ID, c.Subject)
	}
	return nil
}
