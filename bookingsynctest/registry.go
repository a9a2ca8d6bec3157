package bookingsynctest

import (
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// kind describes one resource. Each resource's file registers its kind in
// an init function; the routes, the scope checks and the list/get/write
// paths below are derived from the registry, nothing else lists resources.
type kind struct {
	plural, singular, path string
	read                   []string // scopes that see the full view; nil: every token (public)
	write                  []string // scopes that may write
	reduced                bool     // without a read scope a token still reads the reduced view
	global                 bool     // the records are shared by every account (under Server.mu)
	links                  []string // link templates: key, path pairs
	reducedLinks           []string // the templates of the reduced view
	table                  func(d *db) store
	filter                 func(c *apiReq, q url.Values) (func(record) bool, verrs)
	visibleTo              func(c *apiReq, r record) bool // who sees which record (nil: all)
	acrossAccounts         bool                           // a client-credentials token reads every account's
	create                 func(o op, p params) (record, verrs)
	update                 func(o op, r record, p params) verrs
	actions                map[string]func(o op, r record, body []byte) (int, verrs)
	remove                 func(d *db, id, now int64) bool
	events                 [2]string       // webhook events on create and on update ("": none)
	get                    func(c *apiReq) // a custom GET of the collection (GET /me)
	writesMissing          bool            // the real API has writes the fake lacks: 501
}

// op is what a create, update or action works with; the home lock is held.
type op struct {
	d         *db
	now, nano int64 // unix seconds and nanoseconds
}

var (
	registry      []*kind
	kindsByPlural = map[string]*kind{}
)

func register(k *kind) {
	registry = append(registry, k)
	kindsByPlural[k.plural] = k
}

// tmpl builds link templates "<plural>.<key>" -> path.
func tmpl(plural string, pairs ...string) []string {
	var out []string
	for i := 0; i < len(pairs); i += 2 {
		out = append(out, plural+"."+pairs[i], pairs[i+1])
	}
	return out
}

// apiReq is one request as the handlers see it.
type apiReq struct {
	s       *Server
	w       http.ResponseWriter
	r       *http.Request
	body    []byte
	now     time.Time
	tok     *accessToken
	acct    *Account // nil for a client-credentials token
	limited bool     // the reduced view (see kind.reduced)
	logged  *Request
	q       url.Values // the parsed query, see query
}

// query returns the request's query, parsed once.
func (c *apiReq) query() url.Values {
	if c.q == nil {
		c.q = c.r.URL.Query()
	}
	return c.q
}

// reqKey is the request context's key of its *apiReq.
type reqKey struct{}

// routes derives the API's routes from the registry.
func (s *Server) routes(mux *http.ServeMux) {
	for _, k := range registry {
		base := "/api/v3/" + k.path
		if k.get != nil {
			mux.Handle("GET "+base, s.handle(k, func(c *apiReq, _ *kind) { k.get(c) }))
			continue
		}
		mux.Handle("GET "+base, s.handle(k, s.list))
		mux.Handle("GET "+base+"/{ids}", s.handle(k, s.show))
		switch {
		case k.create != nil:
			mux.Handle("POST "+base, s.handle(k, s.write))
		case k.writesMissing:
			mux.Handle("POST "+base, s.handle(k, notImplemented))
		}
		switch {
		case k.update != nil:
			mux.Handle("PUT "+base+"/{id}", s.handle(k, s.write))
			mux.Handle("PATCH "+base+"/{id}", s.handle(k, s.write))
		case k.writesMissing:
			mux.Handle("PUT "+base+"/{id}", s.handle(k, notImplemented))
		}
		for name := range k.actions {
			mux.Handle("PUT "+base+"/{id}/"+name, s.handle(k, s.write))
		}
	}
	mux.Handle("/api/v3/", s.handle(nil, func(c *apiReq, _ *kind) { notFound(c.w) }))
}

// handle wraps an API handler: latency, authentication, the rate budget,
// the headers every response carries, and the kind's scope rules.
// Every API request, whatever its outcome (401 included), uses budget; a
// 429 is not processed.
func (s *Server) handle(k *kind, fn func(c *apiReq, k *kind)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := r.Context().Value(reqKey{}).(*apiReq)
		if !s.sleep(r) {
			return
		}
		c.now = s.now()
		c.tok, c.acct = s.authenticate(r, c.now)
		b := s.budgetFor(c)
		limit, remaining, reset, over := b.take(c.now)
		h := w.Header()
		h.Set("X-RateLimit-Limit", strconv.Itoa(limit))
		h.Set("X-RateLimit-Remaining", strconv.Itoa(remaining))
		h.Set("X-RateLimit-Reset", strconv.FormatInt(reset, 10))
		// Recorded on every response, with or without updated_since.
		h.Set("X-Updated-Since-Request-Synced-At", c.now.UTC().Format(syncedAtLayout))
		if c.acct != nil {
			s.noteAccount(c)
		}
		switch {
		case over:
			if c.acct != nil {
				c.acct.throttled.Add(1)
			}
			rateLimited(w)
		case c.tok == nil:
			unauthorized(w)
		case !c.allowed(k):
			forbidden(w)
		default:
			fn(c, k)
		}
	})
}

// allowed applies the kind's scope rules. Every token has the public
// scope (recorded), so a kind without read scopes is open to all.
func (c *apiReq) allowed(k *kind) bool {
	if k == nil {
		return true
	}
	if c.acct == nil && !k.global && !k.acrossAccounts {
		return false // client credentials read only what spans accounts
	}
	if c.r.Method != http.MethodGet && c.r.Method != http.MethodHead {
		return c.tok.any(k.write)
	}
	if k.read == nil || c.tok.any(k.read) {
		return true
	}
	c.limited = k.reduced
	return k.reduced
}
