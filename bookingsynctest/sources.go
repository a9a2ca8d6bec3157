package bookingsynctest

type source struct {
	base
	name     string
	position int
}

func init() {
	register(&kind{plural: "sources", singular: "source", path: "sources",
		// The reference lists sources under the bookings scopes.
		read:  []string{"bookings_read", "bookings_write", "bookings_write_owned"},
		write: []string{"bookings_write", "bookings_write_owned"},
		links: tmpl("sources", "account", "accounts/{sources.account}", "bookings", "bookings/{sources.bookings}"),
		table: func(d *db) store { return d.srcs }, remove: removeRow(func(d *db) *table[*source] { return d.srcs }),
		create: createWithSet(func(o op) *source { // last, unless the write says where
			return &source{base: base{created: o.now, updated: o.now}, position: len(o.d.srcs.ids) + 1}
		}, func(d *db) *table[*source] { return d.srcs }), update: updateWithSet[source]})
}

// set applies a source write: name (required, at most 50 characters) and
// position.
func (s *source) set(p params, e verrs) {
	p.setStrings(e, map[string]*string{"name": &s.name})
	switch n := len([]rune(s.name)); {
	case n == 0:
		e.add("name", blank)
	case n > 50:
		e.add("name", "is too long (maximum is 50 characters)")
	}
	if p.has("position") {
		if v, ok := p.id("position"); ok {
			s.position = int(v)
		} else {
			e.add("position", invalid)
		}
	}
}

func (s *source) render(d *db, rc *rctx) obj {
	var books []int64
	for _, id := range d.books.ids {
		if b := d.books.rows[id]; b.source == s.id {
			books = append(books, id)
		}
	}
	return obj{
		{"links", obj{{"account", rc.account}, {"bookings", ids(books)}}},
		{"id", s.id}, {"name", s.name}, {"created_at", tm(s.created)}, {"updated_at", tm(s.updated)},
		{"position", s.position}, {"internal", false},
	}
}

// AddSource adds a booking source (where bookings come from) and returns
// its id.
func (a *Account) AddSource(name string) (id int64) {
	a.change(func(o op) {
		id = o.d.srcs.add(&source{base: base{created: o.now, updated: o.now}, name: name, position: len(o.d.srcs.ids) + 1})
	})
	return id
}
