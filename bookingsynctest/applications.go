package bookingsynctest

type application struct {
	base
	name, priceIncrease string
}

func init() {
	register(&kind{plural: "applications", singular: "application", path: "applications", global: true,
		read:  []string{"applications_read"},
		table: func(d *db) store { return d.apps }, remove: removeRow(func(d *db) *table[*application] { return d.apps })})
}

func (a *application) render(*db, *rctx) obj {
	// The reference's example has no links; the recordings show the times.
	return obj{{"id", a.id}, {"name", a.name}, {"default_price_increase", a.priceIncrease},
		{"created_at", tm(a.created)}, {"updated_at", tm(a.updated)}}
}

// AddApplication adds an application (shared by every account, as in the
// real API) and returns its id.
func (s *Server) AddApplication(name string) int64 {
	now := s.now().Unix()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.shared.apps.add(&application{base: base{created: now, updated: now}, name: name, priceIncrease: "0.0"})
}
