package bookingsynctest

import (
	"slices"
	"time"
)

// Ids of the seeded account (absent with WithoutSeed).
const (
	AirbnbAppID     = 65 // application "Airbnb"
	BookingComAppID = 66 // application "Booking.com"
	GuestAppID      = 70 // application "Smily Guest App", not a channel

	HostJanID   = 2 // host Jan Kowalski, host1@example.com, user 2
	HostMariaID = 3 // host Maria Rossi

	AirbnbBookingID      = 80 // future, Booked, on Airbnb, conversation 11
	BookingComBookingID  = 81 // future, Booked, on Booking.com, conversation 12
	DelayedBookingID     = 82 // future, Booked, on Booking.com; conversation 14 appears after the delay
	CanceledBookingID    = 83 // future, canceled
	PastBookingID        = 84 // ended ten days before the server started
	UnavailableBookingID = 85 // future owner block, status Unavailable

	AirbnbConversationID     = 11 // open, by Airbnb: Client participant 1, Host participant 2 (host 2), 3 client messages
	BookingComConversationID = 12 // open, by Booking.com: Client participant 3, 2 client messages
	ClosedConversationID     = 13 // closed e-mail conversation created by user 2, no booking
	DelayedConversationID    = 14 // by Booking.com, visible WithConversationDelay after start

	AirbnbClientParticipantID     = 1
	AirbnbHostParticipantID       = 2
	BookingComClientParticipantID = 3
)

var appChannels = map[string]string{"Airbnb": "airbnb", "Booking.com": "booking-com", "HomeAway": "homeaway", "Vrbo": "homeaway"}

func (s *Server) seed() {
	t0 := s.start.Truncate(time.Second)
	at := func(d time.Duration) int64 { return t0.Add(d).Unix() }
	day := 24 * time.Hour
	midnight := t0.UTC().Truncate(day)
	stay := func(days int, nights int) (int64, int64) {
		st := midnight.Add(time.Duration(days)*day + 16*time.Hour)
		return st.Unix(), st.Add(time.Duration(nights)*day - 6*time.Hour).Unix()
	}
	for _, a := range []struct {
		id          int64
		name, price string
	}{{AirbnbAppID, "Airbnb", "3.0"}, {BookingComAppID, "Booking.com", "15.0"}, {GuestAppID, "Smily Guest App", "0.0"}} {
		s.apps.add(&application{base: base{id: a.id, created: at(-400 * day), updated: at(-400 * day)}, name: a.name, priceIncrease: a.price})
	}
	s.hosts.add(&host{base: base{id: HostJanID, created: at(-300 * day), updated: at(-300 * day)}, first: "Jan", last: "Kowalski", email: "host1@example.com", userID: 2})
	s.hosts.add(&host{base: base{id: HostMariaID, created: at(-200 * day), updated: at(-200 * day)}, first: "Maria", last: "Rossi", email: "host2@example.com"})

	addBooking := func(id, rental, client, source, app int64, ref string, startDays, nights int, created int64, price, cur string) *booking {
		st, en := stay(startDays, nights)
		b := &booking{base: base{id: id, created: created, updated: created}, rental: rental, client: client, source: source,
			start: st, end: en, status: "Booked", reference: ref, initialPrice: price, finalPrice: price, paid: "0.0",
			currency: cur, adults: 2, balanceDue: st}
		if app != 0 {
			b.createdByID, b.createdByType = app, "Doorkeeper::Application"
		}
		s.books.add(b)
		return b
	}
	b80 := addBooking(AirbnbBookingID, 16, 37, 1, AirbnbAppID, "0000EG", 14, 5, at(-3*day), "2700.0", "USD")
	b81 := addBooking(BookingComBookingID, 17, 38, 2, BookingComAppID, "0000EH", 21, 4, at(-2*day), "1340.50", "EUR")
	b82 := addBooking(DelayedBookingID, 18, 39, 2, BookingComAppID, "0000EI", 30, 7, at(-time.Minute), "980.00", "EUR")
	b83 := addBooking(CanceledBookingID, 16, 41, 1, AirbnbAppID, "0000EJ", 40, 3, at(-20*day), "800.0", "USD")
	b83.canceled, b83.updated = at(-day), at(-day)
	addBooking(PastBookingID, 17, 42, 2, BookingComAppID, "0000EK", -14, 4, at(-60*day), "610.0", "EUR")
	b85 := addBooking(UnavailableBookingID, 17, 0, 0, 0, "0000EL", 50, 10, at(-5*day), "", "EUR")
	b85.status, b85.initialPrice, b85.finalPrice, b85.paid, b85.adults = "Unavailable", "", "", "", 0

	conv := func(id, app int64, channel, subject string, created int64, b *booking) *conversation {
		c := &conversation{base: base{id: id, created: created, updated: created}, subject: subject, channel: channel}
		if app != 0 {
			c.createdByID, c.createdByType = app, "Doorkeeper::Application"
		}
		s.convs.add(c)
		if b != nil {
			c.bookings = []int64{b.id}
			b.conversations = append(b.conversations, id)
		}
		return c
	}
	part := func(id, c int64, typ string, member, created int64) {
		s.addParticipant(&participant{base: base{id: id, created: created, updated: created}, conv: c, memberType: typ, memberID: member})
	}
	msg := func(c, sender int64, content, origin, vis, channel string, sent int64, app int64) {
		m := &message{base: base{created: sent, updated: sent}, conv: c, sender: sender, content: content,
			origin: origin, visibility: vis, channel: channel, sent: sent}
		if app != 0 {
			m.createdByID, m.createdByType = app, "Doorkeeper::Application"
		}
		s.addMessage(m, sent)
	}

	conv(AirbnbConversationID, AirbnbAppID, "airbnb", "Reservation 0000EG - Ocean View Loft", at(-3*day), b80)
	part(AirbnbClientParticipantID, AirbnbConversationID, "Client", 37, at(-3*day))
	part(AirbnbHostParticipantID, AirbnbConversationID, "Host", HostJanID, at(-3*day))
	msg(AirbnbConversationID, AirbnbClientParticipantID, "Hi! We are arriving around 9pm, is late check-in possible?", "airbnb_message", "external", "airbnb", at(-3*day+time.Minute), AirbnbAppID)
	msg(AirbnbConversationID, AirbnbClientParticipantID, "Also, is there parking nearby?", "airbnb_message", "external", "airbnb", at(-2*day), AirbnbAppID)
	msg(AirbnbConversationID, AirbnbClientParticipantID, "Thanks in advance!", "airbnb_message", "external", "airbnb", at(-time.Hour), AirbnbAppID)

	conv(BookingComConversationID, BookingComAppID, "booking-com", "Booking 0000EH - Old Town Apartment", at(-2*day), b81)
	part(BookingComClientParticipantID, BookingComConversationID, "Client", 38, at(-2*day))
	msg(BookingComConversationID, BookingComClientParticipantID, "Hello, could we get a baby cot?", "booking-com", "external", "booking-com", at(-2*day+time.Minute), BookingComAppID)
	msg(BookingComConversationID, BookingComClientParticipantID, "And what is the wifi password?", "booking-com", "external", "booking-com", at(-30*time.Minute), BookingComAppID)

	c13 := conv(ClosedConversationID, 0, "email", "Question about parking", at(-10*day), nil)
	c13.createdByID, c13.createdByType = 2, "User"
	part(4, ClosedConversationID, "Client", 40, at(-10*day))
	part(5, ClosedConversationID, "Host", HostMariaID, at(-10*day))
	msg(ClosedConversationID, 4, "Is there a garage?", "email", "external", "email", at(-10*day), 0)
	msg(ClosedConversationID, 5, "Yes, two streets away.", "bookingsync_inbox", "external", "email", at(-9*day), 0)
	c13.closed, c13.updated = at(-5*day), at(-5*day)

	appear := s.start.Add(s.cfg.convDelay)
	created := appear.Add(time.Second - 1).Truncate(time.Second).Unix() // first whole second at or after appearing
	c14 := conv(DelayedConversationID, BookingComAppID, "booking-com", "Booking 0000EI - Harbour House", created, b82)
	c14.visibleFrom = appear.UnixNano()
	s.db.latest = max(s.db.latest, c14.visibleFrom)
	part(6, DelayedConversationID, "Client", 39, created)
	msg(DelayedConversationID, 6, "Hi, we just booked. What time is check-in?", "booking-com", "external", "booking-com", created, BookingComAppID)
}

// AddApplication adds an application to the account and returns its id.
func (s *Server) AddApplication(name string) int64 {
	now := s.now().Unix()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.apps.add(&application{base: base{created: now, updated: now}, name: name, priceIncrease: "0.0"})
}

// AddHost adds a host (no user) and returns its id.
func (s *Server) AddHost(first, last, email string) int64 {
	now := s.now().Unix()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hosts.add(&host{base: base{created: now, updated: now}, first: first, last: last, email: email})
}

// BookingSeed describes a booking for AddBooking.
type BookingSeed struct {
	RentalID, ClientID int64
	// ApplicationID, when set, is the creator (a channel booking).
	ApplicationID int64
	// Status is Booked (default), Tentative or Unavailable.
	Status string
	// Start and End default to 7 and 10 days from now.
	Start, End time.Time
	Canceled   bool
	Reference  string
	// FinalPrice (decimal string, default "1000.0") and Currency ("EUR").
	FinalPrice, Currency string
}

// AddBooking adds a booking and returns its id.
func (s *Server) AddBooking(b BookingSeed) int64 {
	now := s.now()
	ns := now.Unix()
	if b.Start.IsZero() {
		b.Start = now.Add(7 * 24 * time.Hour)
	}
	if b.End.IsZero() {
		b.End = b.Start.Add(3 * 24 * time.Hour)
	}
	bk := &booking{base: base{created: ns, updated: ns}, rental: b.RentalID, client: b.ClientID,
		start: b.Start.Unix(), end: b.End.Unix(), status: b.Status, reference: b.Reference,
		initialPrice: b.FinalPrice, finalPrice: b.FinalPrice, paid: "0.0", currency: b.Currency, adults: 2}
	if bk.status == "" {
		bk.status = "Booked"
	}
	if bk.finalPrice == "" {
		bk.initialPrice, bk.finalPrice = "1000.0", "1000.0"
	}
	if bk.currency == "" {
		bk.currency = "EUR"
	}
	if b.Canceled {
		bk.canceled = ns
	}
	if b.ApplicationID != 0 {
		bk.createdByID, bk.createdByType = b.ApplicationID, "Doorkeeper::Application"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.books.add(bk)
}

// ConversationSeed describes a conversation for AddConversation.
type ConversationSeed struct {
	Subject string
	// ApplicationID, when set, is the creator (created_by_type
	// Doorkeeper::Application); the channel follows from its name
	// (Airbnb, Booking.com, HomeAway/Vrbo) unless Channel is set.
	ApplicationID int64
	Channel       string
	BookingIDs    []int64
	// ClientID, when set, adds a Client participant for that client.
	ClientID int64
	Closed   bool
	// AppearAfter hides the conversation (and its booking link) until the
	// clock has moved this far past now.
	AppearAfter time.Duration
}

// AddConversation adds a conversation and returns its id.
func (s *Server) AddConversation(c ConversationSeed) int64 {
	now := s.now()
	appear := now.Add(c.AppearAfter)
	created := appear.Unix()
	s.mu.Lock()
	defer s.mu.Unlock()
	cv := &conversation{base: base{created: created, updated: created}, subject: c.Subject, channel: c.Channel}
	if c.ApplicationID != 0 {
		cv.createdByID, cv.createdByType = c.ApplicationID, "Doorkeeper::Application"
		if a := s.apps.rows[c.ApplicationID]; a != nil && cv.channel == "" {
			cv.channel = appChannels[a.name]
		}
	}
	if c.Closed {
		cv.closed = created
	}
	if c.AppearAfter > 0 {
		cv.visibleFrom = appear.UnixNano()
		s.db.latest = max(s.db.latest, cv.visibleFrom)
	}
	id := s.convs.add(cv)
	for _, b := range c.BookingIDs {
		if bk := s.books.rows[b]; bk != nil {
			cv.bookings = append(cv.bookings, b)
			bk.conversations = append(bk.conversations, id)
		}
	}
	if c.ClientID != 0 {
		s.addParticipant(&participant{base: base{created: created, updated: created}, conv: id, memberType: "Client", memberID: c.ClientID})
	}
	return id
}

// AddParticipant adds a participant (memberType "Host" or "Client") to a
// conversation without validation and returns its id.
func (s *Server) AddParticipant(conversationID int64, memberType string, memberID int64) int64 {
	now := s.now().Unix()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addParticipant(&participant{base: base{created: now, updated: now}, conv: conversationID, memberType: memberType, memberID: memberID})
}

// MessageSeed describes a message for AddMessage.
type MessageSeed struct {
	ConversationID int64
	SenderID       int64 // a participant id
	Content        string
	// Origin (default "bookingsync_inbox"), Visibility (default
	// "external") and Channel (optional).
	Origin, Visibility, Channel string
	SentAt                      time.Time // default now
}

// AddMessage adds a message without validation, updating the
// conversation's last_message_at and the sender's last_message_sent_at.
func (s *Server) AddMessage(m MessageSeed) int64 {
	now := s.now()
	if m.SentAt.IsZero() {
		m.SentAt = now
	}
	if m.Origin == "" {
		m.Origin = "bookingsync_inbox"
	}
	if m.Visibility == "" {
		m.Visibility = "external"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addMessage(&message{base: base{created: now.Unix(), updated: now.Unix()}, conv: m.ConversationID, sender: m.SenderID,
		content: m.Content, origin: m.Origin, visibility: m.Visibility, channel: m.Channel, sent: m.SentAt.Unix()}, now.Unix())
}

// Touch sets a record's updated_at to now; plural names the resource
// ("conversations", "messages", ...). It reports whether the record exists.
func (s *Server) Touch(plural string, id int64) bool {
	k := kindsByPlural[plural]
	if k == nil {
		return false
	}
	now := s.now().Unix()
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := k.table(&s.db).lookup(id)
	if ok {
		r.hdr().updated = now
	}
	return ok
}

// Delete removes a record, leaving a tombstone dated now for
// meta.deleted_ids. Deleting a conversation also deletes its participants
// and messages. plural names the resource ("conversations", "hosts", ...).
// It reports whether the record existed.
func (s *Server) Delete(plural string, id int64) bool {
	now := s.now().Unix()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.delete(plural, id, now)
}

// DeleteConversation is Delete("conversations", id).
func (s *Server) DeleteConversation(id int64) bool { return s.Delete("conversations", id) }

func drop(l []int64, id int64) []int64 {
	if i := slices.Index(l, id); i >= 0 {
		return slices.Delete(l, i, i+1)
	}
	return l
}

func (s *Server) delete(plural string, id, now int64) bool {
	switch plural {
	case "conversations":
		c := s.convs.rows[id]
		if c == nil {
			return false
		}
		for _, b := range c.bookings {
			if bk := s.books.rows[b]; bk != nil {
				bk.conversations = drop(bk.conversations, id)
			}
		}
		for _, m := range slices.Clone(c.messages) {
			s.delete("messages", m, now)
		}
		for _, p := range slices.Clone(c.participants) {
			s.delete("participants", p, now)
		}
		return s.convs.remove(id, now)
	case "participants":
		p := s.parts.rows[id]
		if p == nil {
			return false
		}
		if c := s.convs.rows[p.conv]; c != nil {
			c.participants = drop(c.participants, id)
		}
		if h := s.hosts.rows[p.memberID]; h != nil && p.memberType == "Host" {
			h.participants = drop(h.participants, id)
		}
		return s.parts.remove(id, now)
	case "messages":
		m := s.msgs.rows[id]
		if m == nil {
			return false
		}
		if c := s.convs.rows[m.conv]; c != nil {
			c.messages = drop(c.messages, id)
		}
		for _, a := range m.attachments {
			if at := s.atts.rows[a]; at != nil {
				at.messages = drop(at.messages, id)
			}
		}
		return s.msgs.remove(id, now)
	case "attachments":
		a := s.atts.rows[id]
		if a == nil {
			return false
		}
		for _, m := range a.messages {
			if ms := s.msgs.rows[m]; ms != nil {
				ms.attachments = drop(ms.attachments, id)
			}
		}
		return s.atts.remove(id, now)
	case "bookings":
		b := s.books.rows[id]
		if b == nil {
			return false
		}
		for _, c := range b.conversations {
			if cv := s.convs.rows[c]; cv != nil {
				cv.bookings = drop(cv.bookings, id)
			}
		}
		return s.books.remove(id, now)
	case "hosts":
		return s.hosts.remove(id, now)
	case "applications":
		return s.apps.remove(id, now)
	}
	return false
}

// GenerateConversations bulk-adds n conversations created now, each with
// one Client participant, cycling through appIDs as creators (none: no
// creator, no channel). It returns their ids in order.
func (s *Server) GenerateConversations(n int, appIDs ...int64) []int64 {
	now := s.now().Unix()
	s.mu.Lock()
	defer s.mu.Unlock()
	chans := make([]string, len(appIDs))
	for i, a := range appIDs {
		if app := s.apps.rows[a]; app != nil {
			chans[i] = appChannels[app.name]
		}
	}
	out := make([]int64, 0, n)
	for i := 0; i < n; i++ {
		c := &conversation{base: base{created: now, updated: now}, subject: "Guest conversation"}
		if len(appIDs) > 0 {
			c.createdByID, c.createdByType, c.channel = appIDs[i%len(appIDs)], "Doorkeeper::Application", chans[i%len(appIDs)]
		}
		id := s.convs.add(c)
		pid := s.parts.add(&participant{base: base{created: now, updated: now}, conv: id, memberType: "Client", memberID: 100000 + id})
		c.participants = []int64{pid}
		out = append(out, id)
	}
	return out
}
