package main

import (
	"context"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/go-bookingsync/bookingsync"
	"github.com/go-bookingsync/bookingsync/bookingsynctest"
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
		_, want, _ := seededRecord(event)
		switch res, _, _ := bookingsync.EventResource(event); res {
		case "review_replies":
			// A review reply's id is a UUID: RecordID cannot give it.
			if r, err := e.ReviewReply(); err != nil || r.ID == "" {
				t.Errorf("%s: decoded %+v, %v", event, r, err)
			}
			continue
		case "accounts_applications":
			// The installation has no id of its own: it names its account.
			if m, err := e.AccountsApplication(); err != nil || m.AccountID != bookingsynctest.AccountID {
				t.Errorf("%s: decoded %+v, %v", event, m, err)
			}
			continue
		}
		if id, err := e.RecordID(); err != nil || id != want {
			t.Errorf("%s: decoded id %d, %v; want %d", event, id, err, want)
		}
	}
	if len(got) != len(bookingsync.TypedEvents()) {
		t.Errorf("received %d events; the SDK types %d", len(got), len(bookingsync.TypedEvents()))
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
