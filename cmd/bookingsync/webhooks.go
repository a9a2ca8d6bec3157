package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-bookingsync/bookingsync"
	"github.com/go-bookingsync/bookingsync/bookingsynctest"
)

var webhooksCommand = &command{
	name:    "webhooks",
	args:    "trigger EVENT --to URL [--secret S] [--account ID] [--id ID]",
	summary: "Send a signed webhook delivery to a receiver under test",
	help:    "Sends one delivery of a realistic payload for EVENT, signed as BookingSync\nsigns (X-Content-Signature). EVENT is one of:\n  " + strings.Join(eventNames, "\n  "),
	run:     runWebhooks,
}

// seededRecords names, for each resource a typed event carries (see
// bookingsync.EventResource), the fake's resource and the seeded record
// of bookingsynctest that stands in for it: by action where one record
// fits an action better (a canceled booking for booking_destroyed).
var seededRecords = map[string]struct {
	plural string
	id     map[string]int64 // by action; "" for any
}{
	"conversations":         {"conversations", map[string]int64{"created": bookingsynctest.BookingComConversationID, "": bookingsynctest.AirbnbConversationID}},
	"messages":              {"messages", map[string]int64{"": 3}},
	"bookings":              {"bookings", map[string]int64{"created": bookingsynctest.BookingComBookingID, "destroyed": bookingsynctest.CanceledBookingID, "": bookingsynctest.AirbnbBookingID}},
	"booking_comments":      {"booking_comments", map[string]int64{"": bookingsynctest.BookingCommentID}},
	"payments":              {"payments", map[string]int64{"": bookingsynctest.PaymentID}},
	"clients":               {"clients", map[string]int64{"": bookingsynctest.AirbnbClientID}},
	"rentals":               {"rentals", map[string]int64{"": bookingsynctest.OceanViewRentalID}},
	"inquiries":             {"inquiries", map[string]int64{"": bookingsynctest.InquiryID}},
	"reviews":               {"reviews", map[string]int64{"": bookingsynctest.ReviewID}},
	"review_replies":        {"review_replies", map[string]int64{"": 1}},
	"accounts":              {"accounts", map[string]int64{"": bookingsynctest.AccountID}},
	"accounts_applications": {"accounts_applications", map[string]int64{"": bookingsynctest.AccountID}},
}

// eventNames lists the events the command sends, in the documented order:
// every event the SDK types.
var eventNames = bookingsync.TypedEvents()

// seededRecord returns the fake's resource and record id for event.
func seededRecord(event string) (plural string, id int64, ok bool) {
	res, action, ok := bookingsync.EventResource(event)
	if !ok {
		return "", 0, false
	}
	r, ok := seededRecords[res]
	if !ok {
		return "", 0, false
	}
	if id, ok := r.id[action]; ok {
		return r.plural, id, true
	}
	return r.plural, r.id[""], true
}

func runWebhooks(ctx context.Context, c *cli, cmd *command, args []string) error {
	fs := flags(cmd)
	to := fs.String("to", "", "the receiver's URL (required)")
	secret := fs.String("secret", "", "the signing key, the application's client secret (default: $BOOKINGSYNC_CLIENT_SECRET)")
	account := fs.Int64("account", bookingsynctest.AccountID, "the account_id of the delivery")
	id := fs.Int64("id", 0, "the id of the record to send, among the fake's seeded ones (default: one fitting the event)")
	timeout := durationFlag(fs, "timeout", 10*time.Second, "how long (a `duration`) to wait for the receiver")
	pos, err := c.parse(cmd, fs, args, 2, 2)
	if err != nil {
		return err
	}
	if pos[0] != "trigger" {
		return usageError("webhooks: unknown subcommand %q (want trigger)", pos[0])
	}
	plural, seeded, ok := seededRecord(pos[1])
	if !ok {
		return usageError("webhooks: unknown event %q (want one of %s)", pos[1], strings.Join(eventNames, ", "))
	}
	if u, err := url.Parse(*to); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return usageError("webhooks: --to wants the receiver's http(s) URL")
	}
	*secret = cmp.Or(*secret, c.getenv("BOOKINGSYNC_CLIENT_SECRET"))
	if *secret == "" {
		return usageError("webhooks: --secret is required (or BOOKINGSYNC_CLIENT_SECRET)")
	}
	body, err := webhookBody(pos[1], plural, cmp.Or(*id, seeded), *account)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, *to, bytes.NewReader(body))
	if err != nil {
		return usageError("webhooks: %v", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "BookingSync Webhook Delivery")
	req.Header.Set(bookingsync.SignatureHeader, bookingsync.SignWebhook(body, *secret))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("delivering %s: %w", pos[1], err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("delivering %s: the receiver answered %s", pos[1], resp.Status)
	}
	fmt.Fprintf(c.stdout, "delivered %s (%d bytes): %s\n", pos[1], len(body), resp.Status)
	return nil
}

// webhookBody renders {"account_id", "event", "resource"} with the record
// as the API serializes it in a delivery, taken from an in-memory
// bookingsynctest server: the same wire format the fake speaks.
func webhookBody(event, plural string, id, account int64) ([]byte, error) {
	srv := bookingsynctest.NewServer()
	defer srv.Close()
	res := srv.Resource(plural, id)
	if res == nil {
		return nil, usageError("webhooks: the fake has no %s %d", strings.TrimSuffix(plural, "s"), id)
	}
	return json.Marshal(struct {
		AccountID int64  `json:"account_id"`
		Event     string `json:"event"`
		Resource  any    `json:"resource"`
	}{account, event, res})
}
