package bookingsync

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
)

const (
	// DefaultBaseURL is the production site root; the API lives under
	// <root>/api/v3/ and OAuth under <root>/oauth/.
	DefaultBaseURL = "https://www.bookingsync.com"

	// DefaultUserAgent names the SDK in the User-Agent header. Unless
	// WithUserAgent says otherwise the client sends it with the module's
	// Version: "bookingsync-go/v0.1.0" ("bookingsync-go (devel)" in a
	// build that recorded no version).
	DefaultUserAgent = "bookingsync-go"

	// DefaultTimeout bounds a whole request (including reading the body)
	// when the caller brings no *http.Client.
	DefaultTimeout = 60 * time.Second

	// DefaultMaxResponseBytes bounds the body read from one response.
	DefaultMaxResponseBytes = 32 << 20

	mediaType = "application/vnd.api+json"
	apiPath   = "/api/v3/"
)

// Client talks to the BookingSync API v3. Build it with NewClient; it is
// safe for concurrent use by many goroutines.
//
// Every request, the services' and a caller's own through NewRequest and
// Do, takes the same path: the Inbox refusals, authentication, headers,
// rate-limit bookkeeping, logging and error decoding.
type Client struct {
	siteURL *url.URL // site root, no trailing slash
	apiURL  *url.URL // <root>/api/v3/

	hc        *http.Client
	ts        oauth2.TokenSource
	userAgent string
	logger    *slog.Logger
	maxBody   int64
	prefetch  int

	rateMu sync.Mutex
	rate   Rate

	reliability
	common service // the one value every service points at

	// State of the Inbox helpers: the application cache behind
	// Conversations.Origin, and the EnsureHost calls in flight.
	apps        appCache
	hostFlights flightGroup[hostKey, *Participant]
	senders     senderCache                               // member types of message senders (senders.go)
	hostsAdded  boundedMap[hostKey, *Participant]         // Host participants this client created
	hostLocker  func(conversationID, hostID int64) Locker // WithHostLocker
	rateShare   RateShare                                 // WithRateShare
	observers   []Observer                                // WithObserver (observer.go)

	// Conversations reads and updates Inbox conversations.
	Conversations *ConversationsService
	// Participants manages a conversation's participants (Hosts only).
	Participants *ParticipantsService
	// Messages reads and sends messages.
	Messages *MessagesService
	// Attachments uploads and reads message attachments.
	Attachments *AttachmentsService
	// Hosts manages the account's hosts (its users, as Inbox members).
	Hosts *HostsService
	// Bookings reads bookings and finds their conversations.
	Bookings *BookingsService
	// Applications reads applications, the creators of channel
	// conversations.
	Applications *ApplicationsService
	// Clients reads the travellers (guests), as Guest records.
	Clients *ClientsService
	// Rentals reads the account's rentals (properties).
	Rentals *RentalsService
	// Accounts reads the accounts the token may see.
	Accounts *AccountsService
	// Sources reads where bookings came from.
	Sources *SourcesService
	// Inquiries reads pre-booking requests.
	Inquiries *InquiriesService
	// BookingComments reads and writes the internal notes on bookings.
	BookingComments *BookingCommentsService
	// Payments reads the payments received for bookings.
	Payments *PaymentsService
	// BookingsPayments reads the shares of payments per booking.
	BookingsPayments *BookingsPaymentsService
	// Reviews reads the guests' reviews of their stays.
	Reviews *ReviewsService
	// ReviewReplies reads the hosts' replies to reviews.
	ReviewReplies *ReviewRepliesService
}

type service struct{ client *Client }

// ConversationsService handles Inbox conversations (/inbox/conversations).
type ConversationsService service

// ParticipantsService handles Inbox participants (/inbox/participants).
type ParticipantsService service

// MessagesService handles Inbox messages (/inbox/messages).
type MessagesService service

// AttachmentsService handles Inbox attachments (/inbox/attachments).
type AttachmentsService service

// HostsService handles hosts (/hosts).
type HostsService service

// BookingsService handles bookings (/bookings).
type BookingsService service

// ApplicationsService handles applications (/applications).
type ApplicationsService service

// ClientsService handles the travellers (/clients); its records are Guests.
type ClientsService service

// RentalsService handles rentals (/rentals).
type RentalsService service

// AccountsService handles accounts (/accounts).
type AccountsService service

// SourcesService handles booking sources (/sources).
type SourcesService service

// InquiriesService handles inquiries (/inquiries).
type InquiriesService service

// BookingCommentsService handles the notes on bookings (/booking_comments).
type BookingCommentsService service

// PaymentsService handles payments (/payments).
type PaymentsService service

// BookingsPaymentsService handles the payments of each booking
// (/bookings_payments).
type BookingsPaymentsService service

// ReviewsService handles guests' reviews (/reviews).
type ReviewsService service

// ReviewRepliesService handles the replies to reviews (/review_replies).
type ReviewRepliesService service

// Option configures a Client.
type Option func(*Client) error

// WithBaseURL sets the site root, e.g. a sandbox's
// "https://sandbox.example.com". The API is reached under <root>/api/v3/; a
// root given with the /api/v3 suffix is accepted too, any other path (say
// /api/v2), a query string or a fragment is refused. Only https is allowed,
// except for loopback hosts (tests, bookingsynctest), so that tokens never
// travel in clear.
func WithBaseURL(siteRoot string) Option {
	return func(c *Client) error {
		u, err := parseSiteRoot(siteRoot)
		if err != nil {
			return err
		}
		c.siteURL = u
		return nil
	}
}

// WithHTTPClient sets the HTTP client used for every request. Its Timeout,
// Transport and Jar are used as they are; the client keeps a copy whose
// redirect policy first applies the SDK's (no https→http redirect, no token
// off the client's own origin, the Inbox guard on every hop), then hc's
// CheckRedirect.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) error {
		if hc == nil {
			return errors.New("bookingsync: WithHTTPClient: nil client")
		}
		c.hc = hc
		return nil
	}
}

// WithToken authenticates every request with a static bearer access token.
// A static token is never refreshed.
func WithToken(accessToken string) Option {
	return func(c *Client) error {
		if strings.TrimSpace(accessToken) == "" {
			return errors.New("bookingsync: WithToken: empty token")
		}
		c.ts = staticToken{&oauth2.Token{AccessToken: accessToken, TokenType: "Bearer"}}
		return nil
	}
}

// WithTokenSource authenticates every request with tokens from ts, asked
// anew for each request. Use NewStoredTokenSource for rotating refresh
// tokens; a source that implements TokenRefresher is asked to refresh once
// when the API rejects its token.
func WithTokenSource(ts oauth2.TokenSource) Option {
	return func(c *Client) error {
		if ts == nil {
			return errors.New("bookingsync: WithTokenSource: nil source")
		}
		c.ts = ts
		return nil
	}
}

// WithUserAgent sets the User-Agent header.
func WithUserAgent(ua string) Option {
	return func(c *Client) error {
		c.userAgent = ua
		return nil
	}
}

// WithLogger logs one debug line per HTTP exchange (method, path, status,
// duration, request id, attempt number) to l. Tokens and query strings are
// never logged.
func WithLogger(l *slog.Logger) Option {
	return func(c *Client) error {
		if l == nil {
			l = slog.New(slog.DiscardHandler)
		}
		c.logger = l
		return nil
	}
}

// WithMaxResponseBytes bounds the body read from one response (default
// DefaultMaxResponseBytes); a larger body fails with ErrResponseTooLarge.
func WithMaxResponseBytes(n int64) Option {
	return func(c *Client) error {
		if n <= 0 {
			return errors.New("bookingsync: WithMaxResponseBytes: must be positive")
		}
		c.maxBody = n
		return nil
	}
}

// TokenRefresher is implemented by token sources that can replace a token
// the API rejected with 401 invalid_token (the source returned by
// NewStoredTokenSource does). The client asks once, then resends once.
type TokenRefresher interface {
	RefreshToken(ctx context.Context, rejected *oauth2.Token) (*oauth2.Token, error)
}

// NewClient returns a client for the production API unless WithBaseURL says
// otherwise. Without WithToken or WithTokenSource requests go out
// unauthenticated (the API answers 401).
func NewClient(opts ...Option) (*Client, error) {
	c := &Client{
		userAgent:   defaultUserAgent(),
		logger:      slog.New(slog.DiscardHandler),
		maxBody:     DefaultMaxResponseBytes,
		reliability: defaultReliability(),
	}
	c.siteURL, _ = parseSiteRoot(DefaultBaseURL)
	for i, opt := range opts {
		if opt == nil {
			return nil, fmt.Errorf("bookingsync: NewClient: option %d is nil", i)
		}
		if err := opt(c); err != nil {
			return nil, err
		}
	}
	hc := http.Client{Timeout: DefaultTimeout, Transport: defaultTransport(c.prefetch)}
	if c.hc != nil {
		hc = *c.hc // a copy: the caller's client keeps its own redirect policy
	}
	hc.CheckRedirect = c.checkRedirect(hc.CheckRedirect)
	c.hc = &hc
	api := *c.siteURL
	api.Path = strings.TrimRight(api.Path, "/") + apiPath
	c.apiURL = &api
	c.common.client = c
	c.Conversations = (*ConversationsService)(&c.common)
	c.Participants = (*ParticipantsService)(&c.common)
	c.Messages = (*MessagesService)(&c.common)
	c.Attachments = (*AttachmentsService)(&c.common)
	c.Hosts = (*HostsService)(&c.common)
	c.Bookings = (*BookingsService)(&c.common)
	c.Applications = (*ApplicationsService)(&c.common)
	c.Clients = (*ClientsService)(&c.common)
	c.Rentals = (*RentalsService)(&c.common)
	c.Accounts = (*AccountsService)(&c.common)
	c.Sources = (*SourcesService)(&c.common)
	c.Inquiries = (*InquiriesService)(&c.common)
	c.BookingComments = (*BookingCommentsService)(&c.common)
	c.Payments = (*PaymentsService)(&c.common)
	c.BookingsPayments = (*BookingsPaymentsService)(&c.common)
	c.Reviews = (*ReviewsService)(&c.common)
	c.ReviewReplies = (*ReviewRepliesService)(&c.common)
	return c, nil
}

// defaultTransport is http.DefaultTransport, or, when prefetching needs
// more idle connections per host than it keeps, a copy that keeps
// prefetch: a walk then reuses its connections instead of opening new
// ones (a TLS handshake each) as pages come.
func defaultTransport(prefetch int) http.RoundTripper {
	t, ok := http.DefaultTransport.(*http.Transport)
	if !ok || prefetch <= http.DefaultMaxIdleConnsPerHost {
		return http.DefaultTransport
	}
	t = t.Clone()
	t.MaxIdleConnsPerHost = prefetch
	return t
}

// BaseURL returns the site root the client talks to.
func (c *Client) BaseURL() *url.URL { u := *c.siteURL; return &u }

// APIURL returns the API root (<site>/api/v3/).
func (c *Client) APIURL() *url.URL { u := *c.apiURL; return &u }

// Rate returns the budget stated by the most recent response.
func (c *Client) Rate() Rate {
	c.rateMu.Lock()
	defer c.rateMu.Unlock()
	return c.rate
}

func parseSiteRoot(s string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil {
		return nil, fmt.Errorf("bookingsync: base URL: %w", err)
	}
	if u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("bookingsync: base URL %q: want https://host", redactURL(u.Redacted()))
	}
	if u.Scheme == "http" && !isLoopback(u.Hostname()) {
		return nil, fmt.Errorf("bookingsync: base URL %q: plain http is allowed only for loopback hosts; tokens must not travel in clear, use https", redactURL(u.Redacted()))
	}
	if u.User != nil {
		return nil, errors.New("bookingsync: base URL must not carry credentials")
	}
	if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return nil, fmt.Errorf("bookingsync: base URL %q: want the site root, without a query string or fragment", redactURL(u.Redacted()))
	}
	if p := strings.TrimSuffix(strings.TrimRight(u.Path, "/"), "/api/v3"); p != "" {
		return nil, fmt.Errorf("bookingsync: base URL %q: want the site root (https://host) or the API root (https://host/api/v3), not the path %q; the client adds /api/v3/ itself", redactURL(u.Redacted()), u.Path)
	}
	u.Path, u.RawPath = "", ""
	return u, nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
