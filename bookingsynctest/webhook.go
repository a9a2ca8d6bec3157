package bookingsynctest

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"
)

// rubyBase64 writes b as Ruby's Base64.encode64 does: standard alphabet
// with padding, "\n" after every 60 output characters and at the end.
func rubyBase64(b []byte) string {
	enc := base64.StdEncoding.EncodeToString(b)
	var sb strings.Builder
	for len(enc) > 60 {
		sb.WriteString(enc[:60])
		sb.WriteByte('\n')
		enc = enc[60:]
	}
	if enc != "" {
		sb.WriteString(enc)
		sb.WriteByte('\n')
	}
	return sb.String()
}

// SignWebhook returns the X-Content-Signature the real API puts on a
// webhook body: lowercase hex HMAC-SHA1, keyed with secret, over Ruby's
// Base64.encode64 of the body.
func SignWebhook(body []byte, secret string) string {
	m := hmac.New(sha1.New, []byte(secret))
	m.Write([]byte(rubyBase64(body)))
	return hex.EncodeToString(m.Sum(nil))
}

func (s *Server) webhookSecret() string {
	if s.cfg.webhookSecret != nil {
		return *s.cfg.webhookSecret
	}
	return s.cfg.clientSecret
}

// hookClient delivers webhooks; a receiver that hangs cannot hold Close.
var hookClient = &http.Client{Timeout: 10 * time.Second}

// post sends one signed delivery and returns the receiver's status.
func (s *Server) post(ctx context.Context, url string, body []byte) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "BookingSync Webhook Delivery")
	req.Header.Set("X-Content-Signature", SignWebhook(body, s.webhookSecret()))
	resp, err := hookClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, nil
}

// SendWebhook POSTs {"account_id": <the account>, "event": event,
// "resource": resource} to url, signed as the real API signs deliveries.
// resource may be raw JSON ([]byte or json.RawMessage) or any value to
// marshal, typically one of the *Resource helpers. A non-2xx answer is an
// error.
func (a *Account) SendWebhook(ctx context.Context, url, event string, resource any) error {
	var res json.RawMessage
	switch v := resource.(type) {
	case json.RawMessage:
		res = v
	case []byte:
		res = v
	default:
		b, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("bookingsynctest: webhook resource: %w", err)
		}
		res = b
	}
	body, err := json.Marshal(map[string]any{"account_id": a.id, "event": event, "resource": res})
	if err != nil {
		return fmt.Errorf("bookingsynctest: webhook body: %w", err)
	}
	st, err := a.s.post(ctx, url, body)
	if err != nil {
		return err
	}
	if st < 200 || st > 299 {
		return fmt.Errorf("bookingsynctest: webhook answered %d %s", st, http.StatusText(st))
	}
	return nil
}

// WebhookDelivery is one delivery the account made to its webhook URL.
type WebhookDelivery struct {
	Event  string
	Body   []byte // the signed JSON body
	Status int    // the receiver's answer; 0 when it could not be reached
	Err    string // why it could not be reached
}

// SetWebhookURL makes the account deliver signed webhooks to url ("":
// stop), asynchronously and once each (no retries): the events of API
// writes (inbox_*, booking_comment_*), of the builders that add records
// (inbox_conversation_created, inbox_message_created, booking_created,
// client_created, rental_created, inquiry_created, payment_created,
// booking_comment_created, review_created, review_reply_created; a
// conversation hidden by AppearAfter or the seeded delay is announced
// when it appears), the updated event of a Touch and the destroyed event
// of a Delete, account_updated from SetStatus, and
// accounts_application_destroyed and _created from Uninstall and
// Reinstall. Participants, hosts and attachments send none (the reference
// lists no event for them).
func (a *Account) SetWebhookURL(url string) {
	a.webhookURLv.Store(url)
}

// WebhookDeliveries returns the account's finished deliveries, oldest
// first; FlushWebhooks waits for those in flight.
func (a *Account) WebhookDeliveries() []WebhookDelivery {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.deliveries)
}

// FlushWebhooks waits until every webhook delivery started so far, of
// every account, has finished.
func (s *Server) FlushWebhooks() { s.hooks.Wait() }

// hookPayload encodes a delivery's body, or returns nil when the account
// has no webhook URL. The caller holds a.mu when res shows a's records.
func (a *Account) hookPayload(event string, res obj) []byte {
	if a.hookURL() == "" {
		return nil
	}
	b, err := appendJSON(nil, obj{{"account_id", a.id}, {"event", event}, {"resource", res}})
	if err != nil {
		return nil
	}
	return b
}

// hookURL reads the webhook URL; the write path calls it with a.mu held,
// so it must not lock a.mu itself.
func (a *Account) hookURL() string { return a.webhookURLv.Load().(string) }

// deliver posts body to the account's webhook URL in the background.
func (a *Account) deliver(event string, body []byte) {
	url := a.hookURL()
	if body == nil || url == "" {
		return
	}
	s := a.s
	// A WaitGroup's Add must not race its Wait: a write answered while
	// Close runs starts no delivery (the server is going away).
	s.hookMu.Lock()
	if s.hookEnd {
		s.hookMu.Unlock()
		return
	}
	s.hooks.Add(1)
	s.hookMu.Unlock()
	go func() {
		defer s.hooks.Done()
		d := WebhookDelivery{Event: event, Body: body}
		st, err := s.post(context.Background(), url, body)
		d.Status = st
		if err != nil {
			d.Err = err.Error()
		}
		a.mu.Lock()
		a.deliveries = append(a.deliveries, d)
		a.mu.Unlock()
	}()
}

// Resource returns the webhook form of one of the account's records:
// {"links": {...}, "<singular>": {...}} (the reference's example uses the
// singular name with an object). plural is the API's resource name
// ("conversations", "messages", ...). For "accounts_applications" it
// returns the account's installation as GET /me shows it, whatever id is
// (the record has no id). It returns nil for an unknown record.
func (a *Account) Resource(plural string, id int64) any {
	k := kindsByPlural[plural]
	if plural == "accounts_applications" {
		return a.s.webhookResource(k, accountsApplication(a.id)).toMap()
	}
	if k == nil || k.table == nil {
		return nil
	}
	now := a.s.now()
	mu, d := a.s.home(k, a)
	mu.Lock()
	defer mu.Unlock()
	rec, ok := k.table(d).lookup(id)
	if !ok {
		return nil
	}
	return a.s.webhookResource(k, rec.render(d, &rctx{now: now.UnixNano(), url: a.s.URL, account: a.id, inbox: true})).toMap()
}

// ConversationResource is Resource("conversations", id).
func (a *Account) ConversationResource(id int64) any { return a.Resource("conversations", id) }

// MessageResource is Resource("messages", id).
func (a *Account) MessageResource(id int64) any { return a.Resource("messages", id) }

// ParticipantResource is Resource("participants", id).
func (a *Account) ParticipantResource(id int64) any { return a.Resource("participants", id) }

// BookingResource is Resource("bookings", id).
func (a *Account) BookingResource(id int64) any { return a.Resource("bookings", id) }
