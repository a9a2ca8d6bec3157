package bookingsync_test

import (
	"context"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"

	"github.com/go-bookingsync/bookingsync"
	"github.com/go-bookingsync/bookingsync/bookingsynctest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// typedEvents are the events of the resources the package reads, by the
// resource EventResource names.
var typedEvents = map[string][]string{
	"conversations":         {bookingsync.EventInboxConversationCreated, bookingsync.EventInboxConversationUpdated},
	"messages":              {bookingsync.EventInboxMessageCreated, bookingsync.EventInboxMessageUpdated},
	"bookings":              {bookingsync.EventBookingCreated, bookingsync.EventBookingUpdated, bookingsync.EventBookingDestroyed},
	"booking_comments":      {bookingsync.EventBookingCommentCreated, bookingsync.EventBookingCommentUpdated, bookingsync.EventBookingCommentDestroyed},
	"payments":              {bookingsync.EventPaymentCreated, bookingsync.EventPaymentUpdated, bookingsync.EventPaymentDestroyed},
	"clients":               {bookingsync.EventClientCreated, bookingsync.EventClientUpdated, bookingsync.EventClientDestroyed},
	"rentals":               {bookingsync.EventRentalCreated, bookingsync.EventRentalUpdated, bookingsync.EventRentalDestroyed},
	"inquiries":             {bookingsync.EventInquiryCreated, bookingsync.EventInquiryUpdated, bookingsync.EventInquiryDestroyed},
	"reviews":               {bookingsync.EventReviewCreated, bookingsync.EventReviewUpdated},
	"review_replies":        {bookingsync.EventReviewReplyCreated},
	"accounts":              {bookingsync.EventAccountUpdated, bookingsync.EventAccountDestroyed},
	"accounts_applications": {bookingsync.EventApplicationCreated, bookingsync.EventApplicationUpdated, bookingsync.EventApplicationDestroyed},
}

// accessorOf decodes an event with the typed accessor of its resource and
// returns the record's id as text.
var accessorOf = map[string]func(*bookingsync.WebhookEvent) (any, error){
	"conversations":    func(e *bookingsync.WebhookEvent) (any, error) { v, err := e.Conversation(); return idOf(v, err) },
	"messages":         func(e *bookingsync.WebhookEvent) (any, error) { v, err := e.Message(); return idOf(v, err) },
	"bookings":         func(e *bookingsync.WebhookEvent) (any, error) { v, err := e.Booking(); return idOf(v, err) },
	"booking_comments": func(e *bookingsync.WebhookEvent) (any, error) { v, err := e.BookingComment(); return idOf(v, err) },
	"payments":         func(e *bookingsync.WebhookEvent) (any, error) { v, err := e.Payment(); return idOf(v, err) },
	"clients":          func(e *bookingsync.WebhookEvent) (any, error) { v, err := e.Guest(); return idOf(v, err) },
	"rentals":          func(e *bookingsync.WebhookEvent) (any, error) { v, err := e.Rental(); return idOf(v, err) },
	"inquiries":        func(e *bookingsync.WebhookEvent) (any, error) { v, err := e.Inquiry(); return idOf(v, err) },
	"reviews":          func(e *bookingsync.WebhookEvent) (any, error) { v, err := e.Review(); return idOf(v, err) },
	"review_replies":   func(e *bookingsync.WebhookEvent) (any, error) { v, err := e.ReviewReply(); return idOf(v, err) },
	"accounts":         func(e *bookingsync.WebhookEvent) (any, error) { v, err := e.Account(); return idOf(v, err) },
	"accounts_applications": func(e *bookingsync.WebhookEvent) (any, error) {
		v, err := e.AccountsApplication()
		if err != nil {
			return nil, err
		}
		return v.AccountID, nil
	},
}

// idOf reads the ID field of any decoded record.
func idOf[T any](v *T, err error) (any, error) {
	if err != nil {
		return nil, err
	}
	switch r := any(v).(type) {
	case *bookingsync.Conversation:
		return r.ID, nil
	case *bookingsync.Message:
		return r.ID, nil
	case *bookingsync.Booking:
		return r.ID, nil
	case *bookingsync.BookingComment:
		return r.ID, nil
	case *bookingsync.Payment:
		return r.ID, nil
	case *bookingsync.Guest:
		return r.ID, nil
	case *bookingsync.Rental:
		return r.ID, nil
	case *bookingsync.Inquiry:
		return r.ID, nil
	case *bookingsync.Review:
		return r.ID, nil
	case *bookingsync.ReviewReply:
		return r.ID, nil
	case *bookingsync.Account:
		return r.ID, nil
	}
	return nil, nil
}

// Every typed event decodes with its resource's accessor, and only with
// it; EventResource and RecordID agree.
func TestEveryTypedEventHasItsAccessor(t *testing.T) {
	t.Parallel()
	for resource, events := range typedEvents {
		for _, name := range events {
			ev := event(name, `{"links": {"account": 7}, "id": 7}`)
			res, action, ok := bookingsync.EventResource(name)
			require.True(t, ok, name)
			assert.Equal(t, resource, res, name)
			assert.Contains(t, []string{"created", "updated", "destroyed"}, action, name)
			assert.Equal(t, name[len(name)-len(action):], action, name)
			for other, get := range accessorOf {
				id, err := get(ev)
				if other != resource {
					assert.ErrorIs(t, err, bookingsync.ErrWrongEventKind, "%s on %s", other, name)
					continue
				}
				require.NoError(t, err, name)
				if resource != "review_replies" {
					assert.EqualValues(t, 7, id, name)
					n, err := ev.RecordID()
					require.NoError(t, err, name)
					assert.EqualValues(t, 7, n, name)
				}
			}
		}
	}
	_, _, ok := bookingsync.EventResource("amenity_created")
	assert.False(t, ok, "an event of a resource the package does not read")
	_, err := event("amenity_created", `{"id": 1}`).RecordID()
	assert.ErrorIs(t, err, bookingsync.ErrWrongEventKind)
	_, err = event(bookingsync.EventReviewReplyCreated, `{"review_reply": {"id": "5a0c-uuid"}}`).RecordID()
	assert.ErrorIs(t, err, bookingsync.ErrMalformedWebhook, "a UUID is no integer id")
	_, err = event(bookingsync.EventClientCreated, `{"client": {"firstname": "Ann"}}`).RecordID()
	assert.ErrorIs(t, err, bookingsync.ErrMalformedWebhook, "no id")

	// The reference's own example delivery, a client_created.
	g, err := event(bookingsync.EventClientCreated, `{"links": {"clients.account": "https://www.bookingsync.com/api/v3/accounts/{clients.account}"},
		"client": {"links": {"account": 1059638630}, "id": 995923932, "emails": [{"label": "default", "email": "client_5@example.com"}],
		"fullname": "Robt Braun", "firstname": "", "lastname": ""}}`).Guest()
	require.NoError(t, err)
	assert.EqualValues(t, 995923932, g.ID)
	assert.Equal(t, "Robt Braun", g.Name())
}

// The /me-shaped accounts_application record, as the fake sends it; the
// older Application accessor does not find one there.
func TestAccountsApplicationEvent(t *testing.T) {
	t.Parallel()
	ev := event(bookingsync.EventApplicationDestroyed, `{"links": {"accounts_applications.account": "https://www.bookingsync.com/api/v3/accounts/{accounts_applications.account}"},
		"accounts_application": {"links": {"account": 42}, "partnership_invoice_recipient": "account"}}`)
	me, err := ev.AccountsApplication()
	require.NoError(t, err)
	assert.EqualValues(t, 42, me.AccountID)
	assert.Equal(t, "account", me.PartnershipInvoiceRecipient)
	_, err = ev.Application()
	assert.ErrorIs(t, err, bookingsync.ErrMalformedWebhook)
	_, err = event(bookingsync.EventBookingCreated, `{"id": 1}`).Application()
	assert.ErrorIs(t, err, bookingsync.ErrWrongEventKind)
}

// The fake delivers every typed event on the writes that cause it, each
// decodable with its accessor; the two it has no cause for are named.
func TestTheFakeDeliversEveryTypedEvent(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	got := map[string][]any{}
	hook := httptest.NewServer(bookingsync.NewWebhookHandler(bookingsynctest.DefaultClientSecret, func(_ context.Context, e *bookingsync.WebhookEvent) error {
		res, _, ok := bookingsync.EventResource(e.Event)
		if !ok {
			t.Errorf("untyped event %s", e.Event)
			return nil
		}
		id, err := accessorOf[res](e)
		if err != nil {
			t.Errorf("%s: %v", e.Event, err)
		}
		mu.Lock()
		got[e.Event] = append(got[e.Event], id)
		mu.Unlock()
		return nil
	}))
	defer hook.Close()
	srv, c := fakeClient(t, bookingsynctest.WithWebhookURL(hook.URL), bookingsynctest.WithAccounts(2))
	ctx := context.Background()
	w, err := bookingsync.NewClient(bookingsync.WithBaseURL(srv.URL), bookingsync.WithToken(srv.IssueToken("bookings_read", "bookings_write")))
	require.NoError(t, err)

	conv := srv.AddConversation(bookingsynctest.ConversationSeed{Subject: "Hi"})
	_, _, err = c.Conversations.Update(ctx, conv, &bookingsync.ConversationUpdate{Closed: bookingsync.Ptr(true)})
	require.NoError(t, err)
	msg := srv.AddMessage(bookingsynctest.MessageSeed{ConversationID: bookingsynctest.AirbnbConversationID, SenderID: bookingsynctest.AirbnbClientParticipantID, Content: "?"})
	_, _, err = c.Messages.Update(ctx, msg, &bookingsync.MessageUpdate{Content: bookingsync.Ptr("?!")})
	require.NoError(t, err)
	comment, _, err := w.BookingComments.Create(ctx, &bookingsync.NewBookingComment{BookingID: bookingsynctest.AirbnbBookingID, Content: "Late"})
	require.NoError(t, err)
	_, _, err = w.BookingComments.Update(ctx, comment.ID, &bookingsync.BookingCommentUpdate{Content: bookingsync.Ptr("Very late")})
	require.NoError(t, err)
	_, err = w.BookingComments.Delete(ctx, comment.ID)
	require.NoError(t, err)
	for plural, add := range map[string]func() int64{
		"bookings": func() int64 {
			return srv.AddBooking(bookingsynctest.BookingSeed{RentalID: bookingsynctest.OceanViewRentalID})
		},
		"payments": func() int64 {
			return srv.AddPayment(bookingsynctest.PaymentSeed{BookingID: bookingsynctest.AirbnbBookingID, AmountInCents: 100})
		},
		"clients":   func() int64 { return srv.AddClient(bookingsynctest.ClientSeed{Firstname: "Ann"}) },
		"rentals":   func() int64 { return srv.AddRental(bookingsynctest.RentalSeed{Name: "Loft"}) },
		"inquiries": func() int64 { return srv.AddInquiry(bookingsynctest.InquirySeed{Firstname: "Ann"}) },
		"reviews": func() int64 {
			return srv.AddReview(bookingsynctest.ReviewSeed{BookingID: bookingsynctest.PastBookingID, Comment: "Fine", Reply: "Thanks"})
		},
	} {
		id := add()
		require.True(t, srv.Touch(plural, id), plural)
		if plural != "reviews" {
			require.True(t, srv.Delete(plural, id), plural)
		}
	}
	srv.SetStatus("suspended")
	other := srv.Accounts()[1]
	other.SetWebhookURL(hook.URL)
	require.True(t, other.Uninstall())
	other.Reinstall()
	srv.FlushWebhooks()

	// The fake has no cause for these two: an account is never removed,
	// and the application's installation never changes in place.
	unsent := []string{bookingsync.EventAccountDestroyed, bookingsync.EventApplicationUpdated}
	mu.Lock()
	defer mu.Unlock()
	for _, events := range typedEvents {
		for _, name := range events {
			if slices.Contains(unsent, name) {
				assert.Empty(t, got[name], name)
				continue
			}
			assert.NotEmpty(t, got[name], "the fake sent no %s", name)
		}
	}
	assert.Equal(t, []any{other.ID(), other.ID()}, append(got[bookingsync.EventApplicationDestroyed], got[bookingsync.EventApplicationCreated]...))
	assert.Equal(t, []any{comment.ID}, got[bookingsync.EventBookingCommentDestroyed])
}

// TypedEvents lists exactly the typed events, each once, grouped by
// resource.
func TestTypedEventsListsEveryTypedEvent(t *testing.T) {
	t.Parallel()
	got := bookingsync.TypedEvents()
	var want []string
	for _, events := range typedEvents {
		want = append(want, events...)
	}
	assert.ElementsMatch(t, want, got)
	got[0] = "changed by the caller"
	assert.NotEqual(t, "changed by the caller", bookingsync.TypedEvents()[0], "the slice is the caller's")
}
