package bookingsynctest

import (
	"net/url"
	"slices"
	"strconv"
	"time"
)

// payment is money received for bookings; bookingsPayment is the share of
// one payment that went to one booking.
type payment struct {
	base
	amount                  int64 // in cents
	currency, kind, orderID string
	fullname, email, notes  string
	paid, canceled          int64
	bookingsPayments        []int64
}

type bookingsPayment struct {
	base
	booking, rental, payment int64
	amount                   int64 // in cents
	currency                 string
}

// payScopes are the scopes that read payments (the reference's three tabs).
var payScopes = []string{"payments_read", "payments_write", "payments_write_owned"}

func init() {
	register(&kind{plural: "payments", singular: "payment", path: "payments",
		read: payScopes,
		links: tmpl("payments", "account", "accounts/{payments.account}", "payment_gateway", "payment_gateways/{payments.payment_gateway}",
			"bookings", "bookings/{payments.bookings}", "bookings_payments", "bookings_payments/{payments.bookings_payments}"),
		table: func(d *db) store { return d.pays }, filter: paymentFilter, remove: removePayment,
		events: events{created: "payment_created", updated: "payment_updated", destroyed: "payment_destroyed"}})
	register(&kind{plural: "bookings_payments", singular: "bookings_payment", path: "bookings_payments",
		read: []string{"payments_read", "payments_write"},
		links: tmpl("bookings_payments", "account", "accounts/{bookings_payments.account}", "booking", "bookings/{bookings_payments.booking}",
			"payment", "payments/{bookings_payments.payment}", "rental", "rentals/{bookings_payments.rental}"),
		table: func(d *db) store { return d.bpays }})
}

// render writes the attributes of the recordings and of the reference's
// example; the payment gateway is null (the fake has none).
func (p *payment) render(d *db, rc *rctx) obj {
	var books []int64
	for _, id := range p.bookingsPayments {
		if bp := d.bpays.rows[id]; bp != nil {
			books = append(books, bp.booking)
		}
	}
	return obj{
		{"links", obj{{"account", rc.account}, {"payment_gateway", nil}, {"bookings", ids(books)}, {"bookings_payments", ids(p.bookingsPayments)}}},
		{"id", p.id}, {"transaction_id", nil}, {"order_id", nullStr(p.orderID)}, {"card", nil},
		{"amount_in_cents", p.amount}, {"currency", p.currency}, {"kind", p.kind},
		{"fullname", p.fullname}, {"email", nullStr(p.email)}, {"address1", nil}, {"address2", nil}, {"zip", nil},
		{"city", nil}, {"state", nil}, {"country_code", nil}, {"locale", nil}, {"ip", nil}, {"test", false},
		{"notes", p.notes}, {"paid_at", tm(p.paid)}, {"created_at", tm(p.created)}, {"updated_at", tm(p.updated)},
		{"rejected_at", nil}, {"canceled_at", tm(p.canceled)}, {"description", ""},
		{"forget_me_at", nil}, {"processing_restricted_at", nil},
	}
}

func (bp *bookingsPayment) render(_ *db, rc *rctx) obj {
	return obj{
		{"links", obj{{"account", rc.account}, {"booking", bp.booking}, {"payment", bp.payment}, {"rental", nullID(bp.rental)}}},
		{"id", bp.id}, {"amount_in_cents", bp.amount}, {"currency", bp.currency},
		{"created_at", tm(bp.created)}, {"updated_at", tm(bp.updated)},
	}
}

// paymentFilter implements the documented search: order_id, a comma list.
func paymentFilter(_ *apiReq, q url.Values) (func(record) bool, verrs) {
	orders := splitComma(q.Get("order_id"))
	if len(orders) == 0 {
		return nil, nil
	}
	return func(r record) bool { return slices.Contains(orders, r.(*payment).orderID) }, nil
}

func removePayment(d *db, id, now int64) bool {
	p := d.pays.rows[id]
	if p == nil {
		return false
	}
	for _, bpID := range p.bookingsPayments {
		if bp := d.bpays.rows[bpID]; bp != nil {
			if b := d.books.rows[bp.booking]; b != nil {
				b.bookingsPayments = drop(b.bookingsPayments, bpID)
				b.payments = drop(b.payments, id)
			}
			d.bpays.remove(bpID, now)
		}
	}
	return d.pays.remove(id, now)
}

// paidCents sums the payments of a booking that are paid and not
// canceled.
func paidCents(d *db, b *booking) int64 {
	var n int64
	for _, id := range b.bookingsPayments {
		bp := d.bpays.rows[id]
		if bp == nil {
			continue
		}
		if p := d.pays.rows[bp.payment]; p != nil && p.paid != 0 && p.canceled == 0 {
			n += bp.amount
		}
	}
	return n
}

// cents writes an amount in cents as the API's decimal strings do
// ("1350.0", "99.5", "12.34").
func cents(n int64) string {
	s := strconv.FormatFloat(float64(n)/100, 'f', -1, 64)
	if !slices.Contains([]byte(s), '.') {
		s += ".0"
	}
	return s
}

// PaymentSeed describes a payment for AddPayment.
type PaymentSeed struct {
	BookingID     int64
	AmountInCents int64
	// Currency defaults to the booking's; Kind to "bank_transfer".
	Currency, Kind string
	Fullname       string
	// PaidAt defaults to now; Unpaid leaves paid_at null.
	PaidAt time.Time
	Unpaid bool
}

// AddPayment records a payment of a booking, with the bookings_payment
// tying them, and returns the payment's id (0 when the booking does not
// exist); a payment_created webhook is delivered. The booking's
// paid_amount follows its paid payments.
func (a *Account) AddPayment(ps PaymentSeed) (id int64) {
	var hook []byte
	a.change(func(o op) {
		b := o.d.books.rows[ps.BookingID]
		if b == nil {
			return
		}
		p := &payment{base: base{created: o.now, updated: o.now}, amount: ps.AmountInCents,
			currency: ps.Currency, kind: ps.Kind, fullname: ps.Fullname, paid: o.now}
		if p.currency == "" {
			p.currency = b.currency
		}
		if p.kind == "" {
			p.kind = "bank_transfer"
		}
		if !ps.PaidAt.IsZero() {
			p.paid = ps.PaidAt.Unix()
		}
		if ps.Unpaid {
			p.paid = 0
		}
		id = addPayment(o.d, p, b)
		hook = a.notify("payments", "payment_created", p)
	})
	a.deliver("payment_created", hook)
	return id
}

// addPayment stores p and the bookings_payment tying it to b.
func addPayment(d *db, p *payment, b *booking) int64 {
	id := d.pays.add(p)
	bp := &bookingsPayment{base: p.base, booking: b.id, rental: b.rental, payment: id, amount: p.amount, currency: p.currency}
	bp.id = 0
	bpID := d.bpays.add(bp)
	p.bookingsPayments = append(p.bookingsPayments, bpID)
	b.payments = append(b.payments, id)
	b.bookingsPayments = append(b.bookingsPayments, bpID)
	return id
}
