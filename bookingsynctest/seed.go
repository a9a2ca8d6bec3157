package bookingsynctest

import (
	"strconv"
	"time"
)

// Ids of the default account's demo data (absent with WithoutSeed). Other
// accounts get the same data with ids of their own.
const (
	AirbnbAppID     = 65 // application "Airbnb"
	BookingComAppID = 66 // application "Booking.com"
	GuestAppID      = 70 // application "Smily Guest App", not a channel

	HostJanID   = 2 // host Jan Kowalski, host1@example.com, user 2
	HostMariaID = 3 // host Maria Rossi

	AirbnbBookingID      = 80 // future, Booked, on Airbnb, conversation 11, client 37, rental 16
	BookingComBookingID  = 81 // future, Booked, on Booking.com, conversation 12, client 38, rental 17
	DelayedBookingID     = 82 // future, Booked, on Booking.com; conversation 14 appears after the delay
	CanceledBookingID    = 83 // future, canceled
	PastBookingID        = 84 // ended ten days before the server started
	UnavailableBookingID = 85 // future owner block, status Unavailable

	AirbnbConversationID     = 11 // open, by Airbnb: Client participant 1, Host participant 2 (host 2), 3 client messages
	BookingComConversationID = 12 // open, by Booking.com: Client participant 3, 2 client messages
	ClosedConversationID     = 13 // closed e-mail conversation created by user 2, no booking, inquiry 90
	DelayedConversationID    = 14 // by Booking.com, visible WithConversationDelay after start

	AirbnbClientParticipantID     = 1
	AirbnbHostParticipantID       = 2
	BookingComClientParticipantID = 3

	AirbnbClientID     = 37 // Emma Dubois, the guest of conversation 11 and booking 80
	BookingComClientID = 38 // Lukas Weber, the guest of conversation 12 and booking 81

	OceanViewRentalID = 16 // "Ocean View Loft"
	OldTownRentalID   = 17 // "Old Town Apartment"
	HarbourRentalID   = 18 // "Harbour House", unpublished

	AirbnbSourceID     = 1
	BookingComSourceID = 2

	InquiryID = 90 // the e-mail question of conversation 13

	BookingCommentID = 95 // a note on booking 81
	PaymentID        = 96 // 1350.00 USD paid for booking 80 (half its price)
	ReviewID         = 97 // five stars for the past booking 84 (rental 17), with the host's reply
)

func (s *Server) seedApplications() {
	at := s.start.Add(-400 * 24 * time.Hour).Unix()
	for _, a := range []struct {
		id          int64
		name, price string
	}{{AirbnbAppID, "Airbnb", "3.0"}, {BookingComAppID, "Booking.com", "15.0"}, {GuestAppID, "Smily Guest App", "0.0"}} {
		s.shared.apps.add(&application{base: base{id: a.id, created: at, updated: at}, name: a.name, priceIncrease: a.price})
	}
}

// seedDemo fills the account with the demo data, every id shifted by off,
// dated relative to start.
func (a *Account) seedDemo(off int64, start time.Time) {
	t0 := start.Truncate(time.Second)
	at := func(d time.Duration) int64 { return t0.Add(d).Unix() }
	day := 24 * time.Hour
	midnight := t0.UTC().Truncate(day)
	stay := func(days int, nights int) (int64, int64) {
		st := midnight.Add(time.Duration(days)*day + 16*time.Hour)
		return st.Unix(), st.Add(time.Duration(nights)*day - 6*time.Hour).Unix()
	}
	appear := start.Add(a.s.cfg.convDelay)
	a.mu.Lock()
	defer a.mu.Unlock()
	d := &a.db

	d.hosts.add(&host{base: base{id: off + HostJanID, created: at(-300 * day), updated: at(-300 * day)}, first: "Jan", last: "Kowalski", email: "host1@example.com", userID: 2})
	d.hosts.add(&host{base: base{id: off + HostMariaID, created: at(-200 * day), updated: at(-200 * day)}, first: "Maria", last: "Rossi", email: "host2@example.com"})
	for _, g := range []struct {
		id                   int64
		first, last, country string
	}{{37, "Emma", "Dubois", "FR"}, {38, "Lukas", "Weber", "DE"}, {39, "Sofia", "Costa", "PT"},
		{40, "Liam", "Byrne", "IE"}, {41, "Mia", "Jensen", "DK"}, {42, "Noah", "Smith", "GB"}} {
		d.guests.add(guestNamed(off+g.id, at(-60*day), g.first, g.last, g.country))
	}
	for _, r := range []struct {
		id   int64
		seed RentalSeed
	}{{OceanViewRentalID, RentalSeed{Name: "Ocean View Loft", Headline: "Loft with a view of the ocean", Address: "1 Beach Road", City: "Biarritz", Zip: "64200", CountryCode: "FR"}},
		{OldTownRentalID, RentalSeed{Name: "Old Town Apartment", Headline: "In the heart of the old town", Address: "5 Market Square", City: "Kraków", Zip: "31-001", CountryCode: "PL"}},
		{HarbourRentalID, RentalSeed{Name: "Harbour House", Headline: "By the harbour", Address: "9 Quay Street", City: "Porto", Zip: "4000-001", CountryCode: "PT", Unpublished: true}}} {
		d.rents.add(newRental(off+r.id, at(-500*day), r.seed))
	}
	d.srcs.add(&source{base: base{id: off + AirbnbSourceID, created: at(-500 * day), updated: at(-500 * day)}, name: "Airbnb", position: 1})
	d.srcs.add(&source{base: base{id: off + BookingComSourceID, created: at(-500 * day), updated: at(-500 * day)}, name: "Booking.com", position: 2})

	addBooking := func(id, rental, client, source, app int64, ref string, startDays, nights int, created int64, price, cur string) *booking {
		st, en := stay(startDays, nights)
		b := &booking{base: base{id: off + id, created: created, updated: created}, rental: off + rental, client: off + client, source: off + source,
			start: st, end: en, status: "Booked", reference: ref, initialPrice: price, finalPrice: price, paid: "0.0",
			currency: cur, adults: 2, balanceDue: st}
		if app != 0 {
			b.createdByID, b.createdByType = app, "Doorkeeper::Application"
		}
		d.books.add(b)
		return b
	}
	b80 := addBooking(AirbnbBookingID, 16, 37, 1, AirbnbAppID, "0000EG", 14, 5, at(-3*day), "2700.0", "USD")
	b81 := addBooking(BookingComBookingID, 17, 38, 2, BookingComAppID, "0000EH", 21, 4, at(-2*day), "1340.50", "EUR")
	b82 := addBooking(DelayedBookingID, 18, 39, 2, BookingComAppID, "0000EI", 30, 7, at(-time.Minute), "980.00", "EUR")
	b83 := addBooking(CanceledBookingID, 16, 41, 1, AirbnbAppID, "0000EJ", 40, 3, at(-20*day), "800.0", "USD")
	b83.canceled, b83.updated = at(-day), at(-day)
	addBooking(PastBookingID, 17, 42, 2, BookingComAppID, "0000EK", -14, 4, at(-60*day), "610.0", "EUR")
	b85 := addBooking(UnavailableBookingID, 17, 0, 0, 0, "0000EL", 50, 10, at(-5*day), "", "EUR")
	b85.client, b85.source = 0, 0
	b85.status, b85.initialPrice, b85.finalPrice, b85.paid, b85.adults = "Unavailable", "", "", "", 0

	conv := func(id, app int64, channel, subject string, created int64, b *booking) *conversation {
		c := &conversation{base: base{id: off + id, created: created, updated: created}, subject: subject, channel: channel}
		if app != 0 {
			c.createdByID, c.createdByType = app, "Doorkeeper::Application"
		}
		d.convs.add(c)
		if b != nil {
			c.bookings = []int64{b.id}
			c.source = b.source
			b.conversations = append(b.conversations, c.id)
		}
		return c
	}
	part := func(id, c int64, typ string, member, created int64) {
		addParticipant(d, &participant{base: base{id: off + id, created: created, updated: created}, conv: off + c, memberType: typ, memberID: off + member})
	}
	msg := func(c, sender int64, content, origin, vis, channel string, sent int64, app int64) {
		m := &message{base: base{created: sent, updated: sent}, conv: off + c, sender: off + sender, content: content,
			origin: origin, visibility: vis, channel: channel, sent: sent}
		if app != 0 {
			m.createdByID, m.createdByType = app, "Doorkeeper::Application"
		}
		addMessage(d, m, sent)
	}

	conv(AirbnbConversationID, AirbnbAppID, "airbnb", "Reservation 0000EG - Ocean View Loft", at(-3*day), b80)
	part(AirbnbClientParticipantID, AirbnbConversationID, "Client", AirbnbClientID, at(-3*day))
	part(AirbnbHostParticipantID, AirbnbConversationID, "Host", HostJanID, at(-3*day))
	msg(AirbnbConversationID, AirbnbClientParticipantID, "Hi! We are arriving around 9pm, is late check-in possible?", "airbnb_message", "external", "airbnb", at(-3*day+time.Minute), AirbnbAppID)
	msg(AirbnbConversationID, AirbnbClientParticipantID, "Also, is there parking nearby?", "airbnb_message", "external", "airbnb", at(-2*day), AirbnbAppID)
	msg(AirbnbConversationID, AirbnbClientParticipantID, "Thanks in advance!", "airbnb_message", "external", "airbnb", at(-time.Hour), AirbnbAppID)

	conv(BookingComConversationID, BookingComAppID, "booking-com", "Booking 0000EH - Old Town Apartment", at(-2*day), b81)
	part(BookingComClientParticipantID, BookingComConversationID, "Client", BookingComClientID, at(-2*day))
	msg(BookingComConversationID, BookingComClientParticipantID, "Hello, could we get a baby cot?", "booking-com", "external", "booking-com", at(-2*day+time.Minute), BookingComAppID)
	msg(BookingComConversationID, BookingComClientParticipantID, "And what is the wifi password?", "booking-com", "external", "booking-com", at(-30*time.Minute), BookingComAppID)

	c13 := conv(ClosedConversationID, 0, "email", "Question about parking", at(-10*day), nil)
	c13.createdByID, c13.createdByType = 2, "User"
	part(4, ClosedConversationID, "Client", 40, at(-10*day))
	part(5, ClosedConversationID, "Host", HostMariaID, at(-10*day))
	msg(ClosedConversationID, 4, "Is there a garage?", "email", "external", "email", at(-10*day), 0)
	msg(ClosedConversationID, 5, "Yes, two streets away.", "bookingsync_inbox", "external", "email", at(-9*day), 0)
	c13.closed, c13.updated = at(-5*day), at(-5*day)
	st, en := stay(60, 7)
	d.inqs.add(&inquiry{base: base{id: off + InquiryID, created: at(-10 * day), updated: at(-10 * day)}, rental: off + OceanViewRentalID,
		first: "Liam", last: "Byrne", email: "guest" + strconv.FormatInt(off+40, 10) + "@example.com", country: "IE",
		message: "Is there a garage?", start: st, end: en, adults: 2, conversation: c13.id})
	c13.inquiries = []int64{off + InquiryID}

	// What a sidebar shows beside the conversations: a note on booking 81,
	// half of booking 80 paid, a review of the past stay with the host's
	// reply.
	bc := &bookingComment{base: base{id: off + BookingCommentID, created: at(-day), updated: at(-day)}, booking: b81.id,
		content: "Baby cot requested; housekeeping will bring one."}
	d.comments.add(bc)
	b81.comments = []int64{bc.id}
	addPayment(d, &payment{base: base{id: off + PaymentID, created: at(-3 * day), updated: at(-3 * day)},
		amount: 135000, currency: "USD", kind: "bank_transfer", fullname: "Emma Dubois", paid: at(-3 * day)}, b80)
	addReview(d, &review{base: base{id: off + ReviewID, created: at(-9 * day), updated: at(-9 * day)}, booking: off + PastBookingID,
		rental: off + OldTownRentalID, rating: 5, title: "Lovely stay", comment: "Central, quiet and spotless.", name: "Noah S.", country: "GB"},
		"Thank you, Noah!", at(-8*day))

	created := appear.Add(time.Second - 1).Truncate(time.Second).Unix() // first whole second at or after appearing
	c14 := conv(DelayedConversationID, BookingComAppID, "booking-com", "Booking 0000EI - Harbour House", created, b82)
	c14.visibleFrom = appear.UnixNano()
	d.latest = max(d.latest, c14.visibleFrom)
	a.announceLater(c14)
	part(6, DelayedConversationID, "Client", 39, created)
	msg(DelayedConversationID, 6, "Hi, we just booked. What time is check-in?", "booking-com", "external", "booking-com", created, BookingComAppID)
}

// channelOrigins is the origin of a guest's message on each channel.
var channelOrigins = map[string]string{"airbnb": "airbnb_message", "booking-com": "booking-com", "homeaway": "homeaway", "email": "email", "": "email"}

// GenerateConversations bulk-adds n conversations created now, each with
// its guest (a client record) and one Client participant, cycling through
// appIDs as creators (none: no creator, no channel). It returns their ids
// in order.
func (a *Account) GenerateConversations(n int, appIDs ...int64) []int64 {
	return a.GenerateInbox(n, 0, appIDs...)
}

// GenerateInbox bulk-adds conversations as GenerateConversations does and
// messages guest messages spread evenly over them (conversation i gets
// messages i, i+n, …), sent one second apart ending now. It returns the
// conversations' ids in order. 10,000 conversations and 50,000 messages
// take a fraction of a second.
func (a *Account) GenerateInbox(conversations, messages int, appIDs ...int64) []int64 {
	chans := make([]string, len(appIDs))
	for i, app := range appIDs {
		chans[i] = a.s.channelOf(app)
	}
	out := make([]int64, 0, conversations)
	var pids []int64
	a.change(func(o op) {
		d := o.d
		for i := 0; i < conversations; i++ {
			c := &conversation{base: base{created: o.now, updated: o.now}, subject: "Guest conversation"}
			if len(appIDs) > 0 {
				c.createdByID, c.createdByType, c.channel = appIDs[i%len(appIDs)], "Doorkeeper::Application", chans[i%len(appIDs)]
			}
			id := d.convs.add(c)
			g := d.guests.add(&guest{base: base{created: o.now, updated: o.now}, first: "Guest", last: strconv.FormatInt(id, 10), locale: "en"})
			pid := d.parts.add(&participant{base: base{created: o.now, updated: o.now}, conv: id, memberType: "Client", memberID: g})
			c.participants = []int64{pid}
			out = append(out, id)
			pids = append(pids, pid)
		}
		if conversations == 0 {
			return
		}
		for i := 0; i < messages; i++ {
			j := i % conversations
			c := d.convs.rows[out[j]]
			sent := o.now - int64(messages-i)
			m := &message{base: base{created: sent, updated: sent}, conv: c.id, sender: pids[j],
				content: "Guest message " + strconv.Itoa(i+1), origin: channelOrigins[c.channel], visibility: "external",
				channel: c.channel, sent: sent, createdByID: c.createdByID, createdByType: c.createdByType}
			addMessage(d, m, sent)
		}
	})
	return out
}
