package bookingsynctest

type host struct {
	base
	first, last, email   string
	userID, sourceID     int64
	forgetMe, restricted int64
	participants         []int64
}

func init() {
	register(&kind{plural: "hosts", singular: "host", path: "hosts",
		read: inboxRead, write: inboxWrite,
		links: tmpl("hosts", "user", "users/{hosts.user}", "source", "sources/{hosts.source}",
			"account", "accounts/{hosts.account}", "participants", "inbox/participants/{hosts.participants}"),
		table: func(d *db) store { return d.hosts },
		create: createWithSet(func(o op) *host { return &host{base: base{created: o.now, updated: o.now}} },
			func(d *db) *table[*host] { return d.hosts }), update: updateWithSet[host], remove: removeRow(func(d *db) *table[*host] { return d.hosts })})
}

func (h *host) render(_ *db, rc *rctx) obj {
	return obj{
		{"links", obj{
			{"account", rc.account}, {"participants", ids(h.participants)},
			{"source", nullID(h.sourceID)}, {"user", nullID(h.userID)},
		}},
		{"id", h.id}, {"firstname", h.first}, {"lastname", h.last}, {"email", nullStr(h.email)},
		{"created_at", tm(h.created)}, {"updated_at", tm(h.updated)},
		{"forget_me_at", tm(h.forgetMe)}, {"processing_restricted_at", tm(h.restricted)},
	}
}

// set applies the create/update fields (an update accepts them all):
// firstname and lastname are required; email, user_id and source_id are
// optional and may be cleared with null or "".
func (h *host) set(p params, e verrs) {
	p.setStrings(e, map[string]*string{"firstname": &h.first, "lastname": &h.last, "email": &h.email})
	for _, f := range []struct {
		key string
		v   *int64
	}{{"user_id", &h.userID}, {"source_id", &h.sourceID}} {
		if p.has(f.key) {
			if v, ok := p.id(f.key); ok {
				*f.v = v
			} else {
				e.add(f.key, invalid)
			}
		}
	}
	if h.first == "" {
		e.add("firstname", blank)
	}
	if h.last == "" {
		e.add("lastname", blank)
	}
}

// AddHost adds a host (no user) and returns its id.
func (a *Account) AddHost(first, last, email string) (id int64) {
	a.change(func(o op) {
		id = o.d.hosts.add(&host{base: base{created: o.now, updated: o.now}, first: first, last: last, email: email})
	})
	return id
}
