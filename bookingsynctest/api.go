package bookingsynctest

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
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
	create                 func(o op, p params) (record, verrs)
	update                 func(o op, r record, p params) verrs
	actions                map[string]func(o op, r record, body []byte) (int, verrs)
	remove                 func(d *db, id, now int64) bool
	events                 [2]string   // webhook events on create and on update ("": none)
	get                    func(c *apiReq) // a custom GET of the collection (GET /me)
	writesMissing          bool        // the real API has writes the fake lacks: 501
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

type callKey struct{}

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
		c := r.Context().Value(callKey{}).(*apiReq)
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
	if c.acct == nil && !k.global {
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

// envelope builds {"links": {...}, "<plural>": [...], "meta": {...}}.
func (s *Server) envelope(k *kind, limited bool, objs []obj, meta obj) obj {
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

// rateLimited writes the 429. API.md only gives the message; the body
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
	rc := s.rctx(c)
	q := c.r.URL.Query()
	fields := splitComma(q.Get("fields"))
	per := s.cfg.pageCap
	mu, d := s.home(k, c.acct)
	mu.Lock()
	t := k.table(d)
	objs := []obj{}
	for _, id := range idl {
		if r, ok := t.lookup(id); ok && visible(d, r, rc.now) && (k.visibleTo == nil || k.visibleTo(c, r)) {
			objs = append(objs, project(r.render(d, rc), fields))
		}
	}
	var body encoded
	if len(objs) > 0 {
		link := s.linkHeader(c.r, q, 1, per, 1)
		meta := obj{
			{"Link", obj{{"first", s.linkURL(c.r, q, 1, per)}, {"last", s.linkURL(c.r, q, 1, per)}}},
			{"X-Total-Pages", "1"}, {"X-Total-Count", strconv.Itoa(len(objs))}, {"X-Per-Page", strconv.Itoa(per)},
		}
		body = encode(s.envelope(k, c.limited, objs, meta))
		h := c.w.Header()
		h.Set("Link", link)
		h.Set("X-Total-Pages", "1")
		h.Set("X-Total-Count", strconv.Itoa(len(objs)))
		h.Set("X-Per-Page", strconv.Itoa(per))
	}
	mu.Unlock()
	if len(objs) == 0 {
		notFound(c.w)
		return
	}
	body.send(c.w, http.StatusOK, ctAPI)
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
	var since int64
	hasSince := q.Get("updated_since") != ""
	if hasSince {
		t, ok := parseTimeParam(q.Get("updated_since"))
		if !ok {
			writeErrors(c.w, verrs{"updated_since": {invalid}})
			return
		}
		since = t.Unix()
	}
	var keep func(record) bool
	if k.filter != nil {
		var errs verrs
		if keep, errs = k.filter(c, q); errs != nil {
			writeErrors(c.w, errs)
			return
		}
	}
	if k.visibleTo != nil {
		filter := keep
		keep = func(r record) bool { return k.visibleTo(c, r) && (filter == nil || filter(r)) }
	}
	rc := s.rctx(c)
	fields := splitComma(q.Get("fields"))

	mu, d := s.home(k, c.acct)
	mu.Lock()
	t := k.table(d)
	all := t.liveIDs()
	slow := hasSince || keep != nil || rc.now < d.latest
	var pageIDs []int64
	total := len(all)
	lo := (page - 1) * per
	if !slow {
		if lo < total {
			pageIDs = all[lo:min(lo+per, total)]
		}
	} else {
		total = 0
		for _, id := range all {
			rec, _ := t.lookup(id)
			if !visible(d, rec, rc.now) || (hasSince && rec.hdr().updated < since) || (keep != nil && !keep(rec)) {
				continue
			}
			if total >= lo && total < lo+per {
				pageIDs = append(pageIDs, id)
			}
			total++
		}
	}
	objs := make([]obj, 0, len(pageIDs))
	for _, id := range pageIDs {
		rec, _ := t.lookup(id)
		objs = append(objs, project(rec.render(d, rc), fields))
	}
	meta := obj{}
	if hasSince {
		del := []int64{}
		for id, at := range t.tombstones() {
			if at >= since {
				del = append(del, id)
			}
		}
		sort.Slice(del, func(i, j int) bool { return del[i] < del[j] })
		meta = append(meta, field{"deleted_ids", del})
	}
	body := encode(s.envelope(k, c.limited, objs, meta))
	mu.Unlock()

	pages := max(1, (total+per-1)/per)
	h := c.w.Header()
	h.Set("Link", s.linkHeader(c.r, q, page, per, pages))
	h.Set("X-Total-Pages", strconv.Itoa(pages))
	h.Set("X-Total-Count", strconv.Itoa(total))
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
