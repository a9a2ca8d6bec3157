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
	"strings"
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

// SendWebhook POSTs {"account_id": 1, "event": event, "resource": resource}
// to url, signed as the real API signs deliveries. resource may be raw JSON
// ([]byte or json.RawMessage) or any value to marshal, typically one of the
// *Resource helpers. A non-2xx answer is an error.
func (s *Server) SendWebhook(ctx context.Context, url, event string, resource any) error {
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
	body, err := json.Marshal(map[string]any{"account_id": AccountID, "event": event, "resource": res})
	if err != nil {
		return fmt.Errorf("bookingsynctest: webhook body: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "BookingSync Webhook Delivery")
	req.Header.Set("X-Content-Signature", SignWebhook(body, s.webhookSecret()))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("bookingsynctest: webhook answered %s", resp.Status)
	}
	return nil
}

// Resource returns the webhook form of a record: {"links": {...},
// "<singular>": {...}} (the reference's example uses the singular name with
// an object). plural is the API's resource name ("conversations",
// "messages", ...). It returns nil for an unknown record.
func (s *Server) Resource(plural string, id int64) any {
	k := kindsByPlural[plural]
	if k == nil {
		return nil
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, ok := k.table(&s.db).lookup(id)
	if !ok {
		return nil
	}
	out := map[string]any{k.singular: rec.render(&s.db, &rctx{now: now.UnixNano(), url: s.URL}).toMap()}
	if tl := s.linkTemplates(k, false); tl != nil {
		out["links"] = tl.toMap()
	}
	return out
}

// ConversationResource is Resource("conversations", id).
func (s *Server) ConversationResource(id int64) any { return s.Resource("conversations", id) }

// MessageResource is Resource("messages", id).
func (s *Server) MessageResource(id int64) any { return s.Resource("messages", id) }

// ParticipantResource is Resource("participants", id).
func (s *Server) ParticipantResource(id int64) any { return s.Resource("participants", id) }

// BookingResource is Resource("bookings", id).
func (s *Server) BookingResource(id int64) any { return s.Resource("bookings", id) }
