package bookingsync

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"golang.org/x/oauth2"
)

// This file is the token's way through the request path: fetched within
// the request's context, sent only to the client's own scheme and host,
// never carried by a redirect elsewhere or in clear, and kept out of
// responses, errors and logs (redact, redactURL, scrubURLError).

// TokenSourceContext is implemented by token sources whose wait for a
// token can be bounded by a context (StoredTokenSource does). The client
// calls TokenContext with the request's context, so that a slow token
// endpoint holds a request no longer than its caller allows. A source
// without it is called through Token, and a request whose context ends
// first returns at once while that call finishes in the background.
type TokenSourceContext interface {
	TokenContext(ctx context.Context) (*oauth2.Token, error)
}

// staticToken is WithToken's source: the one token, at once.
type staticToken struct{ t *oauth2.Token }

func (s staticToken) Token() (*oauth2.Token, error) { return s.t, nil }

func (s staticToken) TokenContext(context.Context) (*oauth2.Token, error) { return s.t, nil }

// tokenContext asks ts for a token, waiting no longer than ctx allows.
func tokenContext(ctx context.Context, ts oauth2.TokenSource) (*oauth2.Token, error) {
	if s, ok := ts.(TokenSourceContext); ok {
		return s.TokenContext(ctx)
	}
	if ctx.Done() == nil {
		return ts.Token()
	}
	return awaitToken(ctx, ts.Token)
}

// awaitToken runs fetch in a goroutine of its own and waits for it or for
// ctx, whichever ends first. fetch runs to its end either way.
func awaitToken(ctx context.Context, fetch func() (*oauth2.Token, error)) (*oauth2.Token, error) {
	type result struct {
		t   *oauth2.Token
		err error
	}
	done := make(chan result, 1)
	go func() {
		t, err := fetch()
		done <- result{t, err}
	}()
	select {
	case r := <-done:
		return r.t, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// ownOrigin reports whether u has the client's own scheme and host (port
// included, the scheme's default when absent): the one place the token is
// sent. WithBaseURL allows http only for loopback hosts.
func (c *Client) ownOrigin(u *url.URL) bool {
	return u != nil && strings.EqualFold(u.Scheme, c.siteURL.Scheme) && hostPort(u) == hostPort(c.siteURL)
}

// ownTarget reports whether req goes to the client's own origin and says
// so in its Host header too: a Host set apart from the URL (req.Host) is
// where a CDN or a virtual host routes the request, token included.
func (c *Client) ownTarget(req *http.Request) bool {
	if !c.ownOrigin(req.URL) {
		return false
	}
	if req.Host == "" {
		return true
	}
	h := *req.URL
	h.Host = req.Host
	return hostPort(&h) == hostPort(req.URL)
}

func hostPort(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = map[string]string{"https": "443", "http": "80"}[strings.ToLower(u.Scheme)]
	}
	return net.JoinHostPort(strings.ToLower(u.Hostname()), port)
}

// redirectError is a redirect the client would not follow.
type redirectError struct{ from, to string }

func (e *redirectError) Error() string {
	return fmt.Sprintf("bookingsync: redirect from %s to %s refused: it would send the request in clear", e.from, e.to)
}

// checkRedirect wraps the HTTP client's redirect policy (next; nil is
// net/http's: at most 10 redirects). Each hop is refused if it goes from
// https to http or to plain http off loopback, loses the token unless it
// stays on the client's own scheme and host, and is judged by the Inbox
// checks like the first request.
func (c *Client) checkRedirect(next func(*http.Request, []*http.Request) error) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		prev := via[len(via)-1].URL
		if !strings.EqualFold(req.URL.Scheme, "https") && (strings.EqualFold(prev.Scheme, "https") || !isLoopback(req.URL.Hostname())) {
			return &redirectError{from: prev.Scheme + "://" + prev.Host, to: req.URL.Scheme + "://" + req.URL.Host}
		}
		if !c.ownTarget(req) {
			req.Header.Del("Authorization")
		}
		if err := guard(req); err != nil {
			return err
		}
		if err := c.refuseNonHostSender(req); err != nil {
			return err
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
}

// scrubRedirectChain removes Authorization from every request a response
// leads back to (Response.Request.Response.Request…), copying each, since
// net/http shares them with the requests it sent: a caller may log them.
func scrubRedirectChain(resp *http.Response) {
	for r := resp; r != nil && r.Request != nil; {
		q := r.Request.Clone(r.Request.Context())
		q.Header.Del("Authorization")
		r.Request = q
		if q.Response == nil {
			return
		}
		prev := *q.Response
		q.Response = &prev
		r = &prev
	}
}

// minRedacted is the shortest token redacted from responses: a shorter
// one is no real token (BookingSync's are 64 characters), and replacing it
// would mangle the data (every "t" of a body, for a token "t").
const minRedacted = 8

// bearer is the token req carries, "" if none or too short to redact.
func bearer(req *http.Request) string {
	scheme, tok, ok := strings.Cut(strings.TrimSpace(req.Header.Get("Authorization")), " ")
	if tok = strings.TrimSpace(tok); !ok || !strings.EqualFold(scheme, "Bearer") || len(tok) < minRedacted {
		return ""
	}
	return tok
}

// redactToken replaces the token req carried wherever a body echoes it (a
// debugging proxy does): error strings quote bodies, and a caller may log
// them.
func redactToken(body []byte, req *http.Request) []byte {
	tok := bearer(req)
	if tok == "" {
		return body
	}
	for _, form := range tokenForms(tok) {
		if bytes.Contains(body, []byte(form)) {
			return []byte(redact(string(body), tok))
		}
	}
	return body
}

// redactResponse does the same to the response's headers (a
// WWW-Authenticate description, say).
func redactResponse(resp *http.Response, req *http.Request) {
	tok := bearer(req)
	if tok == "" {
		return
	}
	for _, vs := range resp.Header {
		for i, v := range vs {
			if r := redact(v, tok); r != v { // only then written: a transport may share its maps
				vs[i] = r
			}
		}
	}
}

// redact replaces every secret in s, as it is and as JSON or a URL would
// escape it, by REDACTED. Should the replacements spell a secret again
// (one made of the letters of REDACTED), nothing of s is kept.
func redact(s string, secrets ...string) string {
	var forms []string
	for _, secret := range secrets {
		if len(secret) >= minRedacted {
			forms = append(forms, tokenForms(secret)...)
		}
	}
	for _, form := range forms {
		s = strings.ReplaceAll(s, form, "REDACTED")
	}
	for _, form := range forms {
		if strings.Contains(s, form) {
			return "REDACTED"
		}
	}
	return s
}

// tokenForms is a secret as it is and as JSON, a query or a path would
// escape it.
func tokenForms(tok string) []string {
	j, _ := json.Marshal(tok)
	forms := []string{tok, string(j[1 : len(j)-1]), url.QueryEscape(tok), url.PathEscape(tok), strings.ReplaceAll(tok, "/", `\/`)}
	out := forms[:1]
	for _, f := range forms[1:] {
		if f != tok {
			out = append(out, f)
		}
	}
	return out
}

// redactedError is err with the secrets redacted from its message;
// errors.Is and errors.As see err.
type redactedError struct {
	err     error
	secrets []string
}

func (e *redactedError) Error() string { return redact(e.err.Error(), e.secrets...) }

func (e *redactedError) Unwrap() error { return e.err }

// secretParam is a query parameter that carries a secret, with its value.
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
