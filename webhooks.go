package bookingsync

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// SignatureHeader is the request header carrying a delivery's signature.
const SignatureHeader = "X-Content-Signature"

// MaxWebhookBytes bounds the body ParseWebhook reads: a real delivery is a
// few kilobytes, and an unauthenticated sender must not make the receiver
// buffer an unbounded body before the signature can be checked.
const MaxWebhookBytes = 5 << 20

// Webhook errors, for errors.Is. NewWebhookHandler answers each with its own
// status code.
var (
	// ErrInvalidSignature: the X-Content-Signature header is missing, is not
	// 40 hex digits, or does not match the body. The error says which, never
	// what the expected signature was.
	ErrInvalidSignature = errors.New("bookingsync: invalid webhook signature")
	// ErrMalformedWebhook: a correctly signed body is not a webhook (not a
	// JSON object, no event or account_id), or its resource is not of the
	// expected shape. A body that could not be read also matches it.
	ErrMalformedWebhook = errors.New("bookingsync: malformed webhook")
	// ErrWebhookTooLarge: the body is larger than MaxWebhookBytes.
	ErrWebhookTooLarge = errors.New("bookingsync: webhook body too large")
	// ErrMethodNotAllowed: the request is not a POST.
	ErrMethodNotAllowed = errors.New("bookingsync: webhook method not allowed")
	// ErrWrongEventKind: a typed accessor was called on an event of another
	// kind, such as Message on an inbox_conversation_created event.
	ErrWrongEventKind = errors.New("bookingsync: wrong webhook event kind")
)

// errNoSecret is a configuration error, not a bad delivery: it does not
// match ErrInvalidSignature, and NewWebhookHandler answers it with a 500 so
// that the sender retries once the secret is set.
var errNoSecret = errors.New("bookingsync: webhook secret is empty; it is the application's client secret")

// WebhookEvent is one verified delivery.
type WebhookEvent struct {
	// AccountID is the account the event happened in.
	AccountID int64
	// Event names what happened: one of the Event constants, or a name the
	// API added later.
	Event string
	// Resource is the resource as the API serializes it, undecoded; the
	// typed accessors (Conversation, Message, Booking, Application) decode
	// it.
	Resource json.RawMessage
}

// SignWebhook returns the signature BookingSync sends with payload in the
// X-Content-Signature header: the lowercase hex HMAC-SHA1, keyed with the
// application's client secret, of payload in Base64 as Ruby's
// Base64.encode64 writes it (standard alphabet with padding, a "\n" after
// every 60 characters and at the end; nothing at all for an empty payload).
// Receivers use ValidateSignature; SignWebhook serves tests and fake
// servers that send deliveries. An empty secret signs, but never validates.
func SignWebhook(payload []byte, secret string) string {
	return hex.EncodeToString(webhookMAC(payload, secret))
}

// webhookMAC is the HMAC-SHA1 of payload's Base64, written in lines as
// SignWebhook says, without building the wrapped text.
func webhookMAC(payload []byte, secret string) []byte {
	const line = 60
	enc := make([]byte, base64.StdEncoding.EncodedLen(len(payload)))
	base64.StdEncoding.Encode(enc, payload)
	mac := hmac.New(sha1.New, []byte(secret))
	for len(enc) > 0 {
		n := min(len(enc), line)
		mac.Write(enc[:n])
		mac.Write([]byte{'\n'})
		enc = enc[n:]
	}
	return mac.Sum(nil)
}

// ValidateSignature checks signature, the X-Content-Signature header of a
// delivery, against payload, the raw request body, with secret, the
// application's client secret. The comparison takes constant time. Hex
// digits are accepted in either case (BookingSync sends lowercase).
//
// It returns nil when the signature matches, an error matching
// ErrInvalidSignature when it is missing, malformed or does not match, and
// another error when secret is empty.
func ValidateSignature(payload []byte, signature, secret string) error {
	if secret == "" {
		return errNoSecret
	}
	if signature == "" {
		return fmt.Errorf("%w: missing signature", ErrInvalidSignature)
	}
	got, err := hex.DecodeString(signature)
	if err != nil || len(got) != sha1.Size {
		return fmt.Errorf("%w: malformed signature: want %d hex digits", ErrInvalidSignature, 2*sha1.Size)
	}
	if !hmac.Equal(got, webhookMAC(payload, secret)) {
		return fmt.Errorf("%w: signature does not match the body", ErrInvalidSignature)
	}
	return nil
}

// ParseWebhook reads a delivery: it refuses anything but a POST, reads at
// most MaxWebhookBytes of the body, verifies the X-Content-Signature header
// with secret (the application's client secret) before parsing anything,
// and decodes the event. Errors match ErrMethodNotAllowed,
// ErrWebhookTooLarge, ErrInvalidSignature or ErrMalformedWebhook; an empty
// secret is a configuration error matching none of them.
//
// An event names what changed, not its latest state: deliveries can arrive
// out of order or not at all, so treat one as a cue to re-read the
// resource through the API, and keep a periodic updated_since sync too.
func ParseWebhook(r *http.Request, secret string) (*WebhookEvent, error) {
	if r.Method != http.MethodPost {
		return nil, fmt.Errorf("%w: %s", ErrMethodNotAllowed, r.Method)
	}
	if secret == "" {
		return nil, errNoSecret
	}
	if r.ContentLength > MaxWebhookBytes {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrWebhookTooLarge, r.ContentLength, MaxWebhookBytes)
	}
	var body []byte
	if r.Body != nil {
		b, err := io.ReadAll(io.LimitReader(r.Body, MaxWebhookBytes+1))
		if err != nil {
			return nil, fmt.Errorf("%w: reading body: %w", ErrMalformedWebhook, err)
		}
		if len(b) > MaxWebhookBytes {
			return nil, fmt.Errorf("%w: over %d bytes", ErrWebhookTooLarge, MaxWebhookBytes)
		}
		body = b
	}
	if err := ValidateSignature(body, r.Header.Get(SignatureHeader), secret); err != nil {
		return nil, err
	}
	var w struct {
		AccountID flexInt         `json:"account_id"`
		Event     string          `json:"event"`
		Resource  json.RawMessage `json:"resource"`
	}
	if err := json.Unmarshal(body, &w); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformedWebhook, err)
	}
	if w.Event == "" {
		return nil, fmt.Errorf("%w: no event name", ErrMalformedWebhook)
	}
	if w.AccountID <= 0 {
		return nil, fmt.Errorf("%w: %s: no account_id", ErrMalformedWebhook, w.Event)
	}
	return &WebhookEvent{AccountID: int64(w.AccountID), Event: w.Event, Resource: w.Resource}, nil
}

// NewWebhookHandler returns an http.Handler that receives deliveries for an
// application with client secret secret and calls fn with each verified
// event. It answers 200 when fn returns nil; 500 when fn fails, so that
// BookingSync delivers again (fn must therefore tolerate a repeat); 405
// (with Allow: POST) for another method; 401 for a missing or wrong
// signature; 413 for a body over MaxWebhookBytes; 400 for a malformed one;
// and 500 when secret is empty or fn is nil. Response bodies are a few
// plain words: never the secret, the body or the expected signature.
//
// fn runs with the request's context, before the response is written:
// keep it short (record the event, queue a re-read) since the sender waits.
func NewWebhookHandler(secret string, fn func(context.Context, *WebhookEvent) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ev, err := ParseWebhook(r, secret)
		var status int
		switch {
		case errors.Is(err, ErrMethodNotAllowed):
			w.Header().Set("Allow", http.MethodPost)
			status = http.StatusMethodNotAllowed
		case errors.Is(err, ErrWebhookTooLarge):
			status = http.StatusRequestEntityTooLarge
		case errors.Is(err, ErrInvalidSignature):
			status = http.StatusUnauthorized
		case errors.Is(err, ErrMalformedWebhook):
			status = http.StatusBadRequest
		case err != nil || fn == nil:
			http.Error(w, "webhook receiver misconfigured", http.StatusInternalServerError)
			return
		default:
			if fn(r.Context(), ev) != nil {
				http.Error(w, "webhook processing failed", http.StatusInternalServerError)
				return
			}
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			io.WriteString(w, "ok\n")
			return
		}
		http.Error(w, strings.ToLower(http.StatusText(status)), status)
	})
}
