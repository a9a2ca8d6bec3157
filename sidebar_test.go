package bookingsync

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The reads an inbox's sidebar needs beside a conversation: the notes on
// its booking, whether the guest paid, the reviews.

func TestBookingCommentsReadTheReferenceFixture(t *testing.T) {
	t.Parallel()
	c, _, s := setup(t)
	checkReads(t, c, s, "booking_comments", "booking_comments/bookings_read-scope-response.json",
		readService[BookingComment]{c.BookingComments.List, c.BookingComments.Get, c.BookingComments.GetWith, c.BookingComments.GetMany, c.BookingComments.GetManyWith},
		func(t *testing.T, bc *BookingComment) {
			assert.Equal(t, int64(4), bc.ID)
			assert.Equal(t, "Guests arrive late; leave the key in the box.", bc.Content)
			assert.False(t, bc.Editable)
			assert.Nil(t, bc.VisibleForAllAccountUsers)
			assert.Equal(t, int64(15), bc.Links.Booking)
		})
}

func TestPaymentsReadTheReferenceFixture(t *testing.T) {
	t.Parallel()
	c, _, s := setup(t)
	list := func(ctx context.Context, o *ListOptions) ([]*Payment, *Response, error) {
		return c.Payments.List(ctx, &PaymentListOptions{ListOptions: *o})
	}
	checkReads(t, c, s, "payments", "payments/payments_read-scope-response.json",
		readService[Payment]{list, c.Payments.Get, c.Payments.GetWith, c.Payments.GetMany, c.Payments.GetManyWith},
		func(t *testing.T, p *Payment) {
			assert.Equal(t, int64(45050), p.AmountInCents)
			assert.Equal(t, "EUR", p.Currency)
			assert.Equal(t, "cash", p.Kind)
			assert.Nil(t, p.Test)
			assert.True(t, p.Paid())
			assert.Equal(t, []int64{15}, p.Links.Bookings)
			assert.Equal(t, []int64{8}, p.Links.BookingsPayments)
		})
	_, _, err := c.Payments.List(inboxCtx, &PaymentListOptions{OrderIDs: []string{"BS-1", "BS-2"}})
	require.NoError(t, err)
	assert.Equal(t, "order_id=BS-1,BS-2", s.last("GET", "payments").RawQuery)
}

func TestBookingsPaymentsReadTheReferenceFixture(t *testing.T) {
	t.Parallel()
	c, _, s := setup(t)
	checkReads(t, c, s, "bookings_payments", "bookings_payments/payments_read-scope-response.json",
		readService[BookingsPayment]{c.BookingsPayments.List, c.BookingsPayments.Get, c.BookingsPayments.GetWith, c.BookingsPayments.GetMany, c.BookingsPayments.GetManyWith},
		func(t *testing.T, bp *BookingsPayment) {
			assert.Equal(t, int64(45050), bp.AmountInCents)
			assert.Equal(t, int64(15), bp.Links.Booking)
			assert.Equal(t, int64(6), bp.Links.Payment)
			assert.Equal(t, int64(3), *bp.Links.Rental)
		})
}

func TestReviewsReadTheReferenceFixture(t *testing.T) {
	t.Parallel()
	c, _, s := setup(t)
	checkReads(t, c, s, "reviews", "reviews/public-scope-response.json",
		readService[Review]{c.Reviews.List, c.Reviews.Get, c.Reviews.GetWith, c.Reviews.GetMany, c.Reviews.GetManyWith},
		func(t *testing.T, r *Review) {
			assert.Equal(t, 4, r.Rating)
			assert.Equal(t, "Great view", r.Title)
			assert.Equal(t, "Ana L.", r.Name)
			assert.Equal(t, int64(3), *r.Links.Rental)
			assert.Equal(t, "", r.Links.Reply)
		})
}

func TestReviewLinksReadTheReplyIDEitherWay(t *testing.T) {
	t.Parallel()
	for raw, want := range map[string]string{`"5a0c3f4e-2b7d"`: "5a0c3f4e-2b7d", `12`: "12", `null`: ""} {
		var l ReviewLinks
		require.NoError(t, json.Unmarshal([]byte(`{"account":1,"reply":`+raw+`}`), &l), raw)
		assert.Equal(t, want, l.Reply, raw)
		assert.Equal(t, int64(1), l.Account)
	}
	var l ReviewLinks
	assert.Error(t, json.Unmarshal([]byte(`{"reply":true}`), &l))
}

func TestBookingCommentCreateSendsTheBookingBesideTheRecord(t *testing.T) {
	t.Parallel()
	c, mux, s := setup(t)
	mux.HandleFunc("POST /booking_comments", serveFixture(t, 201, "booking_comments/bookings_read-scope-response.json"))
	mux.HandleFunc("PUT /booking_comments/{id}", serveFixture(t, 200, "booking_comments/bookings_read-scope-response.json"))
	mux.HandleFunc("DELETE /booking_comments/{id}", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })

	bc, _, err := c.BookingComments.Create(inboxCtx, &NewBookingComment{BookingID: 15, Content: "Late arrival", VisibleForAllAccountUsers: Ptr(false)})
	require.NoError(t, err)
	assert.Equal(t, int64(4), bc.ID)
	assert.JSONEq(t, `{"booking_id":15,"booking_comments":[{"content":"Late arrival","visible_for_all_account_users":false}]}`,
		string(s.last("POST", "booking_comments").Body))

	_, _, err = c.BookingComments.Update(inboxCtx, 4, &BookingCommentUpdate{Content: Ptr("Arrival at 23:00")})
	require.NoError(t, err)
	assert.JSONEq(t, `{"booking_comments":[{"content":"Arrival at 23:00"}]}`, string(s.last("PUT", "booking_comments/4").Body))

	resp, err := c.BookingComments.Delete(inboxCtx, 4)
	require.NoError(t, err)
	assert.Equal(t, http.StatusNoContent, resp.StatusCode)

	long := make([]byte, maxCommentLength+1)
	for i := range long {
		long[i] = 'a'
	}
	before := s.total()
	for name, call := range map[string]func() error{
		"no booking": func() error {
			_, _, err := c.BookingComments.Create(inboxCtx, &NewBookingComment{Content: "x"})
			return err
		},
		"no content": func() error {
			_, _, err := c.BookingComments.Create(inboxCtx, &NewBookingComment{BookingID: 1})
			return err
		},
		"too long": func() error {
			_, _, err := c.BookingComments.Create(inboxCtx, &NewBookingComment{BookingID: 1, Content: string(long)})
			return err
		},
		"nil": func() error { _, _, err := c.BookingComments.Create(inboxCtx, nil); return err },
		"blank": func() error {
			_, _, err := c.BookingComments.Update(inboxCtx, 4, &BookingCommentUpdate{Content: Ptr(" ")})
			return err
		},
		"nil update":  func() error { _, _, err := c.BookingComments.Update(inboxCtx, 4, nil); return err },
		"bad id":      func() error { _, err := c.BookingComments.Delete(inboxCtx, 0); return err },
		"reply id":    func() error { _, _, err := c.ReviewReplies.Get(inboxCtx, "a/b"); return err },
		"nil review":  func() error { _, _, err := c.ReviewReplies.OfReview(inboxCtx, nil); return err },
		"nil booking": func() error { _, _, err := c.Payments.OfBooking(inboxCtx, nil); return err },
	} {
		assert.ErrorIs(t, call(), ErrInvalidRequest, name)
	}
	assert.Equal(t, before, s.total(), "nothing sent")
}

func TestSidebarReadsNameTheirScope(t *testing.T) {
	t.Parallel()
	c, _, s := setup(t)
	s.mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) {
		answer(w, http.StatusForbidden, `{"error":"Forbidden"}`)
	})
	for _, c := range []struct {
		scope string
		call  func() error
	}{
		{ScopeBookingsRead, func() error { _, _, err := c.BookingComments.List(inboxCtx, nil); return err }},
		{ScopePaymentsRead, func() error { _, _, err := c.Payments.Get(inboxCtx, 1); return err }},
		{ScopePaymentsRead, func() error { _, _, err := c.BookingsPayments.GetMany(inboxCtx, []int64{1}); return err }},
	} {
		var se *ScopeError
		require.ErrorAs(t, c.call(), &se, c.scope)
		assert.Equal(t, c.scope, se.Scope)
	}
	// Reviews are public: a 403 there is not about a scope.
	_, _, err := c.Reviews.List(inboxCtx, nil)
	var se *ScopeError
	assert.ErrorIs(t, err, ErrForbidden)
	assert.False(t, errors.As(err, &se))
}

func TestRentalCalendarOn(t *testing.T) {
	t.Parallel()
	cal := &RentalCalendar{Map: "0011", StartDate: "2024-05-01"}
	for day, want := range map[string]byte{"2024-05-01": '0', "2024-05-03": '1', "2024-05-04": '1'} {
		d, _ := time.Parse("2006-01-02", day)
		got, ok := cal.On(d.Add(23 * time.Hour))
		assert.True(t, ok, day)
		assert.Equal(t, want, got, day)
	}
	for _, day := range []time.Time{time.Date(2024, 4, 30, 0, 0, 0, 0, time.UTC), time.Date(2024, 5, 5, 0, 0, 0, 0, time.UTC)} {
		_, ok := cal.On(day)
		assert.False(t, ok, day)
	}
	_, ok := (&RentalCalendar{Map: "0", StartDate: "May"}).On(time.Now())
	assert.False(t, ok)
	_, ok = (*RentalCalendar)(nil).On(time.Now())
	assert.False(t, ok)
}
