package main

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/go-bookingsync/bookingsync"
	"golang.org/x/oauth2"
)

var loginCommand = &command{
	name:    "login",
	args:    "[--redirect-uri URI] [--scope SCOPES] [--account ID] [--db DSN]",
	summary: "Log in through the browser and save the token",
	help: `Runs the OAuth 2.0 authorization-code flow of the application named by
BOOKINGSYNC_CLIENT_ID and BOOKINGSYNC_CLIENT_SECRET: it prints the
authorization URL (and opens it when a browser is at hand), receives the
answer on the redirect URI, a loopback address it listens on, checks its
state and exchanges the code. The token is saved, never printed: in the
token file the other commands read, or with --db in that database's store.
The redirect URI must be one the application registered.`,
	run: runLogin,
}

// defaultScopes are what the tool's commands use.
var defaultScopes = []string{
	bookingsync.ScopePublic, bookingsync.ScopeInboxRead, bookingsync.ScopeInboxWrite,
	bookingsync.ScopeBookingsRead, bookingsync.ScopeApplicationsRead,
	bookingsync.ScopeClientsRead, bookingsync.ScopeRentalsRead,
}

func runLogin(ctx context.Context, c *cli, cmd *command, args []string) error {
	fs := flags(cmd)
	redirect := fs.String("redirect-uri", "http://127.0.0.1:8976/callback", "the application's registered redirect URI, on a loopback address this command listens on")
	scope := fs.String("scope", strings.Join(defaultScopes, " "), "scopes to ask for, space separated")
	account := fs.Int64("account", 0, "pre-select this account on the authorization page")
	db := fs.String("db", "", "save the token in this inboxsync database instead of the token file")
	timeout := durationFlag(fs, "timeout", 5*time.Minute, "how long (a `duration`) to wait for the browser")
	noBrowser := fs.Bool("no-browser", false, "only print the URL")
	if _, err := c.parse(cmd, fs, args, 0, 0); err != nil {
		return err
	}
	cfg := c.oauthConfig(*redirect, strings.Fields(*scope))
	if cfg.ClientID == "" || cfg.ClientSecret == "" {
		return usageError("login: set BOOKINGSYNC_CLIENT_ID and BOOKINGSYNC_CLIENT_SECRET to your application's credentials")
	}
	ru, err := url.Parse(*redirect)
	if err != nil || ru.Scheme != "http" || !isLoopbackHost(ru.Hostname()) || ru.Port() == "" {
		return usageError("login: --redirect-uri must be http://<loopback address>:<port>/<path>, for example http://127.0.0.1:8976/callback")
	}
	finish, err := c.loginTarget(*db)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", ru.Host)
	if err != nil {
		return fmt.Errorf("login: listening for the redirect: %w", err)
	}
	state := randomHex(32)
	var opts []oauth2.AuthCodeOption
	if *account > 0 {
		opts = append(opts, bookingsync.AccountID(*account))
	}
	authURL := cfg.AuthCodeURL(state, opts...)

	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	codes := make(chan callbackResult, 1)
	srv := &http.Server{Handler: callbackHandler(ru.Host, ru.Path, state, codes, c), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer func() {
		// Shutdown, not Close: the browser's page is still being written.
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()

	fmt.Fprintf(c.stderr, "Open this URL in a browser to authorize the application:\n%s\n", authURL)
	if !*noBrowser && c.stderrTTY {
		openBrowser(authURL)
	}
	var res callbackResult
	select {
	case res = <-codes:
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return fmt.Errorf("login: no answer from the browser within %s", *timeout)
		}
		return ctx.Err()
	}
	if res.err != nil {
		return res.err
	}
	where, err := finish(ctx, cfg, res.code)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "logged in%s; token saved in %s\n", where.account, where.place)
	return nil
}

// finisher exchanges the code for a token and saves it; it says where, for
// the user.
type finisher func(ctx context.Context, cfg *oauth2.Config, code string) (saved, error)

// saved says where login put the token.
type saved struct {
	account string // " to account <id>", or "" when GET /me could not tell
	place   string // a file, or a database (without its password)
}

// loginTarget says how login will save the token: in the token file, or
// with a DSN in the inboxsync store. It fails before the browser is
// involved when the target cannot work.
func (c *cli) loginTarget(dsn string) (finisher, error) {
	if dsn != "" {
		return c.dbLogin(dsn)
	}
	path, err := c.tokenPath()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	return func(ctx context.Context, cfg *oauth2.Config, code string) (saved, error) {
		tok, err := cfg.Exchange(ctx, code)
		if err != nil {
			return saved{}, authError("login: exchanging the code: %v", scrubOAuthError(err))
		}
		// Saved before anything else: it holds the only live refresh token.
		if err := bookingsync.NewFileTokenStore(path).Save(ctx, tok); err != nil {
			return saved{}, fmt.Errorf("login: saving the token: %w", err)
		}
		return saved{account: c.whichAccount(ctx, tok.AccessToken), place: path}, nil
	}, nil
}

// whichAccount asks GET /me which account a new token acts for, for the
// message; a failure only leaves the account out, with a warning.
func (c *cli) whichAccount(ctx context.Context, accessToken string) string {
	cl, err := c.newClient(append(c.baseOptions(), bookingsync.WithToken(accessToken)))
	if err == nil {
		var me *bookingsync.Me
		if me, _, err = cl.Me(ctx); err == nil {
			return fmt.Sprintf(" to account %d", me.AccountID)
		}
	}
	fmt.Fprintf(c.stderr, "bookingsync: warning: GET /me: %s\n", oneLine(err.Error(), 300))
	return ""
}

// callbackResult is what the redirect brought: a code, or why not.
type callbackResult struct {
	code string
	err  error
}

// callbackHandler receives the authorization server's redirect. Only a
// request to the loopback host and port it listens on (host, the redirect
// URI's), carrying the state this run made, counts: a request naming
// another host (a web page's, through DNS rebinding) is answered 421, and
// anything else (a stale tab, a forged link) 400, and the wait goes on.
func callbackHandler(host, path, state string, out chan<- callbackResult, c *cli) http.Handler {
	if path == "" {
		path = "/"
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.EqualFold(r.Host, host) {
			fmt.Fprintln(c.stderr, "bookingsync: warning: ignored a request for another host than the redirect URI's")
			http.Error(w, "This server answers only "+host+".", http.StatusMisdirectedRequest)
			return
		}
		if r.URL.Path != path {
			http.NotFound(w, r)
			return
		}
		q := r.URL.Query()
		if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(state)) != 1 {
			fmt.Fprintln(c.stderr, "bookingsync: warning: ignored a redirect whose state is not this login's")
			http.Error(w, "This answer does not belong to the login in progress (state mismatch).", http.StatusBadRequest)
			return
		}
		var res callbackResult
		switch {
		case q.Get("error") != "":
			res.err = authError("login: the authorization was refused: %s", oneLine(q.Get("error")+" "+q.Get("error_description"), 200))
		case q.Get("code") == "":
			http.Error(w, "The answer carries no code.", http.StatusBadRequest)
			return
		default:
			res.code = q.Get("code")
		}
		select {
		case out <- res:
			if res.err != nil {
				fmt.Fprintln(w, "The authorization was refused. You may close this window.")
				return
			}
			fmt.Fprintln(w, "Logged in. You may close this window and return to the terminal.")
		default:
			http.Error(w, "This login is already answered.", http.StatusConflict)
		}
	})
}

// scrubOAuthError keeps an exchange failure's message short; x/oauth2's
// errors hold the token endpoint's response, which holds no secret of
// ours, but the request is never echoed.
func scrubOAuthError(err error) string {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		if re.ErrorCode != "" {
			return strings.TrimSpace(re.ErrorCode + " " + re.ErrorDescription)
		}
		if re.Response != nil {
			return re.Response.Status
		}
	}
	return oneLine(err.Error(), 200)
}

func isLoopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// openBrowser tries to open u; the URL is printed anyway.
func openBrowser(u string) {
	var cmd *exec.Cmd
	switch runtime.GOOS {
	case "darwin":
		cmd = exec.Command("open", u)
	case "windows":
		cmd = exec.Command("rundll32", "url.dll,FileProtocolHandler", u)
	default:
		cmd = exec.Command("xdg-open", u)
	}
	if cmd.Start() == nil {
		go func() { _ = cmd.Wait() }()
	}
}
