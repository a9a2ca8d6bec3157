package bookingsynctest

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
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
	ids                    func(string) ([]int64, bool) // reads GET /x/:ids (nil: integers)
	filter                 func(c *apiReq, q url.Values) (func(record) bool, verrs)
	visibleTo              func(c *apiReq, r record) bool // who sees which record (nil: all)
	acrossAccounts         bool                           // a client-credentials token reads every account's
	create                 func(o op, p params) (record, verrs)
	update                 func(o op, r record, p params) verrs
	actions                map[string]func(o op, r record, body []byte) (int, verrs)
	remove                 func(d *db, id, now int64) bool
	deletes                bool            // DELETE /x/:id removes a record (204)
	events                 events          // the webhook events its changes send
	get                    func(c *apiReq) // a custom GET of the collection (GET /me)
	routes                 []subRoute      // routes beyond the collection's own
}

// events names the webhook events of a kind's records ("": none).
type events struct{ created, updated, destroyed string }

// subRoute is a route under a kind's path: method "GET", sub "/search".
// A read route is judged by the read scopes whatever its method.
type subRoute struct {
	method, sub string
	fn          func(c *apiReq, k *kind)
	read        bool
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
	asRead  bool     // judged by the read scopes whatever the method (subRoute.read)
	stay    *stay    // a rentals search's stay: rentals render as results
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

// routes derives the API's routes from the registry, then answers every
// other route of the reference (referenceRoutes) with 501: a route the
// real API has never reads "not found" here.
func (s *Server) routes(mux *http.ServeMux) {
	have := map[string]bool{}
	handle := func(method, path string, h http.Handler) {
		mux.Handle(method+" /api/v3/"+path, h)
		have[routeKey(method+" /"+path)] = true
	}
	add := func(method, path string, k *kind, fn func(c *apiReq, k *kind)) {
		handle(method, path, s.handle(k, fn))
	}
	for _, k := range registry {
		for _, x := range k.routes {
			h := s.handle(k, x.fn)
			if x.read {
				h = asRead(h)
			}
			handle(x.method, k.path+x.sub, h)
		}
		if k.get != nil {
			add(http.MethodGet, k.path, k, func(c *apiReq, _ *kind) { k.get(c) })
			continue
		}
		add(http.MethodGet, k.path, k, s.list)
		add(http.MethodGet, k.path+"/{ids}", k, s.show)
		if k.create != nil {
			add(http.MethodPost, k.path, k, s.write)
		}
		if k.update != nil {
			add(http.MethodPut, k.path+"/{id}", k, s.write)
			add(http.MethodPatch, k.path+"/{id}", k, s.write)
		}
		if k.deletes {
			add(http.MethodDelete, k.path+"/{id}", k, s.destroy)
		}
		for name := range k.actions {
			add(http.MethodPut, k.path+"/{id}/"+name, k, s.write)
		}
	}
	for _, rt := range referenceRoutes {
		if key := routeKey(rt); !have[key] {
			have[key] = true
			method, path, _ := strings.Cut(rt, " ")
			mux.Handle(method+" /api/v3"+path, s.handle(nil, notImplemented(rt)))
		}
	}
	mux.Handle("/api/v3/", s.handle(nil, func(c *apiReq, _ *kind) { notFound(c.w) }))
}

// asRead marks the requests of h as reads, whatever their method.
func asRead(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Context().Value(reqKey{}).(*apiReq).asRead = true
		h.ServeHTTP(w, r)
	})
}

// routeKey is a route ("GET /hosts/{host_id}") with its wildcards unnamed,
// so that the reference's names and the fake's compare equal.
func routeKey(route string) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(route, '{')
		j := strings.IndexByte(route, '}')
		if i < 0 || j < i {
			b.WriteString(route)
			return b.String()
		}
		b.WriteString(route[:i+1])
		route = route[j:]
	}
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
		if c.acct != nil {
			s.noteAccount(c)
		}
		h := w.Header()
		// Recorded on every response, with or without updated_since.
		h.Set("X-Updated-Since-Request-Synced-At", c.now.UTC().Format(syncedAtLayout))
		if c.tok == nil && !over {
			// As recorded, a 401 carries no rate headers (whether it
			// uses budget is unknown; here it does).
			unauthorized(w)
			return
		}
		h.Set("X-RateLimit-Limit", strconv.Itoa(limit))
		h.Set("X-RateLimit-Remaining", strconv.Itoa(remaining))
		h.Set("X-RateLimit-Reset", strconv.FormatInt(reset, 10))
		switch {
		case over:
			if c.acct != nil {
				c.acct.throttled.Add(1)
			}
			rateLimited(w)
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
	if c.r.Method != http.MethodGet && c.r.Method != http.MethodHead && !c.asRead {
		return c.tok.any(k.write)
	}
	if k.read == nil || c.tok.any(k.read) {
		return true
	}
	c.limited = k.reduced
	return k.reduced
}
