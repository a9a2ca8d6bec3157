package bookingsynctest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
)

const (
	ctAPI  = "application/vnd.api+json; charset=utf-8"
	ctJSON = "application/json; charset=utf-8"
)

// Layout of X-Updated-Since-Request-Synced-At (not RFC 3339).
const syncedAtLayout = "2006-01-02 15:04:05 UTC"

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

// notImplemented answers a route the real API has and the fake does not
// (route as the reference writes it, "POST /rentals/{rental_id}/bookings"):
// 501, with a body that names it, rather than a 404 that would read as
// "no such record".
func notImplemented(route string) func(c *apiReq, _ *kind) {
	body := obj{{"error", "bookingsynctest: " + route + " is not implemented by the fake"}, {"route", route}}
	return func(c *apiReq, _ *kind) { writeJSON(c.w, http.StatusNotImplemented, ctAPI, body) }
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
	var parts []string
	for _, l := range pageLinks(page, pages) {
		parts = append(parts, fmt.Sprintf("<%s>; rel=%q", s.linkURL(r, q, l.page, per), l.rel))
	}
	return strings.Join(parts, ", ")
}

// pageLink is one relation of a page's Link header.
type pageLink struct {
	rel  string
	page int
}

// pageLinks are the relations of page out of pages, in the order the API
// writes them: first, prev, next, last.
func pageLinks(page, pages int) []pageLink {
	l := []pageLink{{"first", 1}}
	if page > 1 {
		l = append(l, pageLink{"prev", min(page-1, pages)})
	}
	if page < pages {
		l = append(l, pageLink{"next", page + 1})
	}
	return append(l, pageLink{"last", pages})
}

// pagingMeta is the copy of the paging headers the recordings show in a
// listing's meta: {"Link": {"first": …, …}, "X-Total-Pages": "3",
// "X-Total-Count": "250", "X-Per-Page": "100"}.
func (s *Server) pagingMeta(r *http.Request, q url.Values, page, per, pages, total int) obj {
	links := obj{}
	for _, l := range pageLinks(page, pages) {
		links = append(links, field{l.rel, s.linkURL(r, q, l.page, per)})
	}
	return obj{{"Link", links}, {"X-Total-Pages", strconv.Itoa(pages)},
		{"X-Total-Count", strconv.Itoa(total)}, {"X-Per-Page", strconv.Itoa(per)}}
}

// createdPaging sets what the recordings show on a 201: a Link header with
// only rel="first", to the collection with the created record's
// attributes as a Rails query (plural[][key]=value) and page=1, and
// X-Per-Page; it returns the meta copy of them, the totals null.
func (s *Server) createdPaging(c *apiReq, plural string) obj {
	q := url.Values{}
	var env map[string]any
	_ = json.Unmarshal(c.body, &env)
	for key, v := range env {
		recs, _ := v.([]any)
		if key != plural || len(recs) == 0 {
			addQuery(q, key, v)
			continue
		}
		if rec, ok := recs[0].(map[string]any); ok {
			for k, v := range rec {
				addQuery(q, plural+"[]["+k+"]", v)
			}
		}
	}
	q.Set("page", "1")
	u := s.URL + c.r.URL.EscapedPath() + "?" + q.Encode()
	per := strconv.Itoa(s.cfg.capOf(plural))
	h := c.w.Header()
	h.Set("Link", fmt.Sprintf("<%s>; rel=%q", u, "first"))
	h.Set("X-Per-Page", per)
	return obj{{"Link", obj{{"first", u}}}, {"X-Total-Pages", nil}, {"X-Total-Count", nil}, {"X-Per-Page", per}}
}

// addQuery writes a scalar or a list of scalars as Rails' to_query does;
// objects are left out.
func addQuery(q url.Values, key string, v any) {
	switch x := v.(type) {
	case nil:
		q.Add(key, "")
	case string:
		q.Add(key, x)
	case bool, float64:
		b, _ := json.Marshal(x)
		q.Add(key, string(b))
	case []any:
		for _, e := range x {
			addQuery(q, key+"[]", e)
		}
	}
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
