package bookingsync

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strings"
)

// Sentinels for errors.Is. Every non-2xx response is an *ErrorResponse (a
// 429 a *RateLimitError) that matches the sentinel of its status.
var (
	// ErrUnauthorized matches 401: the token is invalid, expired or revoked.
	ErrUnauthorized = errors.New("bookingsync: unauthorized")
	// ErrForbidden matches 403: the token lacks the scope.
	ErrForbidden = errors.New("bookingsync: forbidden")
	// ErrNotFound matches 404: no such resource, or not visible to the account.
	ErrNotFound = errors.New("bookingsync: not found")
	// ErrValidation matches 422: see ErrorResponse.Errors for the fields.
	ErrValidation = errors.New("bookingsync: validation failed")
	// ErrRateLimited matches 429, and requests refused locally because the
	// hour's budget is spent.
	ErrRateLimited = errors.New("bookingsync: rate limit exceeded")
	// ErrRefused matches requests the SDK would not send because the Inbox
	// rules forbid them (creating a conversation or a Client participant).
	// Nothing was sent.
	ErrRefused = errors.New("bookingsync: refused by the Inbox rules")
	// ErrInvalidRequest matches local validation errors: a request struct is
	// missing a required field or combines fields the API rejects. Nothing
	// was sent.
	ErrInvalidRequest = errors.New("bookingsync: invalid request")
)

// ErrorResponse is a non-2xx answer from the API.
type ErrorResponse struct {
	// Response is the HTTP response; its body has been read and closed.
	Response *http.Response
	// Method and Path name the request (the path without query string).
	Method, Path string
	// StatusCode is the HTTP status.
	StatusCode int
	// Message is the server's message ("Not authorized", "API v3 rate limit
	// exceeded.") when it sent one.
	Message string
	// Errors holds 422 field errors: field name to messages.
	Errors map[string][]string
	// RequestID is the X-Request-Id header, for BookingSync support.
	RequestID string
	// AuthError and AuthErrorDescription come from a 401's WWW-Authenticate
	// header (error="invalid_token").
	AuthError, AuthErrorDescription string
	// Body is a short, single-line excerpt of a body that was not the API's
	// JSON (a proxy's HTML 502 page, say).
	Body string
}

// Error names method, path and status; it never contains a token.
func (e *ErrorResponse) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "bookingsync: %s %s: %d %s", e.Method, e.Path, e.StatusCode, http.StatusText(e.StatusCode))
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if len(e.Errors) > 0 {
		fields := make([]string, 0, len(e.Errors))
		for f := range e.Errors {
			fields = append(fields, f)
		}
		sort.Strings(fields)
		for i, f := range fields {
			if i == 0 {
				b.WriteString(": ")
			} else {
				b.WriteString("; ")
			}
			fmt.Fprintf(&b, "%s %s", f, strings.Join(e.Errors[f], ", "))
		}
	}
	if e.Message == "" && len(e.Errors) == 0 && e.Body != "" {
		fmt.Fprintf(&b, ": %q", e.Body)
	}
	if e.RequestID != "" {
		fmt.Fprintf(&b, " (request id %s)", e.RequestID)
	}
	return b.String()
}

// Is matches the sentinel of the status code.
func (e *ErrorResponse) Is(target error) bool {
	switch e.StatusCode {
	case http.StatusUnauthorized:
		return target == ErrUnauthorized
	case http.StatusForbidden:
		return target == ErrForbidden
	case http.StatusNotFound:
		return target == ErrNotFound
	case http.StatusUnprocessableEntity:
		return target == ErrValidation
	case http.StatusTooManyRequests:
		return target == ErrRateLimited
	}
	return false
}

// RateLimitError is a 429: the application spent its hourly budget. Rate
// tells when it resets. It unwraps to the *ErrorResponse.
type RateLimitError struct {
	*ErrorResponse
	Rate Rate
}

// Error adds the reset time.
func (e *RateLimitError) Error() string {
	if e.Rate.Reset.IsZero() {
		return e.ErrorResponse.Error()
	}
	return fmt.Sprintf("%s; resets at %s", e.ErrorResponse.Error(), resetText(e.Rate.Reset))
}

// Unwrap returns the underlying *ErrorResponse.
func (e *RateLimitError) Unwrap() error { return e.ErrorResponse }

// Is matches ErrRateLimited.
func (e *RateLimitError) Is(target error) bool { return target == ErrRateLimited }

// RefusedError is a request the SDK would not send because the Inbox rules
// forbid it. Nothing was sent. It matches ErrRefused.
type RefusedError struct {
	Method, Path string
	// Reason says why the request would do harm; Instead, what to do.
	Reason, Instead string
}

// Error explains the refusal and the alternative.
func (e *RefusedError) Error() string {
	return fmt.Sprintf("bookingsync: refused %s %s: %s; instead, %s", e.Method, e.Path, e.Reason, e.Instead)
}

// Is matches ErrRefused.
func (e *RefusedError) Is(target error) bool { return target == ErrRefused }

// ThrottledError is a request the client held back: the last response said
// the hour's budget is spent (X-RateLimit-Remaining 0) and Rate.Reset is
// still ahead. Nothing was sent. It matches ErrRateLimited.
type ThrottledError struct {
	Method, Path string
	// Rate is the budget as the last response stated it.
	Rate Rate
}

// Error says that nothing was sent, and until when.
func (e *ThrottledError) Error() string {
	return fmt.Sprintf("bookingsync: %s %s: not sent: rate limit of %d requests spent until %s",
		e.Method, e.Path, e.Rate.Limit, resetText(e.Rate.Reset))
}

// Is matches ErrRateLimited.
func (e *ThrottledError) Is(target error) bool { return target == ErrRateLimited }

// ErrResponseTooLarge is returned, wrapped, when a response body exceeds
// the client's limit (WithMaxResponseBytes).
var ErrResponseTooLarge = errors.New("bookingsync: response body too large")

// DecodeError is a 2xx response whose body could not be read as the
// expected JSON: truncated, malformed, an HTML page, or too large. A page
// holding a null where a record belongs fails whole with a DecodeError:
// no record reaches the caller as nil, and no page is returned short.
type DecodeError struct {
	Method, Path string
	StatusCode   int
	RequestID    string
	// Body is a short excerpt of what came instead.
	Body string
	Err  error
}

// Error names the request and the cause.
func (e *DecodeError) Error() string {
	s := fmt.Sprintf("bookingsync: %s %s: %d: decoding response: %v", e.Method, e.Path, e.StatusCode, e.Err)
	if e.Body != "" {
		s += fmt.Sprintf(" (body %q)", e.Body)
	}
	if e.RequestID != "" {
		s += fmt.Sprintf(" (request id %s)", e.RequestID)
	}
	return s
}

// Unwrap returns the cause.
func (e *DecodeError) Unwrap() error { return e.Err }

func newErrorResponse(method, path string, r *http.Response, body []byte) error {
	e := &ErrorResponse{
		Response:   r,
		Method:     method,
		Path:       path,
		StatusCode: r.StatusCode,
		RequestID:  r.Header.Get("X-Request-Id"),
	}
	e.AuthError, e.AuthErrorDescription = parseWWWAuthenticate(r.Header.Get("WWW-Authenticate"))
	var ok bool
	if e.Message, e.Errors, ok = parseErrorBody(body); !ok {
		e.Body = excerpt(body)
	}
	if e.Message == "" && e.AuthErrorDescription != "" {
		e.Message = e.AuthErrorDescription
	}
	if r.StatusCode == http.StatusTooManyRequests {
		return &RateLimitError{ErrorResponse: e, Rate: parseRate(r.Header)}
	}
	return e
}

// Bounds on what an error body contributes to an ErrorResponse, so that a
// hostile body cannot make an error string of megabytes.
const (
	maxErrorText     = 1000 // bytes of one message
	maxErrorFields   = 100  // fields of a 422
	maxErrorMessages = 10   // messages of one field, or of an "errors" list
)

// parseErrorBody reads every error body shape seen: {"error": "…"},
// {"error": {"message": "…"}} (nested to any depth), {"errors": {"field":
// ["…"]}}, {"errors": ["…"]}, {"errors": [{"title": …}]}, {"message": "…"},
// {"error_description": "…"}. Keys match in any case, as encoding/json
// matches struct fields. ok is false when the body is not a JSON object.
//
// The body is decoded once and the result walked once, so the work is
// linear in the body however deep it nests (re-decoding each nested
// "error" made it quadratic).
func parseErrorBody(body []byte) (msg string, fields map[string][]string, ok bool) {
	var v any
	if json.Unmarshal(body, &v) != nil {
		return "", nil, false
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return "", nil, false
	}
	// The chain of objects nested under "error", outermost first; the
	// innermost speaks first, the outer ones fill in what it left out.
	chain := []map[string]any{obj}
	for {
		inner, isObj := lookup(chain[len(chain)-1], "error").(map[string]any)
		if !isObj {
			break
		}
		chain = append(chain, inner)
	}
	for i := len(chain) - 1; i >= 0; i-- {
		o := chain[i]
		if s, isStr := lookup(o, "error").(string); isStr && msg == "" {
			msg = s
		}
		for _, k := range []string{"message", "error_description"} {
			if s, isStr := lookup(o, k).(string); isStr && msg == "" {
				msg = s
			}
		}
		switch errs := lookup(o, "errors").(type) {
		case map[string]any:
			fields = errorFields(errs)
		case []any:
			if msg == "" {
				msg = strings.Join(errorMessages(errs), "; ")
			}
		}
	}
	return truncate(msg, maxErrorText), fields, true
}

// lookup returns m[key], or the value of a key equal to it under Unicode
// case folding, as encoding/json would match a struct field.
func lookup(m map[string]any, key string) any {
	if v, ok := m[key]; ok {
		return v
	}
	for k, v := range m {
		if strings.EqualFold(k, key) {
			return v
		}
	}
	return nil
}

// errorFields reads {"field": ["…", …] | "…" | anything}, bounded.
func errorFields(errs map[string]any) map[string][]string {
	names := make([]string, 0, len(errs))
	for f := range errs {
		names = append(names, f)
	}
	sort.Strings(names)
	names = names[:min(len(names), maxErrorFields)]
	fields := make(map[string][]string, len(names))
	for _, f := range names {
		var list []string
		switch v := errs[f].(type) {
		case string:
			list = []string{v}
		case []any:
			for _, x := range v {
				s, isStr := x.(string)
				if !isStr {
					list = nil
					break
				}
				list = append(list, s)
			}
		}
		if list == nil {
			list = []string{jsonText(errs[f])}
		}
		for i := range list {
			list[i] = truncate(list[i], maxErrorText)
		}
		fields[f] = list[:min(len(list), maxErrorMessages)]
	}
	return fields
}

// errorMessages reads ["…", {"detail"|"title"|"message"|"code": "…"}, …],
// bounded.
func errorMessages(errs []any) []string {
	var msgs []string
	for _, x := range errs {
		if len(msgs) == maxErrorMessages {
			break
		}
		switch x := x.(type) {
		case string:
			msgs = append(msgs, truncate(x, maxErrorText))
		case map[string]any:
			for _, k := range []string{"detail", "title", "message", "code"} {
				if s, _ := lookup(x, k).(string); s != "" {
					msgs = append(msgs, truncate(s, maxErrorText))
					break
				}
			}
		}
	}
	return msgs
}

// jsonText prints a decoded JSON value compactly, for a field error that
// is neither a string nor a list of strings.
func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return truncate(string(b), maxErrorText)
}

var authParam = regexp.MustCompile(`(\w+)="([^"]*)"`)

// parseWWWAuthenticate reads error and error_description from a Bearer
// challenge such as Doorkeeper's.
func parseWWWAuthenticate(h string) (code, desc string) {
	for _, m := range authParam.FindAllStringSubmatch(h, -1) {
		switch m[1] {
		case "error":
			code = m[2]
		case "error_description":
			desc = m[2]
		}
	}
	return code, desc
}

var (
	htmlTag = regexp.MustCompile(`<[^>]*>`)
	spaces  = regexp.MustCompile(`\s+`)
)

// excerpt makes a short single line of a body for an error: tags stripped,
// white space folded, invalid UTF-8 replaced, at most 200 bytes.
func excerpt(body []byte) string {
	if len(body) > 4096 {
		body = body[:4096]
	}
	s := strings.ToValidUTF8(string(body), "\uFFFD")
	s = htmlTag.ReplaceAllString(s, " ")
	s = strings.TrimSpace(spaces.ReplaceAllString(s, " "))
	return truncate(s, 200)
}

// ScopeError says which OAuth scope the token lacks for what was asked:
// the API answered 403 on a resource whose read scope is known
// ("clients_read" for /clients), or a payload came reduced the way it does
// without the scope. It matches ErrForbidden and unwraps to the
// *ErrorResponse of the 403, when there was one.
type ScopeError struct {
	// Scope is the missing scope, as the authorization page spells it
	// (ScopeClientsRead, ScopeRentalsRead, …).
	Scope string
	// Err is the 403 *ErrorResponse; nil when no request was refused.
	Err error
}

// Error says which scope is missing and how to get it, after the 403's own
// description.
func (e *ScopeError) Error() string {
	hint := "the token lacks the " + e.Scope + " scope: authorize the application with it (oauth2.Config.Scopes)"
	if e.Err == nil {
		return "bookingsync: " + hint
	}
	return e.Err.Error() + ": " + hint
}

// Unwrap returns the 403 *ErrorResponse, or nil.
func (e *ScopeError) Unwrap() error { return e.Err }

// Is matches ErrForbidden.
func (e *ScopeError) Is(target error) bool { return target == ErrForbidden }

// missingScope turns a 403 into a *ScopeError naming scope; other errors,
// and every error when scope is "", pass unchanged.
func missingScope(scope string, err error) error {
	var e *ErrorResponse
	if scope == "" || !errors.As(err, &e) || e.StatusCode != http.StatusForbidden {
		return err
	}
	return &ScopeError{Scope: scope, Err: err}
}
