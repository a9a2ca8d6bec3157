package bookingsynctest

import "time"

type inquiry struct {
	base
	rental, source, booking     int64
	conversation                int64
	first, last, email, country string
	phone, message              string
	start, end                  int64
	adults, children            int
}

func init() {
	register(&kind{plural: "inquiries", singular: "inquiry", path: "inquiries",
		read: []string{"inquiries_read", "inquiries_write", "inquiries_write_owned"},
		links: tmpl("inquiries", "rental", "rentals/{inquiries.rental}", "source", "sources/{inquiries.source}", "booking", "bookings/{inquiries.booking}",
			"conversation", "inbox/conversations/{inquiries.conversation}", "account", "accounts/{inquiries.account}"),
		table: func(d *db) store { return d.inqs }, remove: removeRow(func(d *db) *table[*inquiry] { return d.inqs }),
		events: events{created: "inquiry_created", updated: "inquiry_updated", destroyed: "inquiry_destroyed"}})
}

// render writes the recorded attributes and the links the reference
// documents (the recordings show booking, rental and source only).
func (q *inquiry) render(_ *db, rc *rctx) obj {
	return obj{
		{"links", obj{{"booking", nullID(q.booking)}, {"rental", nullID(q.rental)}, {"source", nullID(q.source)},
			{"conversation", nullID(q.conversation)}, {"account", rc.account}}},
		{"id", q.id}, {"firstname", q.first}, {"lastname", q.last}, {"email", q.email},
		{"country_code", nullStr(q.country)}, {"phone", nullStr(q.phone)},
		{"start_at", tm(q.start)}, {"end_at", tm(q.end)}, {"adults", q.adults}, {"children", q.children},
		{"message", nullStr(q.message)}, {"locked", nil},
		{"created_at", tm(q.created)}, {"updated_at", tm(q.updated)},
	}
}

// InquirySeed describes an inquiry (a pre-booking request) for AddInquiry.
type InquirySeed struct {
	RentalID                   int64
	Firstname, Lastname, Email string
	Message                    string
	Start, End                 time.Time // default 30 and 33 days from now
	// ConversationID, when set, links the inquiry to that conversation
	// (its links.inquiries).
	ConversationID int64
}

// AddInquiry adds an inquiry and returns its id; an inquiry_created
// webhook is delivered.
func (a *Account) AddInquiry(q InquirySeed) (id int64) {
	var hook []byte
	defer func() { a.deliver("inquiry_created", hook) }()
	a.change(func(o op) {
		if q.Start.IsZero() {
			q.Start = time.Unix(o.now, 0).Add(30 * 24 * time.Hour)
		}
		if q.End.IsZero() {
			q.End = q.Start.Add(3 * 24 * time.Hour)
		}
		iq := &inquiry{base: base{created: o.now, updated: o.now}, rental: q.RentalID,
			first: q.Firstname, last: q.Lastname, email: q.Email, message: q.Message,
			start: q.Start.Unix(), end: q.End.Unix(), adults: 2}
		id = o.d.inqs.add(iq)
		if c := o.d.convs.rows[q.ConversationID]; c != nil {
			c.inquiries = append(c.inquiries, id)
			iq.conversation = c.id
		}
		hook = a.notify("inquiries", "inquiry_created", iq)
	})
	return id
}
