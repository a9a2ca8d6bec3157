package bookingsynctest

import "strconv"

// guest is a client record: a traveller. (The name avoids the Go reader's
// "client" of HTTP; the API calls the resource clients.)
type guest struct {
	base
	full                                  string // a fullname written as such ("": first and last)
	first, last, company, notes, passport string
	locale, vat                           string
	emails                                []labelled // label, email
	phones                                []labelled // label, number
	addresses                             []address
	forgetMe, restricted                  int64
}

type labelled struct{ label, value string }

type address struct{ label, address1, address2, city, state, zip, country string }

func init() {
	register(&kind{plural: "clients", singular: "client", path: "clients",
		read: []string{"clients_read", "clients_write"}, write: []string{"clients_write"},
		links: tmpl("clients", "account", "accounts/{clients.account}"),
		table: func(d *db) store { return d.guests }, remove: removeRow(func(d *db) *table[*guest] { return d.guests }),
		create: createWithSet(func(o op) *guest { return newGuest(o.now, "", "") }, func(d *db) *table[*guest] { return d.guests }), update: updateWithSet[guest],
		events: events{created: "client_created", updated: "client_updated", destroyed: "client_destroyed"}})
}

func newGuest(at int64, first, last string) *guest {
	return &guest{base: base{created: at, updated: at}, first: first, last: last, locale: "en"}
}

func (g *guest) fullname() string {
	switch {
	case g.full != "":
		return g.full
	case g.first == "":
		return g.last
	case g.last == "":
		return g.first
	}
	return g.first + " " + g.last
}

// render follows the reference's clients example; nested records get ids
// derived from the client's (unique among the client's own).
func (g *guest) render(_ *db, rc *rctx) obj {
	sub := func(i int, o obj) obj {
		return append(obj{{"id", g.id*100 + int64(i) + 1}, {"client_id", g.id}}, append(o,
			field{"created_at", tm(g.created)}, field{"updated_at", tm(g.updated)},
			field{"canceled_at", nil}, field{"primary", i == 0})...)
	}
	emails := make([]obj, len(g.emails))
	for i, e := range g.emails {
		emails[i] = append(sub(i, obj{{"label", e.label}, {"email", e.value}}), field{"locked", nil})
	}
	phones := make([]obj, len(g.phones))
	for i, p := range g.phones {
		phones[i] = append(sub(i, obj{{"label", p.label}, {"number", p.value}, {"country_code", nil}}), field{"locked", nil})
	}
	addrs := make([]obj, len(g.addresses))
	for i, a := range g.addresses {
		addrs[i] = sub(i, obj{{"label", a.label}, {"address1", a.address1}, {"address2", nullStr(a.address2)},
			{"city", a.city}, {"state", nullStr(a.state)}, {"zip", a.zip}, {"country_code", a.country}})
	}
	return obj{
		{"links", obj{{"account", rc.account}}},
		{"id", g.id}, {"addresses", addrs}, {"emails", emails}, {"phones", phones},
		{"created_at", tm(g.created)}, {"updated_at", tm(g.updated)},
		{"fullname", g.fullname()}, {"firstname", g.first}, {"lastname", g.last},
		{"notes", g.notes}, {"passport", nullStr(g.passport)}, {"preferred_locale", nullStr(g.locale)},
		{"company", g.company}, {"vat_number", g.vat},
		{"forget_me_at", tm(g.forgetMe)}, {"processing_restricted_at", tm(g.restricted)},
		{"canceled_at", nil}, // seen in a live response, absent from the reference's example
	}
}

// ClientSeed describes a client (a traveller, a guest) for AddClient.
type ClientSeed struct {
	Firstname, Lastname string
	Email, Phone        string // each becomes the first of its list
	// Address, City, Zip and CountryCode make one address when Address is set.
	Address, City, Zip, CountryCode string
	Locale                          string // preferred_locale (default "en")
	Company, Notes                  string
}

// AddClient adds a client (a guest) and returns its id: the id a Client
// participant's member and a booking's client link carry. A client_created
// webhook is delivered.
func (a *Account) AddClient(c ClientSeed) (id int64) {
	var hook []byte
	defer func() { a.deliver("client_created", hook) }()
	a.change(func(o op) {
		g := newGuest(o.now, c.Firstname, c.Lastname)
		if c.Locale != "" {
			g.locale = c.Locale
		}
		g.company, g.notes = c.Company, c.Notes
		if c.Email != "" {
			g.emails = []labelled{{"default", c.Email}}
		}
		if c.Phone != "" {
			g.phones = []labelled{{"mobile", c.Phone}}
		}
		if c.Address != "" {
			g.addresses = []address{{label: "default", address1: c.Address, city: c.City, zip: c.Zip, country: c.CountryCode}}
		}
		id = o.d.guests.add(g)
		hook = a.notify("clients", "client_created", g)
	})
	return id
}

// guestNamed is the seed's and the generator's guest.
func guestNamed(id, at int64, first, last, country string) *guest {
	g := newGuest(at, first, last)
	g.id = id
	g.emails = []labelled{{"default", "guest" + strconv.FormatInt(id, 10) + "@example.com"}}
	g.phones = []labelled{{"mobile", "+33 6 12 34 " + strconv.FormatInt(10+id%90, 10) + " 00"}}
	g.addresses = []address{{label: "default", address1: strconv.FormatInt(1+id%97, 10) + " Main Street", city: "Springfield", zip: "12345", country: country}}
	return g
}

// set applies a client write: the names, company, notes, passport, locale
// and VAT number, and each list sent whole (it replaces the guest's, as
// the reference warns). A name is needed: fullname, firstname or
// lastname (the reference asks for fullname or both of the others; the
// fake takes either, a guess); names are at most 150 characters; each
// list element needs its label and value.
func (g *guest) set(p params, e verrs) {
	p.setStrings(e, map[string]*string{"fullname": &g.full, "firstname": &g.first, "lastname": &g.last,
		"company": &g.company, "notes": &g.notes, "passport": &g.passport, "preferred_locale": &g.locale, "vat_number": &g.vat})
	if g.full == "" && g.first == "" && g.last == "" {
		e.add("fullname", blank)
	}
	for _, k := range []string{"fullname", "firstname", "lastname"} {
		if v, _ := p.str(k); len([]rune(v)) > 150 {
			e.add(k, "is too long (maximum is 150 characters)")
		}
	}
	elems := func(key string, need ...string) []map[string]string {
		raw, ok := p[key].([]any)
		if !p.has(key) {
			return nil
		}
		out := []map[string]string{}
		if !ok {
			e.add(key, invalid)
			return out
		}
		for _, x := range raw {
			m, _ := x.(map[string]any)
			el := map[string]string{}
			for k := range m {
				el[k], _ = params(m).str(k)
			}
			for _, n := range need {
				if el[n] == "" {
					e.add(key+"."+n, blank)
				}
			}
			out = append(out, el)
		}
		return out
	}
	if l := elems("emails", "label", "email"); l != nil {
		g.emails = nil
		for _, el := range l {
			g.emails = append(g.emails, labelled{el["label"], el["email"]})
		}
	}
	if l := elems("phones", "label", "number"); l != nil {
		g.phones = nil
		for _, el := range l {
			g.phones = append(g.phones, labelled{el["label"], el["number"]})
		}
	}
	if l := elems("addresses", "label"); l != nil {
		g.addresses = nil
		for _, el := range l {
			g.addresses = append(g.addresses, address{label: el["label"], address1: el["address1"], address2: el["address2"],
				city: el["city"], state: el["state"], zip: el["zip"], country: el["country_code"]})
		}
	}
}
