package bookingsynctest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

const (
	ctAPI  = "application/vnd.api+json; charset=utf-8"
	ctJSON = "application/json; charset=utf-8"
)

// Layout of X-Updated-Since-Request-Synced-At (not RFC 3339).
const syncedAtLayout = "2006-01-02 15:04:05 UTC"

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

// home returns the lock and tables holding k's records for c.
func (s *Server) home(k *kind, a *Account) (*sync.Mutex, *db) {
	if k.global {
		return &s.mu, &s.shared
	}
	return &a.mu, &a.db
}

func (s *Server) rctx(c *apiReq) *rctx {
	rc := &rctx{now: c.now.UnixNano(), limited: c.limited, url: s.URL}
	if c.acct != nil {
		rc.account = c.acct.id
	}
	rc.inbox = c.tok != nil && c.tok.any(inboxRead)
	if inc := splitComma(c.r.URL.Query().Get("include")); len(inc) > 0 {
		rc.inc = map[string]bool{}
		for _, n := range inc {
			rc.inc[n] = true
		}
	}
	return rc
}

// envelope builds {"links": {...}, "<plural>": [...], "meta": {...}};
// objs is a []obj or a []json.RawMessage.
func (s *Server) envelope(k *kind, limited bool, objs any, meta obj) obj {
	var env obj
	if tl := s.linkTemplates(k, limited); tl != nil {
		env = append(env, field{"links", tl})
	}
	return append(env, field{k.plural, objs}, field{"meta", meta})
}

func (s *Server) linkTemplates(k *kind, limited bool) obj {
	pairs := k.links
	if limited && k.reducedLinks != nil {
		pairs = k.reducedLinks
	}
	if len(pairs) == 0 {
		return nil
	}
	tl := make(obj, 0, len(pairs)/2)
	for i := 0; i < len(pairs); i += 2 {
		tl = append(tl, field{pairs[i], s.URL + "/api/v3/" + pairs[i+1]})
	}
	return tl
}

// bufs recycles response buffers: a page is tens of kilobytes.
var bufs = sync.Pool{New: func() any { return new([]byte) }}

// encoded is a response body encoded under the lock that guards what it
// shows (a record's id lists change in place), written after it.
type encoded struct {
	buf *[]byte
	b   []byte
}

func encode(v any) encoded {
	buf := bufs.Get().(*[]byte)
	b, err := appendJSON((*buf)[:0], v)
	if err != nil {
		b = append(b[:0], `{"error":"Internal Server Error"}`...)
	}
	return encoded{buf, b}
}

func (e encoded) send(w http.ResponseWriter, status int, ct string) {
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Length", strconv.Itoa(len(e.b)))
	w.WriteHeader(status)
	_, _ = w.Write(e.b)
	*e.buf = e.b
	bufs.Put(e.buf)
}

func writeJSON(w http.ResponseWriter, status int, ct string, v any) {
	encode(v).send(w, status, ct)
}

func writeErrors(w http.ResponseWriter, errs verrs) {
	writeJSON(w, http.StatusUnprocessableEntity, ctAPI, map[string]any{"errors": map[string][]string(errs)})
}

// notFound: the real body for a 404 is undocumented; this shape mirrors the
// 401 one ({"error": "..."}).
func notFound(w http.ResponseWriter) {
	writeJSON(w, http.StatusNotFound, ctAPI, map[string]any{"error": "Not found"})
}

func unauthorized(w http.ResponseWriter) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="Doorkeeper", error="invalid_token", error_description="The access token is invalid"`)
	writeJSON(w, http.StatusUnauthorized, ctJSON, map[string]any{"error": "Not authorized"})
}

// forbidden: the real 403 body is undocumented; guessed as {"error":"Forbidden"}.
func forbidden(w http.ResponseWriter) {
	writeJSON(w, http.StatusForbidden, ctJSON, map[string]any{"error": "Forbidden"})
}

// rateLimited writes the 429. Only the message is known; the body
// shape {"error": "..."} is a guess.
func rateLimited(w http.ResponseWriter) {
	writeJSON(w, http.StatusTooManyRequests, ctAPI, map[string]any{"error": "API v3 rate limit exceeded."})
}

func badRequest(w http.ResponseWriter, msg string) {
	writeJSON(w, http.StatusBadRequest, ctAPI, map[string]any{"error": msg})
}

// notImplemented answers writes the real API has and the fake does not.
func notImplemented(c *apiReq, _ *kind) {
	writeJSON(c.w, http.StatusNotImplemented, ctAPI, map[string]any{"error": "bookingsynctest: not implemented"})
}

// project applies ?fields=: id and links are always kept.
func project(o obj, fields []string) obj {
	if len(fields) == 0 {
		return o
	}
	out := obj{}
	for _, f := range o {
		if f.k == "id" || f.k == "links" || slices.Contains(fields, f.k) {
			out = append(out, f)
		}
	}
	return out
}

func parseTimeParam(v string) (time.Time, bool) {
	for _, l := range []string{time.RFC3339Nano, syncedAtLayout, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(l, v); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// home is where some of a kind's records live: the lock guarding them,
// their tables and the account they belong to (0: shared by all).
type home struct {
	mu      *sync.Mutex
	d       *db
	account int64
}

// homes returns where c reads k's records: the shared tables, the token's
// account, or, for a client-credentials token reading a kind that spans
// accounts (published rentals), every installed account in id order.
func (s *Server) homes(k *kind, c *apiReq) []home {
	if k.global {
		return []home{{&s.mu, &s.shared, 0}}
	}
	if c.acct != nil {
		return []home{{&c.acct.mu, &c.acct.db, c.acct.id}}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var hs []home
	for _, a := range s.order {
		if _, ok := s.shared.accts.get(a.id); ok {
			hs = append(hs, home{&a.mu, &a.db, a.id})
		}
	}
	return hs
}

// encodeOne encodes one object on its own, under its home's lock, when a
// response gathers records from several homes.
func encodeOne(o obj) json.RawMessage {
	b, err := appendJSON(nil, o)
	if err != nil {
		return json.RawMessage(`null`)
	}
	return b
}

// show answers GET /x/:id and GET /x/1,2,3. One unknown id is a 404; with
// several ids the known ones are returned in id order and only "none
// found" is a 404 (the real behaviour for partly unknown lists is unknown).
// Like the recordings, it carries the paging headers and a meta copy.
func (s *Server) show(c *apiReq, k *kind) {
	idl, ok := parseIDs(c.r.PathValue("ids"))
	if !ok {
		notFound(c.w)
		return
	}
	slices.Sort(idl)
	idl = slices.Compact(idl)
	q := c.r.URL.Query()
	fields := splitComma(q.Get("fields"))
	var objs []json.RawMessage
	for _, h := range s.homes(k, c) {
		rc := s.rctx(c)
		rc.account = h.account
		h.mu.Lock()
		t := k.table(h.d)
		for _, id := range idl {
			if r, ok := t.lookup(id); ok && visible(h.d, r, rc.now) && (k.visibleTo == nil || k.visibleTo(c, r)) {
				objs = append(objs, encodeOne(project(r.render(h.d, rc), fields)))
			}
		}
		h.mu.Unlock()
	}
	if len(objs) == 0 {
		notFound(c.w)
		return
	}
	per, n := s.cfg.pageCap, strconv.Itoa(len(objs))
	link := s.linkURL(c.r, q, 1, per)
	meta := obj{{"Link", obj{{"first", link}, {"last", link}}},
		{"X-Total-Pages", "1"}, {"X-Total-Count", n}, {"X-Per-Page", strconv.Itoa(per)}}
	hd := c.w.Header()
	hd.Set("Link", s.linkHeader(c.r, q, 1, per, 1))
	hd.Set("X-Total-Pages", "1")
	hd.Set("X-Total-Count", n)
	hd.Set("X-Per-Page", strconv.Itoa(per))
	encode(s.envelope(k, c.limited, objs, meta)).send(c.w, http.StatusOK, ctAPI)
}

// pager walks tables for one page of a listing.
type pager struct {
	lo, per, total int
	since          int64
	hasSince       bool
	keep           func(record) bool
	deleted        []int64
}

// take walks one home's table, counting the records the listing shows,
// and returns those of the page window; h.mu held.
func (p *pager) take(t store, d *db, now int64) []record {
	all := t.liveIDs()
	var page []record
	if !p.hasSince && p.keep == nil && now >= d.latest {
		// Every record shows: the window is a slice of the sorted ids.
		for _, id := range all[min(max(p.lo-p.total, 0), len(all)):max(min(p.lo+p.per-p.total, len(all)), 0)] {
			r, _ := t.lookup(id)
			page = append(page, r)
		}
		p.total += len(all)
	} else {
		for _, id := range all {
			r, _ := t.lookup(id)
			if !visible(d, r, now) || (p.hasSince && r.hdr().updated < p.since) || (p.keep != nil && !p.keep(r)) {
				continue
			}
			if p.total >= p.lo && p.total < p.lo+p.per {
				page = append(page, r)
			}
			p.total++
		}
	}
	if p.hasSince {
		for id, at := range t.tombstones() {
			if at >= p.since {
				p.deleted = append(p.deleted, id)
			}
		}
	}
	return page
}

func (s *Server) list(c *apiReq, k *kind) {
	q := c.r.URL.Query()
	page, _ := strconv.Atoi(q.Get("page"))
	if page < 1 {
		page = 1
	}
	per, err := strconv.Atoi(q.Get("per_page"))
	if err != nil || per < 1 || per > s.cfg.pageCap {
		per = s.cfg.pageCap
	}
	p := &pager{lo: (page - 1) * per, per: per}
	if p.hasSince = q.Get("updated_since") != ""; p.hasSince {
		t, ok := parseTimeParam(q.Get("updated_since"))
		if !ok {
			writeErrors(c.w, verrs{"updated_since": {invalid}})
			return
		}
		p.since = t.Unix()
	}
	if k.filter != nil {
		var errs verrs
		if p.keep, errs = k.filter(c, q); errs != nil {
			writeErrors(c.w, errs)
			return
		}
	}
	if k.visibleTo != nil {
		filter := p.keep
		p.keep = func(r record) bool { return k.visibleTo(c, r) && (filter == nil || filter(r)) }
	}
	fields := splitComma(q.Get("fields"))
	meta := func() obj {
		if !p.hasSince {
			return obj{}
		}
		del := append([]int64{}, p.deleted...)
		slices.Sort(del)
		return obj{{"deleted_ids", del}}
	}

	var body encoded
	if hs := s.homes(k, c); len(hs) == 1 {
		// One home: render and encode the page under one hold of its lock.
		h := hs[0]
		rc := s.rctx(c)
		rc.account = h.account
		h.mu.Lock()
		recs := p.take(k.table(h.d), h.d, rc.now)
		objs := make([]obj, 0, len(recs))
		for _, r := range recs {
			objs = append(objs, project(r.render(h.d, rc), fields))
		}
		body = encode(s.envelope(k, c.limited, objs, meta()))
		h.mu.Unlock()
	} else {
		objs := []json.RawMessage{}
		for _, h := range hs {
			rc := s.rctx(c)
			rc.account = h.account
			h.mu.Lock()
			for _, r := range p.take(k.table(h.d), h.d, rc.now) {
				objs = append(objs, encodeOne(project(r.render(h.d, rc), fields)))
			}
			h.mu.Unlock()
		}
		body = encode(s.envelope(k, c.limited, objs, meta()))
	}

	pages := max(1, (p.total+per-1)/per)
	h := c.w.Header()
	h.Set("Link", s.linkHeader(c.r, q, page, per, pages))
	h.Set("X-Total-Pages", strconv.Itoa(pages))
	h.Set("X-Total-Count", strconv.Itoa(p.total))
	h.Set("X-Per-Page", strconv.Itoa(per))
	body.send(c.w, http.StatusOK, ctAPI)
}

func (s *Server) linkURL(r *http.Request, q url.Values, page, per int) string {
	v := url.Values{}
	for key, vals := range q {
		v[key] = append([]string(nil), vals...)
	}
	v.Set("page", strconv.Itoa(page))
	v.Set("per_page", strconv.Itoa(per))
	return s.URL + r.URL.EscapedPath() + "?" + v.Encode()
}

func (s *Server) linkHeader(r *http.Request, q url.Values, page, per, pages int) string {
	mk := func(p int, rel string) string { return fmt.Sprintf("<%s>; rel=%q", s.linkURL(r, q, p, per), rel) }
	parts := []string{mk(1, "first")}
	if page > 1 {
		parts = append(parts, mk(min(page-1, pages), "prev"))
	}
	if page < pages {
		parts = append(parts, mk(page+1, "next"))
	}
	parts = append(parts, mk(pages, "last"))
	return strings.Join(parts, ", ")
}

// write handles POST /x, PUT /x/:id and PUT /x/:id/<action>. The lookup,
// the change, the render and the encoding happen under one hold of the
// lock, so no concurrent delete slips in between.
func (s *Server) write(c *apiReq, k *kind) {
	w, r := c.w, c.r
	if len(c.body) > 0 && !isJSONType(r.Header.Get("Content-Type")) {
		writeJSON(w, http.StatusUnsupportedMediaType, ctAPI, map[string]any{"error": "Unsupported Media Type"})
		return
	}
	idStr := r.PathValue("id")
	action := ""
	if idStr != "" {
		action = strings.TrimPrefix(r.URL.Path, "/api/v3/"+k.path+"/"+idStr)
		action = strings.Trim(action, "/")
	}
	var p params
	if action == "" {
		var err error
		if p, err = decodeBody(c.body, k.plural); err != nil {
			badRequest(w, err.Error())
			return
		}
	}
	rc := s.rctx(c)
	rc.limited = false
	mu, d := s.home(k, c.acct)
	o := op{d: d, now: c.now.Unix(), nano: c.now.UnixNano()}

	mu.Lock()
	var rec record
	if idStr != "" {
		id, err := strconv.ParseInt(idStr, 10, 64)
		if err == nil {
			rec, _ = k.table(d).lookup(id)
		}
		if rec == nil || !visible(d, rec, o.nano) {
			mu.Unlock()
			notFound(w)
			return
		}
	}
	status, event := http.StatusOK, k.events[1]
	var errs verrs
	switch {
	case idStr == "":
		rec, errs = k.create(o, p)
		status, event = http.StatusCreated, k.events[0]
	case action == "":
		errs = k.update(o, rec, p)
	default:
		status, errs = k.actions[action](o, rec, c.body)
	}
	if status == http.StatusBadRequest || errs != nil {
		mu.Unlock()
		if errs != nil {
			writeErrors(w, errs)
		} else {
			badRequest(w, "param is missing or the value is empty")
		}
		return
	}
	out := rec.render(d, rc)
	body := encode(s.envelope(k, false, []obj{out}, obj{}))
	var hook []byte
	if event != "" {
		hook = c.acct.hookPayload(event, s.webhookResource(k, out))
	}
	mu.Unlock()
	body.send(w, status, ctAPI)
	c.acct.deliver(event, hook)
}

// webhookResource is the resource part of a webhook body: {"links": {...},
// "<singular>": {...}}, the reference's example form.
func (s *Server) webhookResource(k *kind, o obj) obj {
	var res obj
	if tl := s.linkTemplates(k, false); tl != nil {
		res = append(res, field{"links", tl})
	}
	return append(res, field{k.singular, o})
}
