package main

import (
	"context"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/go-bookingsync/bookingsync"
)

// TestWebhooksTriggerEveryEvent delivers each event to the SDK's own
// receiver, which checks the signature, and decodes its resource.
func TestWebhooksTriggerEveryEvent(t *testing.T) {
	const secret = "receiver-secret"
	var mu sync.Mutex
	got := map[string]*bookingsync.WebhookEvent{}
	recv := httptest.NewServer(bookingsync.NewWebhookHandler(secret, func(_ context.Context, e *bookingsync.WebhookEvent) error {
		mu.Lock()
		got[e.Event] = e
		mu.Unlock()
		return nil
	}))
	defer recv.Close()
	for _, event := range eventNames {
		r := run(t, nil, "", "webhooks", "trigger", event, "--to", recv.URL, "--secret", secret, "--account", "1059638630")
		wantCode(t, r, exitOK)
		if !strings.HasPrefix(r.stdout, "delivered "+event) {
			t.Errorf("stdout %q", r.stdout)
		}
		mu.Lock()
		e := got[event]
		mu.Unlock()
		if e == nil || e.AccountID != 1059638630 {
			t.Fatalf("%s: received %+v", event, e)
		}
		var id int64
		var err error
		switch ev := webhookEvents[event]; ev.plural {
		case "conversations":
			var c *bookingsync.Conversation
			if c, err = e.Conversation(); err == nil {
				id = c.ID
			}
		case "messages":
			var m *bookingsync.Message
			if m, err = e.Message(); err == nil {
				id = m.ID
			}
		case "bookings":
			var b *bookingsync.Booking
			if b, err = e.Booking(); err == nil {
				id = b.ID
			}
		case "applications":
			var a *bookingsync.Application
			if a, err = e.Application(); err == nil {
				id = a.ID
			}
		}
		if err != nil || id != webhookEvents[event].id {
			t.Errorf("%s: decoded id %d, %v; want %d", event, id, err, webhookEvents[event].id)
		}
	}
}

func TestWebhooksTriggerWrongSecretIsRefused(t *testing.T) {
	recv := httptest.NewServer(bookingsync.NewWebhookHandler("right", func(context.Context, *bookingsync.WebhookEvent) error { return nil }))
	defer recv.Close()
	r := run(t, nil, "", "webhooks", "trigger", "inbox_message_created", "--to", recv.URL, "--secret", "wrong")
	wantCode(t, r, exitError)
	if !strings.HasPrefix(r.stderr, "bookingsync: error: delivering inbox_message_created: the receiver answered 401") {
		t.Errorf("stderr %q", r.stderr)
	}
	r = run(t, env{"BOOKINGSYNC_CLIENT_SECRET": "right"}, "", "webhooks", "trigger", "inbox_message_created", "--to", recv.URL)
	wantCode(t, r, exitOK)
	r = run(t, nil, "", "webhooks", "trigger", "inbox_message_created", "--to", recv.URL)
	wantCode(t, r, exitUsage)
}
