package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/go-bookingsync/bookingsync/bookingsynctest"
)

var fakeCommand = &command{
	name:    "fake",
	args:    "[--addr host:port] [flags]",
	summary: "Serve the in-memory BookingSync API, for tests in any language",
	help: `Serves bookingsynctest until interrupted. The first line on stdout is
'listening on http://host:port' (the site root: the API is under /api/v3/,
OAuth under /oauth/), the second 'token <access token>', a token valid for
the seeded account with every scope. Its /oauth/authorize approves at once
as the account its account_id parameter names, or as the only account;
with several accounts (--accounts) it shows a page with one button per
account, so that a browser can sign in as any of them. With --webhook-url
every account delivers signed webhooks there on API writes: a message
POSTed to /api/v3/inbox/messages reaches that URL as inbox_message_created.`,
	run: runFake,
}

// faultFlags collects repeated --fault specs.
type faultFlags []bookingsynctest.Fault

func (f *faultFlags) String() string { return fmt.Sprint(len(*f), " faults") }

func (f *faultFlags) Set(spec string) error {
	ft, err := bookingsynctest.ParseFault(spec) // the fake's one text form of a fault
	if err != nil {
		return err
	}
	*f = append(*f, ft)
	return nil
}

func runFake(ctx context.Context, c *cli, cmd *command, args []string) error {
	fs := flags(cmd)
	addr := fs.String("addr", "127.0.0.1:0", "listen address; port 0 picks a free port")
	token := fs.String("token", "", "the access token to accept (default: a random one, printed on the second line)")
	seed := fs.Bool("seed", true, "seed the account with hosts, bookings and conversations (false: an empty account)")
	latency := durationFlag(fs, "latency", 0, "a `duration` added to every API response")
	jitter := durationFlag(fs, "latency-jitter", 0, "random extra delay in [0, `duration`) added to every API response")
	accounts := fs.Int("accounts", 1, "installed accounts; each after the first prints 'account <id> token <token>' (every scope, living --token-lifetime)")
	convs := fs.Int("conversations", 0, "generate this many more conversations in every account, each with its guest")
	msgs := fs.Int("messages", 0, "and this many guest messages spread over them")
	tokenTTL := durationFlag(fs, "token-lifetime", bookingsynctest.TokenLifetime, "the `duration` the access tokens OAuth issues live")
	webhookURL := fs.String("webhook-url", "", "deliver signed webhooks here on writes (conversations, messages, bookings)")
	rateLimit := fs.Int("rate-limit", 1000, "API requests allowed per hour")
	var caps pageCaps
	fs.Var(&caps, "page-cap", "the largest page, repeatable: N for every resource, or RESOURCE=N for one (rentals=50); default the live API's, rentals 50 and the rest 100")
	convDelay := durationFlag(fs, "conversation-delay", 2*time.Second, "the `duration` after start when the seeded delayed Booking.com conversation appears")
	clientID := fs.String("client-id", bookingsynctest.DefaultClientID, "OAuth client id of the fake's application")
	clientSecret := fs.String("client-secret", bookingsynctest.DefaultClientSecret, "OAuth client secret (and default webhook secret)")
	redirectURI := fs.String("redirect-uri", bookingsynctest.DefaultRedirectURI, "the application's registered OAuth redirect URI")
	webhookSecret := fs.String("webhook-secret", "", "key signing webhooks (default: the client secret)")
	var faults faultFlags
	kinds := bookingsynctest.FaultKindNames()
	fs.Var(&faults, "fault", "make requests misbehave, repeatable: KIND[,method=M][,path=P][,account=ID][,rate=0.1][,count=N][,status=S][,retry-after=D][,reset=R][,delay=D]; KIND is "+
		strings.Join(kinds[:len(kinds)-1], ", ")+" or "+kinds[len(kinds)-1])
	if _, err := c.parse(cmd, fs, args, 0, 0); err != nil {
		return err
	}
	if *token == "" {
		*token = randomHex(32)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("fake: %w", err)
	}
	if host, _, _ := net.SplitHostPort(ln.Addr().String()); !net.ParseIP(host).IsLoopback() {
		fmt.Fprintf(c.stderr, "bookingsync: warning: the fake listens on %s, beyond this machine; its OAuth secrets are public\n", ln.Addr())
	}
	opts := []bookingsynctest.Option{
		bookingsynctest.WithListener(ln),
		// Nothing reads the request log here, and a fake serving a long
		// test suite would only grow it.
		bookingsynctest.WithoutRequestLog(),
		bookingsynctest.WithToken(*token),
		bookingsynctest.WithScopes(bookingsynctest.KnownScopes...),
		bookingsynctest.WithLatency(*latency),
		bookingsynctest.WithLatencyJitter(*jitter),
		bookingsynctest.WithSeedSize(*convs, *msgs),
		bookingsynctest.WithTokenLifetime(*tokenTTL),
		bookingsynctest.WithFaults(faults...),
		bookingsynctest.WithRateLimit(*rateLimit),
		bookingsynctest.WithConversationDelay(*convDelay),
		bookingsynctest.WithOAuthClient(*clientID, *clientSecret, *redirectURI),
	}
	opts = append(opts, caps...)
	if !*seed {
		opts = append(opts, bookingsynctest.WithoutSeed())
	}
	if *webhookURL != "" {
		opts = append(opts, bookingsynctest.WithWebhookURL(*webhookURL))
	}
	if setFlag(fs, "webhook-secret") {
		opts = append(opts, bookingsynctest.WithWebhookSecret(*webhookSecret))
	}
	srv := bookingsynctest.NewServer(opts...)
	defer srv.Close()
	for i := 1; i < *accounts; i++ {
		srv.AddAccount(bookingsynctest.AccountSeed{Empty: !*seed, Scopes: bookingsynctest.KnownScopes})
	}
	// The contract with other languages' test suites: these two lines,
	// first, in this order; then one line per further account.
	fmt.Fprintf(c.stdout, "listening on %s\n", srv.URL)
	fmt.Fprintf(c.stdout, "token %s\n", srv.Token())
	for _, a := range srv.Accounts()[1:] {
		fmt.Fprintf(c.stdout, "account %d token %s\n", a.ID(), a.Token())
	}
	<-ctx.Done()
	return nil
}

// pageCaps collects repeated --page-cap values: N (every resource) or
// RESOURCE=N (one).
type pageCaps []bookingsynctest.Option

func (p *pageCaps) String() string { return fmt.Sprint(len(*p), " page caps") }

func (p *pageCaps) Set(v string) error {
	name, num, one := strings.Cut(v, "=")
	if !one {
		num = name
	}
	n, err := strconv.Atoi(num)
	if err != nil || n < 1 || (one && name == "") {
		return errors.New("want N or RESOURCE=N, N a positive number (rentals=50)")
	}
	if one {
		*p = append(*p, bookingsynctest.WithPageCap(name, n))
	} else {
		*p = append(*p, bookingsynctest.WithPageSizeCap(n))
	}
	return nil
}

// setFlag reports whether the command line set the flag name.
func setFlag(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
