package bookingsync

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBookingDecodesFixture(t *testing.T) {
	t.Parallel()
	body := fixture(t, "bookings/real-response.json")
	c, mux, srv := setup(t)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/vnd.api+json")
		w.Write(body)
	})
	b, _, err := c.Bookings.Get(context.Background(), 80)
	require.NoError(t, err)
	got := srv.paths()
	assert.Equal(t, []string{"/api/v3/bookings/80"}, got, "paths = %v", got)
	utc := func(s string) time.Time { tm, _ := time.Parse(time.RFC3339, s); return tm }
	checks := []struct {
		name      string
		got, want any
	}{
		{"ID", b.ID, int64(80)},
		{"Reference", b.Reference, "0000EG"},
		{"Status", b.Status, BookingStatusBooked},
		{"Booked", b.Booked, true},
		{"Unavailable", b.Unavailable, false},
		{"StartAt", b.StartAt, utc("2026-07-10T16:00:00Z")},
		{"EndAt", b.EndAt, utc("2026-07-17T10:00:00Z")},
		{"UpdatedAt", b.UpdatedAt, utc("2026-05-02T09:30:00Z")},
		{"CreatedAt", b.CreatedAt, utc("2026-05-01T08:00:00Z")},
		{"BalanceDueAt", *b.BalanceDueAt, utc("2026-07-03T00:00:00Z")},
		{"ContractUpdatedAt", *b.ContractUpdatedAt, utc("2026-05-01T08:05:00Z")},
		{"CanceledAt", b.CanceledAt, (*time.Time)(nil)},
		{"TentativeExpiresAt", b.TentativeExpiresAt, (*time.Time)(nil)},
		{"InitialPrice", b.InitialPrice.String(), "3000.0"},
		{"FinalPrice", b.FinalPrice.String(), "2700.0"},
		{"PaidAmount", b.PaidAmount.String(), "2700.0"},
		{"DamageDeposit", b.DamageDeposit.String(), "0.0"},
		{"ChannelPrice null", b.ChannelPrice.Valid(), false},
		{"Commission null", b.Commission.Valid(), false},
		{"PaymentLeftToCollect", b.PaymentLeftToCollect.String(), "0.0"},
		{"Discount", b.Discount, "10%"},
		{"Currency", b.Currency, "USD"},
		{"Adults", *b.Adults, 5},
		{"Children", b.Children, (*int)(nil)},
		{"ExpectedCheckinTime", b.ExpectedCheckinTime, "14:45"},
		{"ExpectedCheckoutTime", b.ExpectedCheckoutTime, "11:30"},
		{"ExternalReference", b.ExternalReference, (*string)(nil)},
		{"Locked", b.Locked, ""},
		{"ChargeDamageDepositOnArrival", b.ChargeDamageDepositOnArrival, true},
		{"BookingsPaymentsCount", b.BookingsPaymentsCount, 1},
		{"CreatedBy", b.CreatedBy, Polymorphic{}},
		{"Links.Account", b.Links.Account, int64(1)},
		{"Links.Rental", *b.Links.Rental, int64(16)},
		{"Links.Client", *b.Links.Client, int64(37)},
		{"Links.Source", b.Links.Source, (*int64)(nil)},
		{"Links.DiscountCodeUsage", *b.Links.DiscountCodeUsage, int64(12)},
		{"Links.Conversations", b.Links.Conversations, []int64{11}},
		{"Links.BookingsTags", b.Links.BookingsTags, []int64{1, 2}},
		{"Links.Payments", b.Links.Payments, []int64{23}},
		{"IsCanceled", b.IsCanceled(), false},
	}
	for _, c := range checks {
		assert.Equal(t, c.want, c.got, "%s = %#v, want %#v", c.name, c.got, c.want)
	}
}

func TestBookingDecodesOddPayloads(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		json string
		want func(*Booking) error
	}{
		{"creator attributes, string id", `{"id":1,"created_by_id":"42","created_by_type":"Doorkeeper::Application"}`, func(b *Booking) error {
			return eq(b.CreatedBy, Polymorphic{ID: 42, Type: "Doorkeeper::Application"})
		}},
		{"creator link", `{"id":1,"links":{"account":1,"created_by":{"id":7,"type":"User"}}}`, func(b *Booking) error {
			return eq(b.CreatedBy, Polymorphic{ID: 7, Type: "User"})
		}},
		{"creator object", `{"id":1,"created_by":{"id":"8","type":"User"}}`, func(b *Booking) error {
			return eq(b.CreatedBy, Polymorphic{ID: 8, Type: "User"})
		}},
		{"locked string", `{"id":1,"locked":"payments"}`, func(b *Booking) error { return eq(b.Locked, "payments") }},
		{"locked boolean", `{"id":1,"locked":true}`, func(b *Booking) error { return eq(b.Locked, "true") }},
		{"prices as numbers", `{"id":1,"final_price":2700.50,"paid_amount":"0.10"}`, func(b *Booking) error {
			return errors.Join(eq(b.FinalPrice.String(), "2700.50"), eq(b.PaidAmount.String(), "0.10"))
		}},
		{"unknown status and fields", `{"id":1,"status":"Archived","brand_new":{"x":[1]},"links":{"account":1,"whatever":[3]}}`, func(b *Booking) error {
			return eq(b.Status, BookingStatus("Archived"))
		}},
		{"canceled", `{"id":1,"status":"Canceled","canceled_at":"2026-01-02T03:04:05Z"}`, func(b *Booking) error {
			return eq(b.IsCanceled(), true)
		}},
		{"nulls everywhere", `{"id":1,"reference":null,"status":null,"start_at":null,"booked":null,"adults":null,"final_price":null,
			"discount":null,"notes":null,"locked":null,"created_by_id":null,"created_by_type":null,
			"links":{"account":null,"rental":null,"conversations":null}}`, func(b *Booking) error {
			return errors.Join(eq(b.ID, int64(1)), eq(b.Links.Conversations, []int64(nil)), eq(b.CreatedBy, Polymorphic{}), eq(b.FinalPrice.Valid(), false))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b Booking
			require.NoError(t, json.Unmarshal([]byte(tt.json), &b))
			assert.NoError(t, tt.want(&b))
		})
	}
	for _, bad := range []string{`{"id":1,"locked":12}`, `{"id":1,"final_price":"12abc"}`} {
		var b Booking
		err := json.Unmarshal([]byte(bad), &b)
		assert.Error(t, err, "%s: decoded without error", bad)
	}
}

func eq(got, want any) error {
	if !reflect.DeepEqual(got, want) {
		return fmt.Errorf("got %#v, want %#v", got, want)
	}
	return nil
}

func TestBookingListFiltersEncode(t *testing.T) {
	t.Parallel()
	paris := time.FixedZone("CEST", 2*3600)
	tests := []struct {
		name string
		opts *BookingListOptions
		want url.Values
	}{
		{"none", nil, url.Values{}},
		{"from and until in UTC", &BookingListOptions{
			From:  time.Date(2026, 7, 1, 12, 0, 0, 0, paris),
			Until: time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC),
		}, url.Values{"from": {"2026-07-01T10:00:00Z"}, "until": {"2026-08-01T00:00:00Z"}}},
		{"months", &BookingListOptions{Months: 3}, url.Values{"months": {"3"}}},
		{"status lower-cased comma list", &BookingListOptions{
			Status: []BookingStatus{BookingStatusBooked, BookingStatusTentative, BookingStatusUnavailable},
		}, url.Values{"status": {"booked,tentative,unavailable"}}},
		{"include canceled", &BookingListOptions{IncludeCanceled: true}, url.Values{"include_canceled": {"true"}}},
		{"rental and client ids", &BookingListOptions{RentalIDs: []int64{16, 17}, ClientIDs: []int64{37}},
			url.Values{"rental_id": {"16,17"}, "client_id": {"37"}}},
		{"list options", &BookingListOptions{ListOptions: ListOptions{
			Page: 2, PerPage: 50, Fields: []string{"id", "status"},
			UpdatedSince: time.Date(2018, 3, 23, 19, 0, 41, 0, time.UTC),
		}}, url.Values{"page": {"2"}, "per_page": {"50"}, "fields": {"id,status"}, "updated_since": {"2018-03-23T19:00:41Z"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, mux, srv := setup(t)
			mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
				writeEnvelope(w, "bookings", []any{bookingJSON(80)}, nil)
			})
			got, _, err := c.Bookings.List(context.Background(), tt.opts)
			require.NoError(t, err)
			require.Len(t, got, 1)
			assert.EqualValues(t, 80, got[0].ID)
			reqs := srv.requests()
			require.Len(t, reqs, 1, "%d requests", len(reqs))
			assert.EqualValues(t, "/api/v3/bookings", reqs[0].Path, "path = %s", reqs[0].Path)
			q := mustQuery(reqs[0].RawQuery)
			assert.Equal(t, tt.want, q, "query = %v, want %v", q, tt.want)
			assert.NotContains(t, reqs[0].RawQuery, "%2C", "raw query %q escapes the list commas", reqs[0].RawQuery)
		})
	}
}

func TestBookingListRejectsBadOptions(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for name, opts := range map[string]*BookingListOptions{
		"negative months":     {Months: -1},
		"canceled as status":  {Status: []BookingStatus{BookingStatusCanceled}},
		"empty status":        {Status: []BookingStatus{""}},
		"comma in status":     {Status: []BookingStatus{"booked,tentative"}},
		"until before from":   {From: now, Until: now.Add(-time.Hour)},
		"non-positive rental": {RentalIDs: []int64{16, 0}},
		"non-positive client": {ClientIDs: []int64{-3}},
	} {
		t.Run(name, func(t *testing.T) {
			c, mux, srv := setup(t)
			mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
				writeEnvelope(w, "bookings", []any{}, nil)
			})
			_, _, err := c.Bookings.List(context.Background(), opts)
			assert.ErrorIs(t, err, ErrInvalidRequest, "err = %v, want ErrInvalidRequest", err)
			n := len(srv.requests())
			assert.EqualValues(t, 0, n, "%d requests sent", n)
		})
	}
}

func TestBookingsAllWalksPagesAndGetMany(t *testing.T) {
	t.Parallel()
	c, mux, srv := setup(t)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/bookings" && r.URL.Query().Get("page") == "1":
			w.Header().Set("Link", `<http://x/api/v3/bookings?page=2&per_page=100&status=booked>; rel="next"`)
			writeEnvelope(w, "bookings", []any{bookingJSON(1), bookingJSON(2)}, nil)
		case r.URL.Path == "/bookings" && r.URL.Query().Get("page") == "2":
			writeEnvelope(w, "bookings", []any{bookingJSON(3)}, nil)
		case r.URL.Path == "/bookings/4,5":
			writeEnvelope(w, "bookings", []any{bookingJSON(4), bookingJSON(5)}, nil)
		default:
			http.Error(w, `{"errors":[{"code":"not_found"}]}`, http.StatusNotFound)
		}
	})
	ctx := context.Background()
	var ids []int64
	for b, err := range c.Bookings.All(ctx, &BookingListOptions{Status: []BookingStatus{BookingStatusBooked}}) {
		require.NoError(t, err)
		ids = append(ids, b.ID)
	}
	many, _, err := c.Bookings.GetMany(ctx, []int64{4, 5})
	require.NoError(t, err)
	for _, b := range many {
		ids = append(ids, b.ID)
	}
	assert.Equal(t, []int64{1, 2, 3, 4, 5}, ids, "ids = %v", ids)
	want := []string{
		"/api/v3/bookings?page=1&per_page=100&status=booked",
		"/api/v3/bookings?page=2&per_page=100&status=booked",
		"/api/v3/bookings/4,5",
	}
	got := srv.paths()
	assert.Equal(t, want, got, "paths = %q, want %q", got, want)
}

func TestBookingConversationsRequestBound(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		booking   map[string]any
		wantIDs   []int64
		wantPaths []string
	}{
		{"two conversations, two requests", bookingJSON(80, 11, 12), []int64{11, 12},
			[]string{"/api/v3/bookings/80", "/api/v3/inbox/conversations/11,12"}},
		{"none yet, one request", bookingJSON(80), []int64{},
			[]string{"/api/v3/bookings/80"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, mux, srv := setup(t)
			mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
				switch r.URL.Path {
				case "/bookings/80":
					writeEnvelope(w, "bookings", []any{tt.booking}, nil)
				case "/inbox/conversations/11,12":
					writeEnvelope(w, "conversations", []any{conversationJSON(11), conversationJSON(12)}, nil)
				default:
					w.WriteHeader(http.StatusNotFound)
				}
			})
			convs, err := c.Bookings.Conversations(context.Background(), 80)
			require.NoError(t, err)
			ids := []int64{}
			for _, cv := range convs {
				ids = append(ids, cv.ID)
			}
			assert.Equal(t, tt.wantIDs, ids, "conversation ids = %v, want %v", ids, tt.wantIDs)
			got := srv.paths()
			assert.Equal(t, tt.wantPaths, got, "requests = %q, want %q", got, tt.wantPaths)
		})
	}
}

func TestBookingConversationsErrors(t *testing.T) {
	t.Parallel()
	c, mux, srv := setup(t)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNotFound)
		w.Write([]byte(`{"errors":[{"code":"not_found"}]}`))
	})
	_, err := c.Bookings.Conversations(context.Background(), 80)
	assert.ErrorIs(t, err, ErrNotFound, "err = %v, want ErrNotFound", err)
	_, err = c.Bookings.Conversations(context.Background(), 0)
	assert.ErrorIs(t, err, ErrInvalidRequest, "id 0: err = %v, want ErrInvalidRequest", err)
	n := len(srv.requests())
	assert.EqualValues(t, 1, n, "%d requests, want 1", n)
}

var waitStart = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

func TestWaitForConversationsReturnsWhenTheyAppear(t *testing.T) {
	t.Parallel()
	clk := &fakeClock{t: waitStart}
	bookingGets := 0
	c, mux, srv := setup(t)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		setRate(w, 1000, 900, waitStart.Add(time.Hour))
		switch r.URL.Path {
		case "/bookings/80":
			bookingGets++
			if bookingGets < 4 {
				writeEnvelope(w, "bookings", []any{bookingJSON(80)}, nil)
				return
			}
			writeEnvelope(w, "bookings", []any{bookingJSON(80, 11)}, nil)
		case "/inbox/conversations/11":
			writeEnvelope(w, "conversations", []any{conversationJSON(11)}, nil)
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	})
	clk.install(c)
	convs, err := c.Bookings.WaitForConversations(context.Background(), 80, 30*time.Second)
	require.NoError(t, err)
	require.Len(t, convs, 1)
	require.EqualValues(t, 11, convs[0].ID)
	got, want := clk.slept(), []time.Duration{30 * time.Second, 30 * time.Second, 30 * time.Second}
	assert.Equal(t, want, got, "sleeps = %v, want %v", got, want)
	n := len(srv.requests())
	assert.EqualValues(t, 5, n, "%d requests, want 4 booking reads and 1 conversations read", n)
}

func TestWaitForConversationsStopsOnContext(t *testing.T) {
	t.Parallel()
	clk := &fakeClock{t: waitStart}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	clk.onSleep = func(n int) {
		if n == 3 {
			cancel()
		}
	}
	c, mux, srv := setup(t)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		setRate(w, 1000, 900, waitStart.Add(time.Hour))
		writeEnvelope(w, "bookings", []any{bookingJSON(80)}, nil)
	})
	clk.install(c)
	_, err := c.Bookings.WaitForConversations(ctx, 80, time.Minute)
	require.ErrorIs(t, err, context.Canceled, "err = %v, want context.Canceled", err)
	n := len(srv.requests())
	assert.EqualValues(t, 3, n, "%d requests, want 3", n)
	n = len(clk.slept())
	assert.EqualValues(t, 3, n, "%d sleeps, want 3", n)
}

func TestWaitForConversationsBacksOffOnLowBudget(t *testing.T) {
	t.Parallel()
	clk := &fakeClock{t: waitStart}
	reset := waitStart.Add(17 * time.Minute)
	var requestsAtSleep []int
	var srv *testServer
	clk.onSleep = func(int) { requestsAtSleep = append(requestsAtSleep, len(srv.requests())) }
	polls := 0
	c, mux, srv := setup(t)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/bookings/80":
			polls++
			if polls == 1 {
				// 40 of 1000 left: under the 5% reserve.
				setRate(w, 1000, 40, reset)
				writeEnvelope(w, "bookings", []any{bookingJSON(80)}, nil)
				return
			}
			setRate(w, 1000, 999, reset.Add(time.Hour))
			writeEnvelope(w, "bookings", []any{bookingJSON(80, 11)}, nil)
		case "/inbox/conversations/11":
			setRate(w, 1000, 998, reset.Add(time.Hour))
			writeEnvelope(w, "conversations", []any{conversationJSON(11)}, nil)
		}
	})
	clk.install(c)
	ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(24*time.Hour))
	defer cancel()
	convs, err := c.Bookings.WaitForConversations(ctx, 80, 10*time.Second)
	require.NoError(t, err)
	require.Len(t, convs, 1, "conversations = %v", convs)
	// One pause, until the reset, taken after the first request and before
	// any other.
	got, want := clk.slept(), []time.Duration{17 * time.Minute}
	assert.Equal(t, want, got, "sleeps = %v, want %v", got, want)
	assert.Equal(t, []int{1}, requestsAtSleep, "requests made before each sleep = %v, want [1]", requestsAtSleep)
	n := len(srv.requests())
	assert.EqualValues(t, 3, n, "%d requests, want 3", n)
}

func TestWaitForConversationsGivesUpWhenResetIsPastDeadline(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		handler http.HandlerFunc
	}{
		{"budget spent", func(w http.ResponseWriter, r *http.Request) {
			setRate(w, 1000, 0, time.Now().Add(40*time.Minute))
			writeEnvelope(w, "bookings", []any{bookingJSON(80)}, nil)
		}},
		{"429", func(w http.ResponseWriter, r *http.Request) {
			setRate(w, 1000, 0, time.Now().Add(40*time.Minute))
			w.WriteHeader(http.StatusTooManyRequests)
			w.Write([]byte(`{"errors":[{"code":"rate_limit_exceeded","title":"API v3 rate limit exceeded."}]}`))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := &fakeClock{t: time.Now()}
			c, mux, srv := setup(t)
			mux.HandleFunc("/", tc.handler)
			clk.install(c)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
			defer cancel()
			_, err := c.Bookings.WaitForConversations(ctx, 80, time.Second)
			require.ErrorIs(t, err, ErrRateLimited, "err = %v, want ErrRateLimited", err)
			assert.Nil(t, ctx.Err(), "returned only after the deadline")
			n := len(clk.slept())
			assert.EqualValues(t, 0, n, "slept %d times", n)
			n = len(srv.requests())
			assert.EqualValues(t, 1, n, "%d requests, want 1", n)
		})
	}
}

func TestWaitForConversationsRejectsBadInput(t *testing.T) {
	t.Parallel()
	c, mux, srv := setup(t)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {})
	_, err := c.Bookings.WaitForConversations(context.Background(), 80, 0)
	assert.ErrorIs(t, err, ErrInvalidRequest, "every 0: err = %v", err)
	_, err = c.Bookings.WaitForConversations(context.Background(), -1, time.Second)
	assert.ErrorIs(t, err, ErrInvalidRequest, "id -1: err = %v", err)
	n := len(srv.requests())
	assert.EqualValues(t, 0, n, "%d requests", n)
}

func TestPollWait(t *testing.T) {
	t.Parallel()
	now := waitStart
	far, cancelFar := context.WithDeadline(context.Background(), now.Add(2*time.Hour))
	defer cancelFar()
	near, cancelNear := context.WithDeadline(context.Background(), now.Add(time.Minute))
	defer cancelNear()
	every := 15 * time.Second
	tests := []struct {
		name    string
		ctx     context.Context
		rate    Rate
		want    time.Duration
		wantErr bool
	}{
		{"unknown rate", far, Rate{}, every, false},
		{"plenty left", far, Rate{Limit: 1000, Remaining: 51, Reset: now.Add(time.Hour)}, every, false},
		{"at the 5% reserve", far, Rate{Limit: 1000, Remaining: 50, Reset: now.Add(20 * time.Minute)}, 20 * time.Minute, false},
		{"small limit uses the floor", far, Rate{Limit: 40, Remaining: 5, Reset: now.Add(time.Minute)}, time.Minute, false},
		{"small limit above the floor", far, Rate{Limit: 40, Remaining: 6, Reset: now.Add(time.Minute)}, every, false},
		{"reset already past", far, Rate{Limit: 1000, Remaining: 0, Reset: now.Add(-time.Second)}, every, false},
		{"reset sooner than every", far, Rate{Limit: 1000, Remaining: 0, Reset: now.Add(time.Second)}, every, false},
		{"no deadline waits", context.Background(), Rate{Limit: 1000, Remaining: 0, Reset: now.Add(time.Hour)}, time.Hour, false},
		{"reset past deadline", near, Rate{Limit: 1000, Remaining: 3, Reset: now.Add(10 * time.Minute)}, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := pollWait(tt.ctx, tt.rate, every, now)
			if tt.wantErr {
				require.ErrorIs(t, err, ErrRateLimited)
			} else {
				require.NoError(t, err)
			}
			assert.EqualValues(t, tt.want, got, "wait = %v, want %v", got, tt.want)
		})
	}
}

// A token without bookings_read reads the booking without its
// conversations link: absent is not empty, and no further request helps.
func TestBookingConversationsWithoutBookingsRead(t *testing.T) {
	t.Parallel()
	reduced := fixture(t, "recorded/bookings-without-bookings_read-response.json")
	c, mux, srv := setup(t)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { answer(w, 200, string(reduced)) })
	b, _, err := c.Bookings.Get(context.Background(), 80)
	require.NoError(t, err)
	assert.False(t, b.ConversationsKnown())
	assert.Nil(t, b.Links.Conversations, "want nil (absent)")
	check := func(name string, convs []*Conversation, err error) {
		t.Helper()
		var se *ScopeError
		require.ErrorIs(t, err, ErrForbidden, name)
		require.ErrorAs(t, err, &se, name)
		require.Equal(t, ScopeBookingsRead, se.Scope, name)
		assert.ErrorContains(t, err, "bookings_read", name)
		assert.ErrorContains(t, err, "booking 80", name)
		assert.Nil(t, convs, "%s: conversations = %v, want nil", name, convs)
	}
	convs, err := c.Bookings.Conversations(context.Background(), 80)
	check("Conversations", convs, err)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	convs, err = c.Bookings.WaitForConversations(ctx, 80, time.Millisecond)
	check("WaitForConversations", convs, err)
	want := []string{"/api/v3/bookings/80", "/api/v3/bookings/80", "/api/v3/bookings/80"}
	got := srv.paths()
	assert.Equal(t, want, got, "requests = %q, want %q (one read each, nothing more)", got, want)
}

// Absent and empty conversations links stay apart through a JSON round
// trip, so that a stored booking does not turn unknown into none.
func TestBookingConversationsLinkAbsentVersusEmpty(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		payload string
		known   bool
	}{
		{`{"id":1,"links":{"account":1}}`, false},
		{`{"id":1,"links":{"account":1,"conversations":null}}`, false},
		{`{"id":1,"links":{"account":1,"conversations":[]}}`, true},
		{`{"id":1,"links":{"account":1,"conversations":[5]}}`, true},
	} {
		var b, again Booking
		require.NoError(t, json.Unmarshal([]byte(tt.payload), &b))
		out, err := json.Marshal(&b)
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(out, &again))
		assert.Equal(t, tt.known, b.ConversationsKnown(), tt.payload)
		assert.Equal(t, tt.known, again.ConversationsKnown(), "%s: after a JSON round trip", tt.payload)
	}
}

func mustQuery(raw string) url.Values {
	q, _ := url.ParseQuery(raw)
	return q
}
