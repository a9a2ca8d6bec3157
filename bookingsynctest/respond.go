package bookingsynctest

import (
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

// notImplemented answers writes the real API has and the fake does not.
func notImplemented(c *apiReq, _ *kind) {
	writeJSON(c.w, http.StatusNotImplemented, ctAPI, map[string]any{"error": "bookingsynctest: not implemented"})
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

// webhookResource is the resource part of a webhook body: {"links": {...},
// "<singular>": {...}}, the reference's example form.
func (s *Server) webhookResource(k *kind, o obj) obj {
	var res obj
	if tl := s.linkTemplates(k, false); tl != nil {
		res = append(res, field{"links", tl})
	}
	return append(res, field{k.singular, o})
}
