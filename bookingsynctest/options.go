package bookingsynctest

import (
	"net"
	"time"
)

// config is what the options set; NewServer documents the defaults.
type config struct {
	token         string
	scopes        []string
	rateLimit     int
	clock         func() time.Time
	latency       time.Duration
	jitter        time.Duration
	seed          bool
	seedConvs     int
	seedMsgs      int
	accounts      int
	clientID      string
	clientSecret  string
	redirectURI   string
	webhookSecret *string
	webhookURL    string
	pageCap       int            // every resource's page cap; 0: each its own default
	pageCaps      map[string]int // WithPageCap, by plural
	convDelay     time.Duration
	tokenTTL      time.Duration
	noLog         bool
	faults        []Fault
	listener      net.Listener
}

// Option configures a Server. Each option below is also what the
// standalone server (`bookingsync fake`) exposes as a flag; see the
// package documentation.
type Option func(*config)

// WithToken sets the static access token of the default account (it never
// expires). Default DefaultToken.
func WithToken(tok string) Option { return func(c *config) { c.token = tok } }

// WithScopes sets the scopes granted to the static access token ("public"
// is always added, as the real API does). Default DefaultScopes.
func WithScopes(scopes ...string) Option {
	return func(c *config) { c.scopes = append([]string(nil), scopes...) }
}

// WithRateLimit sets every account's budget of API requests per one-hour
// window (default 1000, as the real API). Each response states it in
// X-RateLimit-Limit, -Remaining and -Reset; past it the answer is 429.
func WithRateLimit(limit int) Option { return func(c *config) { c.rateLimit = limit } }

// WithClock injects the server's clock (default time.Now). Server.Advance
// moves the server's time forward from whatever clock is in use.
func WithClock(now func() time.Time) Option { return func(c *config) { c.clock = now } }

// WithLatency delays every API response by d (the request is not processed
// if its client gives up meanwhile).
func WithLatency(d time.Duration) Option { return func(c *config) { c.latency = d } }

// WithLatencyJitter adds a uniformly random extra delay in [0, d) to every
// API response, on top of WithLatency.
func WithLatencyJitter(d time.Duration) Option { return func(c *config) { c.jitter = d } }

// WithoutSeed starts the server with empty accounts (no applications
// either); WithSeedSize still generates its Inbox.
func WithoutSeed() Option { return func(c *config) { c.seed = false } }

// WithSeedSize adds to every account (WithoutSeed or not) a generated
// Inbox, as Account.GenerateInbox does: conversations conversations, each
// with its guest and Client participant, and messages guest messages
// spread evenly over them. It is fast enough for benchmarks: 10,000
// conversations and 50,000 messages take well under a second.
func WithSeedSize(conversations, messages int) Option {
	return func(c *config) { c.seedConvs, c.seedMsgs = conversations, messages }
}

// WithAccounts starts the server with n installed accounts (default 1):
// the default account AccountID and n-1 more added as by AddAccount, with
// the demo data unless WithoutSeed. Server.Accounts lists them with their
// tokens.
func WithAccounts(n int) Option { return func(c *config) { c.accounts = n } }

// WithOAuthClient registers the OAuth application the server knows.
// Default DefaultClientID, DefaultClientSecret, DefaultRedirectURI.
func WithOAuthClient(clientID, clientSecret, redirectURI string) Option {
	return func(c *config) { c.clientID, c.clientSecret, c.redirectURI = clientID, clientSecret, redirectURI }
}

// WithWebhookSecret sets the key used to sign webhooks (default: the OAuth
// client secret, as the real API does).
func WithWebhookSecret(secret string) Option {
	return func(c *config) { c.webhookSecret = &secret }
}

// WithWebhookURL makes every account deliver signed webhooks to url: on
// API writes and on the builder calls that add, touch or delete records,
// and on uninstall (see Account.SetWebhookURL).
func WithWebhookURL(url string) Option { return func(c *config) { c.webhookURL = url } }

// WithPageSizeCap sets the largest page of every resource, listings and
// id lists alike (default: each resource's own cap, see WithPageCap); a
// resource named by WithPageCap keeps the cap given there.
func WithPageSizeCap(n int) Option { return func(c *config) { c.pageCap = max(n, 1) } }

// WithPageCap sets the largest page of one resource, named by its plural
// as in the API ("rentals", "conversations"): the most records a page of
// its listing, or of an id-list answer (GET /rentals/1,2,3), holds,
// whatever per_page asks. The defaults are the recorded ones: rentals 50
// (a recording of GET /rentals/5116,5117 says X-Per-Page: 50), every other
// resource 100 (the reference's "100 seen"). That rentals' listing pages
// at 50 like its id lists, and that the other resources' id lists page at
// 100 like their listings, are guesses.
func WithPageCap(resource string, n int) Option {
	return func(c *config) {
		if c.pageCaps == nil {
			c.pageCaps = map[string]int{}
		}
		c.pageCaps[resource] = max(n, 1)
	}
}

// defaultPageCaps are the recorded page caps that are not defaultPageCap.
var defaultPageCaps = map[string]int{"rentals": 50}

// defaultPageCap is every other resource's page cap.
const defaultPageCap = 100

// capOf is the largest page of the resource plural.
func (c *config) capOf(plural string) int {
	if n, ok := c.pageCaps[plural]; ok {
		return n
	}
	if c.pageCap > 0 {
		return c.pageCap
	}
	if n, ok := defaultPageCaps[plural]; ok {
		return n
	}
	return defaultPageCap
}

// WithConversationDelay sets how long after the server starts the seeded
// delayed Booking.com conversation appears (default 2s).
func WithConversationDelay(d time.Duration) Option { return func(c *config) { c.convDelay = d } }

// WithTokenLifetime sets how long issued access tokens live, by the
// server's clock (default TokenLifetime, 7200 s as the real API). A short
// one makes tokens expire under load in tests of refreshing.
func WithTokenLifetime(d time.Duration) Option { return func(c *config) { c.tokenTTL = d } }

// WithoutRequestLog keeps no log of requests (Requests and RequestCount
// then see nothing; Account.RequestTotal still counts). For long
// simulations, where the log would only grow.
func WithoutRequestLog() Option { return func(c *config) { c.noLog = true } }

// WithFaults installs faults at start, as AddFault does.
func WithFaults(faults ...Fault) Option {
	return func(c *config) { c.faults = append(c.faults, faults...) }
}

// WithListener makes the server accept connections on l instead of a new
// loopback port (the bookingsync command's `fake --addr`). The server owns
// l from then on and closes it in Close.
func WithListener(l net.Listener) Option { return func(c *config) { c.listener = l } }
