package bookingsync

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	pathpkg "path"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
)

const (
	// DefaultBaseURL is the production site root; the API lives under
	// <root>/api/v3/ and OAuth under <root>/oauth/.
	DefaultBaseURL = "https://www.bookingsync.com"

	// DefaultUserAgent is sent unless WithUserAgent says otherwise.
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

	// State of the Inbox helpers: the application cache behind
	// Conversations.Origin, and the EnsureHost calls in flight.
	apps        appCache
	hostFlights flightGroup[hostKey, *Participant]

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

// Option configures a Client.
type Option func(*Client) error

// WithBaseURL sets the site root, e.g. a sandbox's
// "https://sandbox.example.com". The API is reached under <root>/api/v3/; a
// root given with the /api/v3 suffix is accepted too. Only https is allowed,
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

// WithHTTPClient sets the HTTP client used for every request. Its Timeout
// and Transport are used as they are.
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
		c.ts = oauth2.StaticTokenSource(&oauth2.Token{AccessToken: accessToken, TokenType: "Bearer"})
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

// ErrResponseTooLarge is returned, wrapped, when a response body exceeds
// the client's limit (WithMaxResponseBytes).
var ErrResponseTooLarge = errors.New("bookingsync: response body too large")

// NewClient returns a client for the production API unless WithBaseURL says
// otherwise. Without WithToken or WithTokenSource requests go out
// unauthenticated (the API answers 401).
func NewClient(opts ...Option) (*Client, error) {
	c := &Client{
		userAgent:   DefaultUserAgent,
		logger:      slog.New(slog.DiscardHandler),
		maxBody:     DefaultMaxResponseBytes,
		reliability: defaultReliability(),
	}
	c.siteURL, _ = parseSiteRoot(DefaultBaseURL)
	for _, opt := range opts {
		if err := opt(c); err != nil {
			return nil, err
		}
	}
	if c.hc == nil {
		c.hc = &http.Client{Timeout: DefaultTimeout}
	}
	api := *c.siteURL
	api.Path = strings.TrimRight(api.Path, "/") + apiPath
	c.apiURL = &api
	svc := func() service { return service{client: c} }
	c.Conversations = (*ConversationsService)(Ptr(svc()))
	c.Participants = (*ParticipantsService)(Ptr(svc()))
	c.Messages = (*MessagesService)(Ptr(svc()))
	c.Attachments = (*AttachmentsService)(Ptr(svc()))
	c.Hosts = (*HostsService)(Ptr(svc()))
	c.Bookings = (*BookingsService)(Ptr(svc()))
	c.Applications = (*ApplicationsService)(Ptr(svc()))
	c.Clients = (*ClientsService)(Ptr(svc()))
	c.Rentals = (*RentalsService)(Ptr(svc()))
	c.Accounts = (*AccountsService)(Ptr(svc()))
	c.Sources = (*SourcesService)(Ptr(svc()))
	c.Inquiries = (*InquiriesService)(Ptr(svc()))
	return c, nil
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
	u.Path = strings.TrimSuffix(strings.TrimRight(u.Path, "/"), "/api/v3")
	u.RawPath, u.RawQuery, u.Fragment = "", "", ""
	return u, nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// NewRequest builds a request for path, relative to the API root
// ("inbox/conversations/5"; a query string may follow). A non-nil body is
// encoded as JSON as it is: services wrap it in the API's plural-key
// envelope ({"messages": [{…}]}), and so must a caller. The request carries
// the API's media type headers; the token is added by Do.
func (c *Client) NewRequest(ctx context.Context, method, path string, body any) (*http.Request, error) {
	if ctx == nil {
		return nil, errors.New("bookingsync: nil context")
	}
	rel, err := url.Parse(strings.TrimLeft(path, "/"))
	if err != nil {
		return nil, fmt.Errorf("bookingsync: path %q: %w", redactURL(path), scrubURLError(err))
	}
	if rel.IsAbs() || rel.Host != "" {
		return nil, fmt.Errorf("bookingsync: path %q must be relative to the API root", redactURL(rel.Redacted()))
	}
	u := c.apiURL.ResolveReference(rel)
	if !strings.HasPrefix(pathpkg.Clean(u.Path)+"/", c.apiURL.Path) {
		return nil, fmt.Errorf("bookingsync: path %q leaves the API root", redactURL(rel.Redacted()))
	}
	var r io.Reader
	var buf []byte
	if body != nil {
		buf, err = json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("bookingsync: encoding %s body: %w", method, err)
		}
		r = bytes.NewReader(buf)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), r)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", mediaType)
	if body != nil {
		req.Header.Set("Content-Type", mediaType)
	}
	if c.userAgent != "" {
		req.Header.Set("User-Agent", c.userAgent)
	}
	return req, nil
}

// Do sends req and decodes a 2xx JSON body into v: a pointer to any struct
// that matches the envelope (for example struct{ Conversations
// []*Conversation `json:"conversations"`; Meta Meta `json:"meta"` }), an
// io.Writer to copy the raw body, or nil to discard it. A field named Meta
// of type Meta is also copied to Response.Meta.
//
// Every non-2xx answer is returned as *ErrorResponse (*RateLimitError for
// 429), with the *Response. Requests the Inbox rules forbid are refused
// with an error wrapping ErrRefused before anything is sent, and requests
// held back while the rate-limit budget is spent fail with *ThrottledError.
// What is resent on failure, and what never is, is told at RetryPolicy and
// WithRateLimitWait.
func (c *Client) Do(req *http.Request, v any) (*Response, error) {
	if err := guard(req); err != nil {
		return nil, err
	}
	if req.Header.Get("Accept") == "" {
		req.Header.Set("Accept", mediaType)
	}
	resp, body, err := c.send(req)
	if err != nil {
		return resp, err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp, newErrorResponse(req.Method, req.URL.Path, resp.Response, body)
	}
	if err := decodeBody(body, v, resp); err != nil {
		return resp, &DecodeError{Method: req.Method, Path: req.URL.Path, StatusCode: resp.StatusCode, RequestID: resp.RequestID, Body: excerpt(body), Err: err}
	}
	return resp, nil
}

// authorize sets the Authorization header when req goes to the client's own
// host, so that a token never leaves for another.
func (c *Client) authorize(req *http.Request) (*oauth2.Token, error) {
	if c.ts == nil || !strings.EqualFold(req.URL.Host, c.siteURL.Host) {
		return nil, nil
	}
	tok, err := c.ts.Token()
	if err != nil {
		return nil, fmt.Errorf("bookingsync: %s %s: obtaining token: %w", req.Method, req.URL.Path, err)
	}
	tok.SetAuthHeader(req)
	return tok, nil
}

// attempt makes one HTTP exchange, the n-th for this request. sent reports
// whether the request may have reached the server (see traceSent).
func (c *Client) attempt(req *http.Request, n int) (resp *Response, body []byte, sent bool, err error) {
	start := time.Now()
	req, gotConn := traceSent(req)
	hr, err := c.hc.Do(req)
	if err != nil {
		c.log(req, nil, n, start, err)
		return nil, nil, gotConn(), fmt.Errorf("bookingsync: %s %s: %w", req.Method, req.URL.Path, scrubURLError(err))
	}
	if hr.Request != nil && hr.Request.Header.Get("Authorization") != "" {
		// The caller may log the response; the token stays out of it.
		hr.Request = hr.Request.Clone(hr.Request.Context())
		hr.Request.Header.Del("Authorization")
	}
	resp = newResponse(hr)
	body, err = readBody(hr.Body, c.maxBody)
	// Drain what is left (bounded) so that the connection can be reused.
	io.CopyN(io.Discard, hr.Body, maxDrain)
	hr.Body.Close()
	c.noteRate(resp.Rate)
	c.log(req, resp, n, start, err)
	if err != nil {
		return resp, nil, true, fmt.Errorf("bookingsync: %s %s: %d: reading body: %w", req.Method, req.URL.Path, hr.StatusCode, scrubURLError(err))
	}
	return resp, body, true, nil
}

// maxDrain bounds what is read and discarded from a body that is not used,
// to keep its connection: past it, closing the connection is cheaper.
const maxDrain = 64 << 10

// readBody reads at most limit bytes, and fails rather than truncates.
func readBody(r io.Reader, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%w (over %d bytes)", ErrResponseTooLarge, limit)
	}
	return b, nil
}

var secretParam = regexp.MustCompile(`(?i)([?&;#](?:access_token|token|refresh_token|code|client_secret|secret|password)=)[^&;#\s"']*`)

// redactURL replaces the values of query parameters that carry secrets
// (access_token, token, refresh_token, code, client_secret, secret,
// password) with REDACTED, in a URL that is about to be printed. It works
// on the text, so that even a URL that does not parse is safe to print.
func redactURL(s string) string {
	return secretParam.ReplaceAllString(s, "${1}REDACTED")
}

// scrubURLError drops the URL (and so any query string) from a transport
// error; the caller names method and path itself.
func scrubURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

func (c *Client) noteRate(r Rate) {
	if !r.known() {
		return
	}
	c.rateMu.Lock()
	// Concurrent responses (WithPrefetch) can arrive out of order; within
	// one window the budget only shrinks, so an older, larger figure is
	// not taken over a newer one.
	if r.Reset.IsZero() || !r.Reset.Equal(c.rate.Reset) || r.Limit != c.rate.Limit || r.Remaining < c.rate.Remaining {
		c.rate = r
	}
	c.rateMu.Unlock()
}

func (c *Client) log(req *http.Request, resp *Response, n int, start time.Time, err error) {
	ctx := req.Context()
	if !c.logger.Enabled(ctx, slog.LevelDebug) {
		return
	}
	attrs := []slog.Attr{
		slog.String("method", req.Method),
		slog.String("path", req.URL.Path),
		slog.Duration("duration", time.Since(start)),
		slog.Int("attempt", n),
	}
	if resp != nil {
		attrs = append(attrs, slog.Int("status", resp.StatusCode), slog.String("request_id", resp.RequestID))
	}
	if err != nil {
		attrs = append(attrs, slog.String("error", scrubURLError(err).Error()))
	}
	c.logger.LogAttrs(ctx, slog.LevelDebug, "bookingsync request", attrs...)
}

// cloneRequest copies req with a fresh body for a resend.
func cloneRequest(req *http.Request) (*http.Request, error) {
	r := req.Clone(req.Context())
	if req.Body != nil && req.Body != http.NoBody {
		if req.GetBody == nil {
			return nil, errors.New("bookingsync: request body cannot be replayed")
		}
		b, err := req.GetBody()
		if err != nil {
			return nil, err
		}
		r.Body = b
	}
	return r, nil
}

// decodeBody decodes a 2xx body into v and copies its Meta to resp.
func decodeBody(body []byte, v any, resp *Response) error {
	switch v := v.(type) {
	case nil:
		return nil
	case io.Writer:
		_, err := v.Write(body)
		return err
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	if err := json.Unmarshal(body, v); err != nil {
		return err
	}
	if m, ok := metaOf(v); ok {
		resp.setMeta(m)
	}
	return nil
}

var metaFields sync.Map // reflect.Type -> int (field index, -1 when none)

// metaOf returns the Meta field of *struct v, if it has one.
func metaOf(v any) (Meta, bool) {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Kind() != reflect.Struct {
		return Meta{}, false
	}
	t := rv.Elem().Type()
	idx, ok := metaFields.Load(t)
	if !ok {
		idx = -1
		if f, found := t.FieldByName("Meta"); found && f.Type == reflect.TypeFor[Meta]() && len(f.Index) == 1 {
			idx = f.Index[0]
		}
		metaFields.Store(t, idx)
	}
	if idx.(int) < 0 {
		return Meta{}, false
	}
	return rv.Elem().Field(idx.(int)).Interface().(Meta), true
}
