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
		links: tmpl("sources", "account", "accounts/{sources.account}", "bookings", "bookings/{sources.bookings}"),
		table: func(d *db) store { return d.srcs }, remove: removeRow(func(d *db) *table[*source] { return d.srcs })})
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
