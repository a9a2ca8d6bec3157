package bookingsync

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptrace"
	"net/url"
	pathpkg "path"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/oauth2"
)

// The request path, top to bottom. A service's one-line method calls
// resource[T] (below), the one implementation of the API's CRUD
// shapes; it builds the request with NewRequest and sends it with Do. Do
// applies the Inbox rules (guard, guard.go) and decodes the answer
// (decodeBody; the envelope in envelope.go); send applies the policies
// (the rate-limit throttle, retries, the 401 refresh, the 429 wait);
// attempt makes one exchange and reads the body.

// resource is the one implementation of the API's CRUD shapes, shared by
// every service: path relative to the API root, key the envelope's plural
// resource name, scope the OAuth scope a 403 names (see needs).
type resource[T any] struct {
	c     *Client
	path  string
	key   string
	scope string
}

// newResource is the resource at path whose records the envelope holds
// under key; it needs no scope until needs names one.
func newResource[T any](c *Client, path, key string) resource[T] {
	return resource[T]{c: c, path: path, key: key}
}

// needs names the scope that reading the resource takes: a 403 on a GET
// then comes back as a *ScopeError that says so.
func (r resource[T]) needs(scope string) resource[T] {
	r.scope = scope
	return r
}

// list fetches one page; opts is a pointer to an options struct or nil.
func (r resource[T]) list(ctx context.Context, opts any) ([]*T, *Response, error) {
	q, err := encodeQuery(opts)
	if err != nil {
		return nil, nil, fmt.Errorf("bookingsync: encoding %s options: %w", r.key, err)
	}
	p := r.path
	if q != "" {
		p += "?" + q
	}
	return r.do(ctx, http.MethodGet, p, nil)
}

// get fetches the record with the given id; opts as for list.
func (r resource[T]) get(ctx context.Context, id int64, opts any) (*T, *Response, error) {
	if err := checkID(r.key, id); err != nil {
		return nil, nil, err
	}
	q, err := encodeQuery(opts)
	if err != nil {
		return nil, nil, err
	}
	p := r.path + "/" + strconv.FormatInt(id, 10)
	if q != "" {
		p += "?" + q
	}
	return r.one(ctx, http.MethodGet, p, nil)
}

// maxIDsPerRequest bounds GetMany's path: ids beyond it go in further
// requests.
const maxIDsPerRequest = 100

// idListReads bounds how often getMany reads one id list again because
// records were deleted while it was paged.
const idListReads = 3

// getMany fetches the records with the given ids, joined by commas in the
// path, maxIDsPerRequest at a time. The API pages such an answer as it
// pages a listing (rentals 50 a page), so each is read to its last page.
// Unknown ids are simply absent. Every id and the options are checked
// before the first request.
func (r resource[T]) getMany(ctx context.Context, ids []int64, opts any) ([]*T, *Response, error) {
	if err := checkID(r.key, ids...); err != nil {
		return nil, nil, err
	}
	q, err := encodeQuery(opts)
	if err != nil {
		return nil, nil, err
	}
	var all []*T
	var last *Response
	for len(ids) > 0 {
		n := min(len(ids), maxIDsPerRequest)
		var b strings.Builder
		b.WriteString(r.path)
		for i, id := range ids[:n] {
			if i == 0 {
				b.WriteByte('/')
			} else {
				b.WriteByte(',')
			}
			b.WriteString(strconv.FormatInt(id, 10))
		}
		ids = ids[n:]
		items, resp, err := r.idPages(ctx, b.String(), q)
		last = resp
		if err != nil {
			return nil, resp, err
		}
		all = append(all, items...)
	}
	return all, last, nil
}

// idPages reads every page of the answer to one id list (path, with the
// query q) and returns the records and the last page's response. Pages
// after the first ask for the first's page size (X-Per-Page), as the
// API's own next links do. A record deleted between two pages shifts the
// later ones left, and a record would fall between them unseen: a total
// smaller than the first page's makes it read the list again from page 1,
// and fail after idListReads such reads.
func (r resource[T]) idPages(ctx context.Context, path, q string) ([]*T, *Response, error) {
	var totals []int
	for range idListReads {
		var all []*T
		var first *Response
		shifted := false
		for page := 1; page != 0 && !shifted; {
			p, sep := path, "?"
			if q != "" {
				p, sep = p+"?"+q, "&"
			}
			if page > 1 {
				p += sep + "page=" + strconv.Itoa(page)
				if first.PerPage > 0 {
					p += "&per_page=" + strconv.Itoa(first.PerPage)
				}
			}
			items, resp, err := r.do(ctx, http.MethodGet, p, nil)
			if err != nil {
				return nil, resp, err
			}
			if first == nil {
				first = resp
			} else if resp.TotalCount < first.TotalCount {
				shifted = true
				totals = append(totals, first.TotalCount, resp.TotalCount)
				continue
			}
			all = append(all, items...)
			if page, err = nextPage(page, resp, len(items)); err != nil {
				return nil, resp, err
			}
			if page == 0 {
				return all, resp, nil
			}
		}
	}
	return nil, nil, fmt.Errorf("bookingsync: GET %s: records were deleted while the answer was paged, %d times (totals %v): try again", r.path, idListReads, totals)
}

// create POSTs body in the envelope and returns the record created.
func (r resource[T]) create(ctx context.Context, body any) (*T, *Response, error) {
	return r.one(ctx, http.MethodPost, r.path, envelope{r.key, body})
}

// update PUTs body in the envelope to path/id.
func (r resource[T]) update(ctx context.Context, id int64, body any) (*T, *Response, error) {
	if err := checkID(r.key, id); err != nil {
		return nil, nil, err
	}
	return r.one(ctx, http.MethodPut, r.path+"/"+strconv.FormatInt(id, 10), envelope{r.key, body})
}

// delete removes path/id; the API answers 204 with no body.
func (r resource[T]) delete(ctx context.Context, id int64) (*Response, error) {
	if err := checkID(r.key, id); err != nil {
		return nil, err
	}
	req, err := r.c.NewRequest(ctx, http.MethodDelete, r.path+"/"+strconv.FormatInt(id, 10), nil)
	if err != nil {
		return nil, err
	}
	return r.c.Do(req, nil)
}

// action PUTs {key: [{"id": ref}]} to path/id/name: connect_booking,
// add_attachment.
func (r resource[T]) action(ctx context.Context, id int64, name, key string, ref int64) (*T, *Response, error) {
	if err := checkID(r.key, id); err != nil {
		return nil, nil, err
	}
	if err := checkID(key, ref); err != nil {
		return nil, nil, err
	}
	body := envelope{key, struct {
		ID int64 `json:"id"`
	}{ref}}
	return r.one(ctx, http.MethodPut, r.path+"/"+strconv.FormatInt(id, 10)+"/"+name, body)
}

// one is do for an answer of one record: an answer without it is a
// *DecodeError, never a nil record.
func (r resource[T]) one(ctx context.Context, method, path string, body any) (*T, *Response, error) {
	items, resp, err := r.do(ctx, method, path, body)
	if err != nil {
		return nil, resp, err
	}
	if len(items) == 0 || items[0] == nil {
		return nil, resp, &DecodeError{Method: method, Path: resp.Request.URL.Path, StatusCode: resp.StatusCode, RequestID: resp.RequestID,
			Err: fmt.Errorf("response holds no %s", r.key)}
	}
	return items[0], resp, nil
}

// do sends the request and reads the records under the key; a 403 on a
// read becomes a *ScopeError when the resource needs a scope.
func (r resource[T]) do(ctx context.Context, method, path string, body any) ([]*T, *Response, error) {
	req, err := r.c.NewRequest(ctx, method, path, body)
	if err != nil {
		return nil, nil, err
	}
	p := page[T]{key: r.key}
	resp, err := r.c.Do(req, &p)
	if err != nil {
		if method == http.MethodGet {
			err = missingScope(r.scope, err)
		}
		return nil, resp, err
	}
	return p.items, resp, nil
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
// io.Writer to copy the raw body, or nil to discard it. When the body is
// the API's envelope, its meta is copied to Response.Meta, whatever v
// keeps.
//
// Every non-2xx answer is returned as *ErrorResponse (*RateLimitError for
// 429), with the *Response. Requests the Inbox rules forbid are refused
// with an error wrapping ErrRefused before anything is sent (a message
// write naming a sender may first cost one read of that participant, see
// Messages.Create), and requests held back while the rate-limit budget is
// spent fail with *ThrottledError. What is resent on failure, and what
// never is, is told at RetryPolicy and WithRateLimitWait.
//
// Do works on a copy of req: the token and default headers are set on the
// copy, never on req. The token goes only to the client's own scheme and
// host; redirects off it lose the token, and one from https to http is
// not followed. The Inbox rules are applied to the body bytes actually
// sent, and again on every redirect. A nil req or req.URL is an error.
func (c *Client) Do(req *http.Request, v any) (*Response, error) {
	if req == nil || req.URL == nil {
		return nil, errors.New("bookingsync: Do: nil request or request URL")
	}
	// A copy carries the token, the default headers and the judged body,
	// so that none of them lingers on the caller's request.
	req = req.WithContext(req.Context()) // a shallow copy: Header is replaced, nothing else is written
	req.Header = canonicalHeader(req.Header)
	if err := guard(req); err != nil {
		return nil, err
	}
	if err := c.refuseNonHostSender(req); err != nil {
		return nil, err
	}
	if req.Header.Get("Accept") == "" {
		req.Header.Set("Accept", mediaType)
	}
	resp, body, err := c.send(req)
	if read, ok := req.Context().Value(bodyReadKey{}).(func(*Response)); ok {
		whole := resp
		if err != nil {
			whole = nil
		}
		read(whole)
	}
	if err != nil {
		return resp, err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		err := newErrorResponse(req.Method, req.URL.Path, resp.Response, body)
		if rl, ok := err.(*RateLimitError); ok {
			rl.Rate = resp.Rate // a reset beyond the hourly window is unknown
		}
		return resp, err
	}
	if err := decodeBody(body, v, resp); err != nil {
		return resp, &DecodeError{Method: req.Method, Path: req.URL.Path, StatusCode: resp.StatusCode, RequestID: resp.RequestID, Body: excerpt(body), Err: err}
	}
	return resp, nil
}

// bodyReadKey keys a func(*Response) in a request's context that Do calls
// once the exchange is over (the body read and the connection free for
// another request), before it decodes the body, with the response (nil if
// none came whole). Prefetch frees its fetch slot there, so that the next
// page is on its way while this one decodes, and starts fetching ahead
// once a page's headers tell how many there are.
type bodyReadKey struct{}

// send performs req under the client's policies: the rate-limit throttle,
// retries, the 401 refresh and the 429 wait. It returns the final response
// with its body read (bounded) and closed.
func (c *Client) send(req *http.Request) (*Response, []byte, error) {
	ctx := req.Context()
	tok, err := c.authorize(req)
	if err != nil {
		return nil, nil, err
	}
	var (
		cur       = req
		tries     = 1           // sends counted against MaxAttempts
		refreshed bool          // the one 401 refresh is spent
		limited   int           // 429 resends
		waited    time.Duration // time spent waiting for the rate limit
		idem      = idempotent(req.Method)
	)
	for n := 1; ; n++ {
		d, err := c.throttle(cur, waited)
		if err != nil {
			return nil, nil, err
		}
		waited += d
		resp, body, sent, err := c.attempt(cur, n)
		var wait time.Duration
		var why string
		switch {
		case err != nil:
			if ctx.Err() != nil || final(err) || (sent && !idem) || tries >= c.policy.MaxAttempts {
				if tries > 1 {
					err = fmt.Errorf("%w (after %d attempts)", err, tries)
				}
				return resp, body, err
			}
			tries++
			wait, why = c.backoff(tries-1), "a transport error"
		case resp.StatusCode == http.StatusUnauthorized && tok != nil && !refreshed:
			refreshed = true
			fresh := c.refresh(ctx, resp, tok)
			if fresh == nil {
				return resp, body, nil
			}
			next, cerr := cloneRequest(cur)
			if cerr != nil {
				return resp, body, nil
			}
			// A 401 was not processed, so resending is safe for every method.
			fresh.SetAuthHeader(next)
			tok, cur = fresh, next
			continue
		case resp.StatusCode == http.StatusTooManyRequests:
			d, ok := c.rateLimitDelay(resp, limited, waited)
			if !ok {
				return resp, body, nil
			}
			limited++
			waited += d
			wait, why = d, "429"
		case idem && slices.Contains(c.policy.RetryStatuses, resp.StatusCode) && tries < c.policy.MaxAttempts:
			wait = c.backoff(tries)
			if ra, ok := parseRetryAfter(resp.Header.Get("Retry-After"), c.now()); ok {
				if ra > c.policy.MaxBackoff {
					return resp, body, nil
				}
				wait = ra
			}
			tries++
			why = strconv.Itoa(resp.StatusCode)
		default:
			return resp, body, err
		}
		next, cerr := cloneRequest(cur)
		if cerr != nil {
			return resp, body, err
		}
		if serr := c.sleep(ctx, wait); serr != nil {
			return resp, nil, fmt.Errorf("bookingsync: %s %s: waiting to resend after %s: %w", req.Method, req.URL.Path, why, serr)
		}
		cur = next
	}
}

// attempt makes one HTTP exchange, the n-th for this request. sent reports
// whether the request may have reached the server (see traceSent).
func (c *Client) attempt(req *http.Request, n int) (resp *Response, body []byte, sent bool, err error) {
	start := time.Now()
	defer func() { c.observe(req, resp, n, start, err) }()
	req, gotConn := traceSent(req)
	hr, err := c.hc.Do(req)
	if err != nil {
		c.log(req, nil, n, start, err)
		return nil, nil, gotConn(), fmt.Errorf("bookingsync: %s %s: %w", req.Method, req.URL.Path, scrubURLError(err))
	}
	scrubRedirectChain(hr)
	redactResponse(hr, req)
	resp = newResponse(hr)
	resp.Rate = resp.Rate.plausible(c.now())
	body, err = readBody(hr.Body, hr.ContentLength, c.maxBody)
	if err == nil {
		body = redactToken(body, req)
	}
	// Closing before the end (a body over the limit) drops the
	// connection rather than draining it at the server's pace; a body
	// read to its end leaves the connection for reuse.
	hr.Body.Close()
	c.noteRate(resp.Rate)
	if c.rateShare != nil && resp.Rate.known() {
		c.rateShare.Note(req.Context(), resp.Rate)
	}
	c.log(req, resp, n, start, err)
	if err != nil {
		return resp, nil, true, fmt.Errorf("bookingsync: %s %s: %d: reading body: %w", req.Method, req.URL.Path, hr.StatusCode, scrubURLError(err))
	}
	return resp, body, true, nil
}

// authorize sets the Authorization header when req goes to the client's own
// scheme and host, so that a token never leaves for another, nor travels
// in clear. The request's context bounds the wait for the token.
func (c *Client) authorize(req *http.Request) (*oauth2.Token, error) {
	if c.ts == nil || !c.ownTarget(req) {
		return nil, nil
	}
	tok, err := tokenContext(req.Context(), c.ts)
	if err != nil {
		return nil, fmt.Errorf("bookingsync: %s %s: obtaining token: %w", req.Method, req.URL.Path, err)
	}
	tok.SetAuthHeader(req)
	return tok, nil
}

// final reports whether a transport error would only repeat: a body over
// the limit, a redirect refused by the guard or for going in clear.
func final(err error) bool {
	var re *redirectError
	return errors.Is(err, ErrResponseTooLarge) || errors.Is(err, ErrRefused) || errors.As(err, &re)
}

// refresh asks a TokenRefresher to replace a token the API rejected with
// 401 invalid_token; nil when it cannot. A static token is never refreshed.
func (c *Client) refresh(ctx context.Context, resp *Response, tok *oauth2.Token) *oauth2.Token {
	r, ok := c.ts.(TokenRefresher)
	if !ok {
		return nil
	}
	if code, _ := parseWWWAuthenticate(resp.Header.Get("WWW-Authenticate")); code != "" && code != "invalid_token" {
		return nil
	}
	fresh, err := r.RefreshToken(ctx, tok)
	if err != nil || fresh == nil || !fresh.Valid() {
		return nil
	}
	return fresh
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

// traceSent returns req with a trace that records whether a connection was
// obtained for it. Until one is, not one byte of the request can have left
// (dial, DNS and TLS failures); after, the request may have reached the
// server, however it failed.
func traceSent(req *http.Request) (*http.Request, func() bool) {
	var got atomic.Bool
	trace := &httptrace.ClientTrace{GotConn: func(httptrace.GotConnInfo) { got.Store(true) }}
	return req.WithContext(httptrace.WithClientTrace(req.Context(), trace)), got.Load
}

// readBody reads at most limit bytes, and fails rather than truncates. A
// known size (Content-Length; -1 when unknown) over the limit fails before
// a byte is read; within it, it sizes the buffer at once rather than by
// doubling.
func readBody(r io.Reader, size, limit int64) ([]byte, error) {
	if size > limit {
		return nil, fmt.Errorf("%w (%d bytes stated, over %d)", ErrResponseTooLarge, size, limit)
	}
	var buf bytes.Buffer
	if size > 0 {
		buf.Grow(int(size) + bytes.MinRead) // MinRead: room to see the EOF
	}
	if _, err := buf.ReadFrom(io.LimitReader(r, limit+1)); err != nil {
		return nil, err
	}
	if int64(buf.Len()) > limit {
		return nil, fmt.Errorf("%w (over %d bytes)", ErrResponseTooLarge, limit)
	}
	return buf.Bytes(), nil
}

// decodeBody decodes a 2xx body into v (see Do) and copies the envelope's
// meta to resp.
func decodeBody(body []byte, v any, resp *Response) error {
	if w, ok := v.(io.Writer); ok {
		_, err := w.Write(body)
		return err
	}
	if v == nil || len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	if p, ok := v.(pageDecoder); ok {
		meta, err := p.decodePage(body)
		if err != nil {
			return err
		}
		resp.setMeta(meta)
		return nil
	}
	if err := json.Unmarshal(body, v); err != nil {
		return err
	}
	// The caller's struct need not keep meta: read it on its own (one more
	// scan; the records are skipped, not copied) from a body that is an
	// envelope, and fail, as a typed page does, on a meta that does not
	// read: its deleted ids are never dropped in silence.
	if b := bytes.TrimSpace(body); b[0] != '{' {
		return nil
	}
	var env struct {
		Meta *Meta `json:"meta"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return fmt.Errorf("meta: %w", err)
	}
	if env.Meta != nil {
		resp.setMeta(*env.Meta)
	}
	return nil
}

func newResponse(r *http.Response) *Response {
	resp := &Response{Response: r, Rate: parseRate(r.Header), RequestID: r.Header.Get("X-Request-Id")}
	resp.FirstPage, resp.PrevPage, resp.NextPage, resp.LastPage = parseLinkPages(r.Header.Values("Link"))
	resp.TotalPages = headerInt(r.Header, "X-Total-Pages")
	resp.TotalCount = headerInt(r.Header, "X-Total-Count")
	resp.PerPage = headerInt(r.Header, "X-Per-Page")
	if s := r.Header.Get("X-Updated-Since-Request-Synced-At"); s != "" {
		resp.SyncedAt, _ = parseServerTime(s)
	}
	return resp
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
