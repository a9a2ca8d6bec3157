package bookingsync_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/go-bookingsync/bookingsync"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const testSecret = "b7c1e0f2a9d84e5f"

// kaBody is the body whose prefixes the known-answer vectors sign.
const kaBody = `{"account_id":1059638630,"event":"inbox_message_created","resource":{"links":{"messages.conversation":"https://www.bookingsync.com/api/v3/inbox/conversations/{messages.conversation}"},"messages":[{"id":5,"content":"Some content."}]}}`

const kaUnicode = `{"account_id":1,"event":"inbox_message_created","resource":{"message":{"id":7,"content":"Привет — ça va? 日本語 🏠"}}}`

func allBytes() []byte {
	b := make([]byte, 256)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}

// knownAnswers were computed outside Go, with Ruby 3.1 (the sender's own
// implementation):
//
//	OpenSSL::HMAC.hexdigest('sha1', secret, Base64.encode64(body))
//
// and cross-checked with Python 3:
//
//	e = base64.b64encode(body).decode()
//	msg = "".join(e[i:i+60] + "\n" for i in range(0, len(e), 60))
//	hmac.new(secret, msg.encode(), hashlib.sha1).hexdigest()
//
// 45 input bytes make one full 60-character line, so lengths 44/45/46,
// 89/90/91 and 134/135/136 straddle the line breaks.
var knownAnswers = []struct {
	name   string
	body   []byte
	secret string
	sig    string
}{
	{"empty", nil, testSecret, "c33c7867b894f25e59f8b79ac832e65400b63998"},
	{"1 byte", []byte(kaBody[:1]), testSecret, "074ea61b4ee462e1ee1d0f46dde058a8d50c2c36"},
	{"44 bytes", []byte(kaBody[:44]), testSecret, "12ec153fbdaac1d1688ed7ca932b7d8eed3eeb4c"},
	{"45 bytes", []byte(kaBody[:45]), testSecret, "e0ed8a193fe237439e02682927e73a2735af198f"},
	{"46 bytes", []byte(kaBody[:46]), testSecret, "08dff1e20b875fc9fc3b38cb320393adc9382232"},
	{"89 bytes", []byte(kaBody[:89]), testSecret, "33061647fa23829358eefe8b4c382f7913842535"},
	{"90 bytes", []byte(kaBody[:90]), testSecret, "a5d897b7bba52d9d81d8b523799a285096e84477"},
	{"91 bytes", []byte(kaBody[:91]), testSecret, "83f4d9bfeafa5fbbb58cd4b9cb8ab24868b90e62"},
	{"134 bytes", []byte(kaBody[:134]), testSecret, "5ac85b832ca5ee780044538c4d089965a1b6e217"},
	{"135 bytes", []byte(kaBody[:135]), testSecret, "bd9f8918d008d5fbc0ebe216ed5a2dc3b2de1dc7"},
	{"136 bytes", []byte(kaBody[:136]), testSecret, "3a0871c0b42e31abfce72340fc7af60800151f4d"},
	{"233 bytes", []byte(kaBody), testSecret, "1b31fc247a0874bff744435bcc8f67fd857ea8d9"},
	{"unicode 132 bytes", []byte(kaUnicode), testSecret, "ee61bc8d7a1f2502f825dc1905d6d9e67c4cdba7"},
	{"unicode 45 bytes", []byte(strings.Repeat("é", 22) + "a"), testSecret, "060e023559bea314094e45cdc986a966f08a53d6"},
	{"unicode 90 bytes", []byte(strings.Repeat("日本語", 10)), testSecret, "340ca8a1538f291eed2d21ff9e2525c9796757b2"},
	{"bytes 0-255", allBytes(), testSecret, "53a1a3149ca991fa00375480d9d54456c3524499"},
	{"unicode secret", []byte(kaUnicode), "sécret🔑", "3fb53a3c35108cb4ff1a349e77a9d0c38e2abcbb"},
}

func TestValidateSignatureKnownAnswers(t *testing.T) {
	t.Parallel()
	for _, ka := range knownAnswers {
		t.Run(ka.name, func(t *testing.T) {
			assert.NoError(t, bookingsync.ValidateSignature(ka.body, ka.sig, ka.secret), "ValidateSignature")
			got := bookingsync.SignWebhook(ka.body, ka.secret)
			assert.EqualValues(t, ka.sig, got, "SignWebhook = %s, want %s", got, ka.sig)
			got = refSign(ka.body, ka.secret)
			assert.EqualValues(t, ka.sig, got, "test reference signer = %s, want %s", got, ka.sig)
			// Hex digits in upper case name the same MAC.
			assert.NoError(t, bookingsync.ValidateSignature(ka.body, strings.ToUpper(ka.sig), ka.secret), "upper-case signature")
		})
	}
}

func TestValidateSignatureRejects(t *testing.T) {
	t.Parallel()
	for _, ka := range knownAnswers {
		t.Run(ka.name, func(t *testing.T) {
			// Every single flipped bit of the body, and a byte appended.
			for i := range ka.body {
				for bit := range 8 {
					b := bytes.Clone(ka.body)
					b[i] ^= 1 << bit
					wantInvalid(t, bookingsync.ValidateSignature(b, ka.sig, ka.secret), "does not match")
				}
			}
			wantInvalid(t, bookingsync.ValidateSignature(append(bytes.Clone(ka.body), '\n'), ka.sig, ka.secret), "does not match")
			wantInvalid(t, bookingsync.ValidateSignature(ka.body, ka.sig, ka.secret+"x"), "does not match")
			// A tampered signature.
			s := []byte(ka.sig)
			if s[0] == '0' {
				s[0] = '1'
			} else {
				s[0] = '0'
			}
			wantInvalid(t, bookingsync.ValidateSignature(ka.body, string(s), ka.secret), "does not match")
		})
	}
}

func TestValidateSignatureMalformed(t *testing.T) {
	t.Parallel()
	body := []byte(kaBody)
	const good = "1b31fc247a0874bff744435bcc8f67fd857ea8d9" // knownAnswers "233 bytes"
	require.NoError(t, bookingsync.ValidateSignature(body, good, testSecret), "setup")
	wantInvalid(t, bookingsync.ValidateSignature(body, "", testSecret), "missing")
	for _, sig := range []string{
		"nothex", good[:39], good[:38], good + "00", "sha1=" + good, " " + good,
		base64.StdEncoding.EncodeToString([]byte(good[:20])),
	} {
		wantInvalid(t, bookingsync.ValidateSignature(body, sig, testSecret), "malformed")
	}
	// HMAC-SHA1 of the raw body, without the Base64 step, is well formed but
	// wrong.
	mac := hmac.New(sha1.New, []byte(testSecret))
	mac.Write(body)
	wantInvalid(t, bookingsync.ValidateSignature(body, hex.EncodeToString(mac.Sum(nil)), testSecret), "does not match")

	err := bookingsync.ValidateSignature(body, good, "")
	assert.Error(t, err, "empty secret")
	assert.NotErrorIs(t, err, bookingsync.ErrInvalidSignature, "empty secret is a configuration error")
}

// wantInvalid checks that err is an ErrInvalidSignature giving reason and
// revealing neither the secret nor any signature.
func wantInvalid(t *testing.T, err error, reason string) {
	t.Helper()
	require.ErrorIs(t, err, bookingsync.ErrInvalidSignature, "got %v, want ErrInvalidSignature", err)
	msg := err.Error()
	assert.Contains(t, msg, reason, "error %q does not say %q", msg, reason)
	for _, ka := range knownAnswers {
		require.False(t, strings.Contains(msg, ka.secret), "error %q reveals a secret", msg)
		require.False(t, strings.Contains(strings.ToLower(msg), ka.sig), "error %q reveals a signature", msg)
	}
}

// refSign signs the way Ruby's Array#pack("m") builds Base64.encode64:
// one line per 45 input bytes. It is written independently of the
// package's implementation, which wraps the encoded text every 60
// characters.
func refSign(body []byte, secret string) string {
	var msg []byte
	for len(body) > 0 {
		n := min(45, len(body))
		msg = append(msg, base64.StdEncoding.EncodeToString(body[:n])+"\n"...)
		body = body[n:]
	}
	mac := hmac.New(sha1.New, []byte(secret))
	mac.Write(msg)
	return hex.EncodeToString(mac.Sum(nil))
}

// delivery builds a POST as BookingSync sends it, signed with secret.
func delivery(body, secret string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/webhooks", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("User-Agent", "BookingSync Webhook Delivery")
	r.Header.Set(bookingsync.SignatureHeader, refSign([]byte(body), secret))
	return r
}

// The reference's own example: the singular name with an object.
const messageCreated = `{"account_id": 1059638630, "event": "inbox_message_created", "resource": {
  "links": {"messages.conversation": "https://www.bookingsync.com/api/v3/inbox/conversations/{messages.conversation}"},
  "message": {"links": {"attachments": [], "conversation": 7, "sender": 5}, "channel": null,
    "content": "Some content.", "created_at": "2018-12-21T09:21:52Z", "id": 5, "origin": "email",
    "sent_at": null, "updated_at": "2018-12-21T09:21:52Z", "visibility": "external"}}}`

func TestParseWebhook(t *testing.T) {
	t.Parallel()
	ev, err := bookingsync.ParseWebhook(delivery(messageCreated, testSecret), testSecret)
	require.NoError(t, err)
	assert.EqualValues(t, 1059638630, ev.AccountID)
	assert.Equal(t, bookingsync.EventInboxMessageCreated, ev.Event)
	m, err := ev.Message()
	require.NoError(t, err)
	assert.EqualValues(t, 5, m.ID)
	assert.Equal(t, "Some content.", m.Content)
	assert.EqualValues(t, 7, m.Links.Conversation)
	require.NotNil(t, m.Links.Sender)
	assert.EqualValues(t, 5, *m.Links.Sender)
	_, err = ev.Conversation()
	assert.ErrorIs(t, err, bookingsync.ErrWrongEventKind, "Conversation on a message event: got %v, want ErrWrongEventKind", err)

	// account_id as a string, an event name the SDK does not know.
	ev, err = bookingsync.ParseWebhook(delivery(`{"account_id":"12","event":"rental_created","resource":{"rental":{"id":1}}}`, testSecret), testSecret)
	require.NoError(t, err)
	assert.EqualValues(t, 12, ev.AccountID)
	assert.EqualValues(t, "rental_created", ev.Event)
	assert.Equal(t, `{"rental":{"id":1}}`, string(ev.Resource))
}

func TestParseWebhookErrors(t *testing.T) {
	t.Parallel()
	over := strings.Repeat(" ", bookingsync.MaxWebhookBytes) + "{}"
	atLimit := `{"account_id":1,"event":"x","resource":{}}`
	atLimit += strings.Repeat(" ", bookingsync.MaxWebhookBytes-len(atLimit))

	tests := []struct {
		name string
		req  func() *http.Request
		want error
	}{
		{"GET", func() *http.Request {
			r := delivery(messageCreated, testSecret)
			r.Method = http.MethodGet
			return r
		}, bookingsync.ErrMethodNotAllowed},
		{"missing signature", func() *http.Request {
			r := delivery(messageCreated, testSecret)
			r.Header.Del(bookingsync.SignatureHeader)
			return r
		}, bookingsync.ErrInvalidSignature},
		{"wrong secret", func() *http.Request { return delivery(messageCreated, "another") }, bookingsync.ErrInvalidSignature},
		{"tampered body", func() *http.Request {
			r := delivery(messageCreated, testSecret)
			r.Body = io.NopCloser(strings.NewReader(strings.Replace(messageCreated, "1059638630", "1059638631", 1)))
			return r
		}, bookingsync.ErrInvalidSignature},
		// The signature is checked before the body is parsed.
		{"unsigned garbage", func() *http.Request {
			r := delivery("not json", testSecret)
			r.Header.Set(bookingsync.SignatureHeader, strings.Repeat("0", 40))
			return r
		}, bookingsync.ErrInvalidSignature},
		{"signed garbage", func() *http.Request { return delivery("not json", testSecret) }, bookingsync.ErrMalformedWebhook},
		{"signed empty body", func() *http.Request { return delivery("", testSecret) }, bookingsync.ErrMalformedWebhook},
		{"signed array", func() *http.Request { return delivery(`[{"event":"x"}]`, testSecret) }, bookingsync.ErrMalformedWebhook},
		{"signed null", func() *http.Request { return delivery(`null`, testSecret) }, bookingsync.ErrMalformedWebhook},
		{"trailing data", func() *http.Request { return delivery(messageCreated+"{}", testSecret) }, bookingsync.ErrMalformedWebhook},
		{"no event", func() *http.Request { return delivery(`{"account_id":1,"resource":{}}`, testSecret) }, bookingsync.ErrMalformedWebhook},
		{"no account", func() *http.Request { return delivery(`{"event":"booking_created","resource":{}}`, testSecret) }, bookingsync.ErrMalformedWebhook},
		{"account not a number", func() *http.Request {
			return delivery(`{"account_id":"one","event":"booking_created","resource":{}}`, testSecret)
		}, bookingsync.ErrMalformedWebhook},
		{"too large", func() *http.Request { return delivery(over, testSecret) }, bookingsync.ErrWebhookTooLarge},
		{"too large, no Content-Length", func() *http.Request {
			r := delivery(over, testSecret)
			r.ContentLength = -1
			r.Body = io.NopCloser(strings.NewReader(over)) // not a *strings.Reader: length unknown
			return r
		}, bookingsync.ErrWebhookTooLarge},
		{"lying Content-Length", func() *http.Request {
			r := delivery(over, testSecret)
			r.ContentLength = 10
			return r
		}, bookingsync.ErrWebhookTooLarge},
		// A declared oversize is refused without reading the body.
		{"Content-Length over the limit", func() *http.Request {
			r := delivery(messageCreated, testSecret)
			r.ContentLength = bookingsync.MaxWebhookBytes + 1
			r.Body = io.NopCloser(errReader{})
			return r
		}, bookingsync.ErrWebhookTooLarge},
		{"body read error", func() *http.Request {
			r := delivery(messageCreated, testSecret)
			r.Body = io.NopCloser(io.MultiReader(strings.NewReader("{"), errReader{}))
			return r
		}, bookingsync.ErrMalformedWebhook},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := bookingsync.ParseWebhook(tt.req(), testSecret)
			require.ErrorIs(t, err, tt.want)
			require.Nil(t, ev)
			assert.NotContains(t, err.Error(), testSecret, "error %q reveals the secret", err)
		})
	}

	// Exactly MaxWebhookBytes is accepted.
	_, err := bookingsync.ParseWebhook(delivery(atLimit, testSecret), testSecret)
	assert.NoError(t, err, "body of exactly MaxWebhookBytes: %v", err)
	// An empty secret is a configuration error, not a bad delivery.
	_, err = bookingsync.ParseWebhook(delivery(messageCreated, testSecret), "")
	assert.Error(t, err, "empty secret")
	assert.NotErrorIs(t, err, bookingsync.ErrInvalidSignature, "empty secret is a configuration error")
	assert.NotErrorIs(t, err, bookingsync.ErrMalformedWebhook, "empty secret is a configuration error")
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("connection reset") }

func readFixture(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return string(b)
}

func event(name, resource string) *bookingsync.WebhookEvent {
	return &bookingsync.WebhookEvent{AccountID: 1, Event: name, Resource: []byte(resource)}
}

func TestWebhookAccessorShapes(t *testing.T) {
	t.Parallel()
	conv := `{"id": 5, "subject": "Hello", "links": {"account": 1, "bookings": [9]}}`
	good := map[string]string{
		"singular object":    `{"links": {}, "conversation": ` + conv + `}`,
		"plural array":       `{"links": {}, "conversations": [` + conv + `], "meta": {}}`,
		"singular array":     `{"conversation": [` + conv + `]}`,
		"plural object":      `{"conversations": ` + conv + `}`,
		"bare record":        conv,
		"API fixture plural": readFixture(t, "testdata/conversations/inbox_read-inbox_write-scope-response.json"),
	}
	for name, res := range good {
		t.Run(name, func(t *testing.T) {
			for _, kind := range []string{bookingsync.EventInboxConversationCreated, bookingsync.EventInboxConversationUpdated} {
				c, err := event(kind, res).Conversation()
				require.NoError(t, err)
				assert.EqualValues(t, 5, c.ID, "id = %d", c.ID)
				if name != "API fixture plural" {
					assert.Equal(t, "Hello", c.Subject)
					require.Len(t, c.Links.Bookings, 1)
					assert.EqualValues(t, 9, c.Links.Bookings[0])
				}
			}
		})
	}

	bad := map[string]string{
		"two records":         `{"conversations": [` + conv + `,` + conv + `]}`,
		"no records":          `{"conversations": []}`,
		"both names":          `{"conversation": ` + conv + `, "conversations": [` + conv + `]}`,
		"envelope without it": `{"links": {}, "meta": {}}`,
		"another resource":    `{"messages": [{"id": 5}]}`,
		"null record":         `{"conversation": null}`,
		"null in array":       `{"conversations": [null]}`,
		"string record":       `{"conversation": "5"}`,
		"wrong field type":    `{"conversation": {"id": "five"}}`,
		"null resource":       `null`,
		"missing resource":    ``,
		"resource a string":   `"conversation"`,
		"resource an array":   `[` + conv + `]`,
		"not JSON":            `{"conversation": `,
	}
	for name, res := range bad {
		t.Run(name, func(t *testing.T) {
			c, err := event(bookingsync.EventInboxConversationUpdated, res).Conversation()
			assert.ErrorIs(t, err, bookingsync.ErrMalformedWebhook)
			assert.Nil(t, c)
		})
	}

	var nilEvent *bookingsync.WebhookEvent
	_, err := nilEvent.Message()
	assert.ErrorIs(t, err, bookingsync.ErrMalformedWebhook, "nil event: %v", err)
}

func TestWebhookAccessorKinds(t *testing.T) {
	t.Parallel()
	res := `{"id": 65, "name": "Airbnb", "content": "hi", "subject": "s"}`
	accessors := map[string]func(*bookingsync.WebhookEvent) error{
		"Conversation": func(e *bookingsync.WebhookEvent) error { _, err := e.Conversation(); return err },
		"Message":      func(e *bookingsync.WebhookEvent) error { _, err := e.Message(); return err },
		"Application":  func(e *bookingsync.WebhookEvent) error { _, err := e.Application(); return err },
		"Booking":      func(e *bookingsync.WebhookEvent) error { _, err := e.Booking(); return err },
	}
	owner := map[string]string{
		bookingsync.EventInboxConversationCreated: "Conversation",
		bookingsync.EventInboxConversationUpdated: "Conversation",
		bookingsync.EventInboxMessageCreated:      "Message",
		bookingsync.EventInboxMessageUpdated:      "Message",
		bookingsync.EventApplicationCreated:       "Application",
		bookingsync.EventApplicationUpdated:       "Application",
		bookingsync.EventApplicationDestroyed:     "Application",
		bookingsync.EventBookingCreated:           "Booking",
		bookingsync.EventBookingUpdated:           "Booking",
		bookingsync.EventBookingDestroyed:         "Booking",
		"rental_created":                          "",
	}
	for kind, want := range owner {
		for name, get := range accessors {
			err := get(event(kind, res))
			if name == want {
				assert.NoError(t, err, "%s on %s", name, kind)
				continue
			}
			assert.ErrorIs(t, err, bookingsync.ErrWrongEventKind, "%s on %s", name, kind)
			assert.ErrorContains(t, err, kind, "%s on %s: the error names the event", name, kind)
		}
	}

	a, err := event(bookingsync.EventApplicationUpdated, readFixture(t, "testdata/applications/applications_read-scope-response.json")).Application()
	require.NoError(t, err, "application from the API fixture")
	assert.EqualValues(t, 65, a.ID)
	assert.Equal(t, "Airbnb", a.Name)
}

func TestWebhookHandler(t *testing.T) {
	t.Parallel()
	var got []*bookingsync.WebhookEvent
	fail := false
	type ctxKey struct{}
	h := bookingsync.NewWebhookHandler(testSecret, func(ctx context.Context, ev *bookingsync.WebhookEvent) error {
		assert.EqualValues(t, "request", ctx.Value(ctxKey{}), "callback does not get the request's context")
		got = append(got, ev)
		if fail {
			return errors.New("database down: password=hunter2")
		}
		return nil
	})
	serve := func(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, "request")))
		return w
	}

	tests := []struct {
		name   string
		req    func() *http.Request
		status int
	}{
		{"good", func() *http.Request { return delivery(messageCreated, testSecret) }, 200},
		{"GET", func() *http.Request { r := delivery(messageCreated, testSecret); r.Method = "GET"; return r }, 405},
		{"PUT", func() *http.Request { r := delivery(messageCreated, testSecret); r.Method = "PUT"; return r }, 405},
		{"missing signature", func() *http.Request {
			r := delivery(messageCreated, testSecret)
			r.Header.Del(bookingsync.SignatureHeader)
			return r
		}, 401},
		{"wrong secret", func() *http.Request { return delivery(messageCreated, "not the secret") }, 401},
		{"malformed signature", func() *http.Request {
			r := delivery(messageCreated, testSecret)
			r.Header.Set(bookingsync.SignatureHeader, "sha1=abc")
			return r
		}, 401},
		{"malformed body", func() *http.Request { return delivery(`{"event":`, testSecret) }, 400},
		{"oversized", func() *http.Request {
			return delivery(strings.Repeat("x", bookingsync.MaxWebhookBytes+1), testSecret)
		}, 413},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got = nil
			r := tt.req()
			sig := r.Header.Get(bookingsync.SignatureHeader)
			w := serve(h, r)
			require.EqualValues(t, tt.status, w.Code, "status %d, want %d (body %q)", w.Code, tt.status, w.Body)
			assert.EqualValues(t, (len(got) == 1), (tt.status == 200), "callback called %d times", len(got))
			if tt.status == 405 {
				assert.Equal(t, "POST", w.Header().Get("Allow"))
			}
			checkQuietResponse(t, w, sig)
		})
	}

	t.Run("callback fails", func(t *testing.T) {
		fail, got = true, nil
		defer func() { fail = false }()
		w := serve(h, delivery(messageCreated, testSecret))
		require.Equal(t, 500, w.Code)
		require.Len(t, got, 1, "calls")
		assert.NotContains(t, w.Body.String(), "hunter2", "response %q echoes the callback's error", w.Body)
		checkQuietResponse(t, w, "")
	})
	t.Run("empty secret", func(t *testing.T) {
		w := serve(bookingsync.NewWebhookHandler("", func(context.Context, *bookingsync.WebhookEvent) error {
			assert.Fail(t, "callback called without a secret")
			return nil
		}), delivery(messageCreated, ""))
		assert.EqualValues(t, 500, w.Code, "status %d, want 500", w.Code)
	})
	t.Run("nil callback", func(t *testing.T) {
		w := serve(bookingsync.NewWebhookHandler(testSecret, nil), delivery(messageCreated, testSecret))
		assert.EqualValues(t, 500, w.Code, "status %d, want 500", w.Code)
	})
}

// checkQuietResponse checks that a response is short plain text, echoing
// neither the secret nor the signature nor the body.
func checkQuietResponse(t *testing.T, w *httptest.ResponseRecorder, sig string) {
	t.Helper()
	body := w.Body.String()
	assert.LessOrEqual(t, len(body), 64, "response %q is not short", body)
	assert.True(t, strings.HasPrefix(w.Header().Get("Content-Type"), "text/plain"), "response Content-Type %q is not plain text", w.Header().Get("Content-Type"))
	for _, leak := range []string{testSecret, "Some content", "1059638630", "xxxx", "{"} {
		assert.NotContains(t, body, leak, "response %q echoes %q", body, leak)
	}
	assert.False(t, sig != "" && strings.Contains(body, sig), "response %q echoes the signature", body)
}

// A real round trip over loopback HTTP, as BookingSync delivers.
func TestWebhookHandlerOverHTTP(t *testing.T) {
	t.Parallel()
	events := make(chan *bookingsync.WebhookEvent, 1)
	srv := httptest.NewServer(bookingsync.NewWebhookHandler(testSecret, func(_ context.Context, ev *bookingsync.WebhookEvent) error {
		events <- ev
		return nil
	}))
	defer srv.Close()
	req, err := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(kaUnicode))
	require.NoError(t, err)
	req.Header.Set(bookingsync.SignatureHeader, "ee61bc8d7a1f2502f825dc1905d6d9e67c4cdba7") // knownAnswers "unicode 132 bytes"
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.EqualValues(t, 200, resp.StatusCode, "status %d", resp.StatusCode)
	m, err := (<-events).Message()
	require.NoError(t, err)
	assert.EqualValues(t, 7, m.ID)
	assert.Equal(t, "Привет — ça va? 日本語 🏠", m.Content)
}

func FuzzValidateSignature(f *testing.F) {
	for _, ka := range knownAnswers {
		f.Add(ka.body, ka.secret, ka.sig)
	}
	f.Add([]byte("x"), "s", "")
	f.Add([]byte{}, "", "zz")
	f.Fuzz(func(t *testing.T, payload []byte, secret, sig string) {
		err := bookingsync.ValidateSignature(payload, sig, secret)
		if secret == "" {
			require.Error(t, err, "validated with an empty secret")
			return
		}
		want := refSign(payload, secret)
		require.EqualValues(t, strings.EqualFold(sig, want), (err == nil), "ValidateSignature(%q, %q) = %v; reference signature %s", payload, sig, err, want)
		got := bookingsync.SignWebhook(payload, secret)
		require.EqualValues(t, want, got, "SignWebhook = %s, reference %s", got, want)
		require.NoError(t, bookingsync.ValidateSignature(payload, want, secret), "a signature computed with the secret does not validate")
	})
}

func FuzzParseWebhook(f *testing.F) {
	f.Add([]byte(messageCreated), "")
	f.Add([]byte(kaUnicode), "")
	f.Add([]byte(`{"account_id":"7","event":"inbox_conversation_updated","resource":{"conversations":[{"id":1}]}}`), "")
	f.Add([]byte(`{"account_id":7,"event":"accounts_application_created","resource":{"id":1}}`), "")
	f.Add([]byte(`not json`), strings.Repeat("0", 40))
	f.Fuzz(func(t *testing.T, body []byte, sig string) {
		signed := sig == ""
		if signed {
			sig = refSign(body, testSecret)
		}
		r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		r.Header.Set(bookingsync.SignatureHeader, sig)
		ev, err := bookingsync.ParseWebhook(r, testSecret)
		if signed {
			require.NotErrorIs(t, err, bookingsync.ErrInvalidSignature, "correctly signed body rejected")
		}
		if err != nil {
			require.Nil(t, ev, "event with an error")
			require.False(t, !errors.Is(err, bookingsync.ErrInvalidSignature) && !errors.Is(err, bookingsync.ErrMalformedWebhook), "unexpected error kind: %v", err)
			return
		}
		require.True(t, strings.EqualFold(sig, refSign(body, testSecret)), "accepted a body with a wrong signature %q", sig)
		require.NotEmpty(t, ev.Event, "accepted an event without a name: %+v", ev)
		require.Positive(t, ev.AccountID, "accepted an event without an account: %+v", ev)
		// The accessors never panic; each fails with a typed error or succeeds.
		for _, err := range []error{
			func() error { _, err := ev.Conversation(); return err }(),
			func() error { _, err := ev.Message(); return err }(),
			func() error { _, err := ev.Application(); return err }(),
		} {
			require.False(t, err != nil && !errors.Is(err, bookingsync.ErrWrongEventKind) && !errors.Is(err, bookingsync.ErrMalformedWebhook), "accessor: untyped error %v", err)
		}
	})
}
