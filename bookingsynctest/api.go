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

// kind describes one resource for the shared list/get/write path.
type kind struct {
	plural, singular, path string
	scope                  string   // inbox, bookings, applications
	links                  []string // template key -> path with placeholder, pairwise
	table                  func(d *db) store
	filter                 func(s *Server, q url.Values, now time.Time) (func(record) bool, map[string][]string)
	create                 func(s *Server, p params, now int64) (record, map[string][]string)
	update                 func(s *Server, r record, p params, now int64) map[string][]string
	actions                map[string]func(s *Server, r record, body []byte, now int64) (int, map[string][]string)
}

func tmpl(plural string, pairs ...string) []string {
	var out []string
	for i := 0; i < len(pairs); i += 2 {
		out = append(out, plural+"."+pairs[i], pairs[i+1])
	}
	return out
}

var kinds = map[string]*kind{}
var kindsByPlural = map[string]*kind{}

func register(k *kind) {
	kinds[k.path] = k
	kindsByPlural[k.plural] = k
}

func init() {
	register(&kind{plural: "conversations", singular: "conversation", path: "inbox/conversations", scope: "inbox",
		links: tmpl("conversations",
			"account", "accounts/{conversations.account}", "assignee", "hosts/{conversations.assignee}",
			"source", "sources/{conversations.source}", "bookings", "bookings/{conversations.bookings}",
			"inquiries", "inquiries/{conversations.inquiries}", "messages", "inbox/messages/{conversations.messages}",
			"participants", "inbox/participants/{conversations.participants}"),
		table:  func(d *db) store { return d.convs },
		create: createConversation, update: updateConversation,
		actions: map[string]func(*Server, record, []byte, int64) (int, map[string][]string){
			"connect_booking": connectBooking(true), "disconnect_booking": connectBooking(false),
		}})
	register(&kind{plural: "participants", singular: "participant", path: "inbox/participants", scope: "inbox",
		links: []string{
			"participants.conversation", "inbox/conversations/{participants.conversation}",
			"participants.client", "clients/{participants.member.id}",
			"participants.host", "hosts/{participants.member.id}"},
		table: func(d *db) store { return d.parts }, create: createParticipant, update: updateParticipant})
	register(&kind{plural: "messages", singular: "message", path: "inbox/messages", scope: "inbox",
		links: tmpl("messages", "attachments", "inbox/attachments/{messages.attachments}",
			"conversation", "inbox/conversations/{messages.conversation}", "sender", "inbox/participants/{messages.sender}"),
		table: func(d *db) store { return d.msgs }, create: createMessage, update: updateMessage,
		actions: map[string]func(*Server, record, []byte, int64) (int, map[string][]string){"add_attachment": addAttachment}})
	register(&kind{plural: "attachments", singular: "attachment", path: "inbox/attachments", scope: "inbox",
		links: tmpl("attachments", "account", "accounts/{attachments.account}", "messages", "inbox/messages/{attachments.messages}"),
		table: func(d *db) store { return d.atts }, create: createAttachment, update: updateAttachment})
	register(&kind{plural: "hosts", singular: "host", path: "hosts", scope: "inbox",
		links: tmpl("hosts", "user", "users/{hosts.user}", "source", "sources/{hosts.source}",
			"account", "accounts/{hosts.account}", "participants", "inbox/participants/{hosts.participants}"),
		table: func(d *db) store { return d.hosts }, create: createHost, update: updateHost})
	register(&kind{plural: "bookings", singular: "booking", path: "bookings", scope: "bookings",
		links: tmpl("bookings", "account", "accounts/{bookings.account}", "rental", "rentals/{bookings.rental}",
			"client", "clients/{bookings.client}", "rental_agreement", "rental_agreements/{bookings.rental_agreement}",
			"source", "sources/{bookings.source}", "inquiry", "inquiries/{bookings.inquiry}",
			"booking_comments", "booking_comments/{bookings.booking_comments}", "bookings_fees", "bookings_fees/{bookings.bookings_fees}",
			"bookings_taxes", "bookings_taxes/{bookings.bookings_taxes}", "payments", "payments/{bookings.payments}",
			"bookings_payments", "bookings_payments/{bookings.bookings_payments}", "bookings_tags", "bookings_tags/{bookings.bookings_tags}",
			"rentals_tags", "rentals_tags/{bookings.rentals_tags}", "discount_code_usage", "discount_code_usages/{bookings.discount_code_usage}"),
		table: func(d *db) store { return d.books }, filter: bookingFilter})
	register(&kind{plural: "applications", singular: "application", path: "applications", scope: "applications",
		table: func(d *db) store { return d.apps }})
}

var limitedBookingLinks = tmpl("bookings", "account", "accounts/{bookings.account}", "rental", "rentals/{bookings.rental}",
	"bookings_tags", "bookings_tags/{bookings.bookings_tags}", "rentals_tags", "rentals_tags/{bookings.rentals_tags}",
	"discount_code_usage", "discount_code_usages/{bookings.discount_code_usage}")

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
	if limited && k.plural == "bookings" {
		pairs = limitedBookingLinks
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

func writeJSON(w http.ResponseWriter, status int, ct string, v any) {
	buf := bufs.Get().(*[]byte)
	defer bufs.Put(buf)
	b, err := appendJSON((*buf)[:0], v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"Internal Server Error"}`)
	} else {
		*buf = b
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func writeErrors(w http.ResponseWriter, errs map[string][]string) {
	writeJSON(w, http.StatusUnprocessableEntity, ctAPI, map[string]any{"errors": errs})
}

// notFound: the real body for a 404 is undocumented; this shape mirrors the
// 401/403 ones ({"error": "..."}).
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

func (s *Server) rateHeaders(w http.ResponseWriter, limit, remaining int, reset string) {
	w.Header().Set("X-RateLimit-Limit", strconv.Itoa(limit))
	w.Header().Set("X-RateLimit-Remaining", strconv.Itoa(remaining))
	w.Header().Set("X-RateLimit-Reset", reset)
}

// rateLimited writes the 429. API.md only gives the message; the body
// shape {"error": "..."} is a guess.
func rateLimited(w http.ResponseWriter) {
	writeJSON(w, http.StatusTooManyRequests, ctAPI, map[string]any{"error": "API v3 rate limit exceeded."})
}

// serveAPI handles /api/v3/. Every API request, whatever its outcome
// (401 included), counts against the budget; a 429 is not processed.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request, body []byte) {
	now := s.now()
	s.mu.Lock()
	if now.Unix() >= s.rateReset {
		s.rateRemaining = s.rateLimit
		s.rateReset = now.Add(time.Hour).Unix()
	}
	over := s.rateRemaining <= 0
	if !over {
		s.rateRemaining--
	}
	s.rateHeaders(w, s.rateLimit, max(s.rateRemaining, 0), strconv.FormatInt(s.rateReset, 10))
	s.mu.Unlock()
	if over {
		rateLimited(w)
		return
	}

	tok, ok := s.authenticate(r, now)
	if !ok {
		unauthorized(w)
		return
	}

	rest := strings.Trim(strings.TrimPrefix(r.URL.Path, "/api/v3/"), "/")
	var k *kind
	var tail []string
	for _, p := range []string{"inbox/conversations", "inbox/participants", "inbox/messages", "inbox/attachments", "hosts", "bookings", "applications"} {
		if rest == p || strings.HasPrefix(rest, p+"/") {
			k = kinds[p]
			if rest != p {
				tail = strings.Split(rest[len(p)+1:], "/")
			}
			break
		}
	}
	if k == nil || len(tail) > 2 {
		notFound(w)
		return
	}
	write := r.Method != http.MethodGet && r.Method != http.MethodHead
	if !tok.allows(k.scope, write) {
		// Bookings without bookings_read still read, in the reduced view
		// the reference shows for the public scope.
		if !(k.scope == "bookings" && !write && tok.scopes["public"]) {
			forbidden(w)
			return
		}
	}
	limited := k.scope == "bookings" && !tok.allows("bookings", false)
	q := r.URL.Query()
	switch {
	case r.Method == http.MethodGet && len(tail) == 0:
		s.list(w, r, k, q, now, limited)
	case r.Method == http.MethodGet && len(tail) == 1:
		s.show(w, k, tail[0], q, now, limited)
	case (r.Method == http.MethodPost && len(tail) == 0) || (r.Method == http.MethodPut || r.Method == http.MethodPatch) && len(tail) >= 1:
		if k.create == nil {
			if k.plural == "bookings" {
				// The real API has bookings writes; this fake does not.
				writeJSON(w, http.StatusNotImplemented, ctAPI, map[string]any{"error": "bookingsynctest: not implemented"})
			} else {
				notFound(w) // applications are read-only: no such route
			}
			return
		}
		s.write(w, r, k, tail, body, now)
	default:
		notFound(w)
	}
}

func splitComma(v string) []string {
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func parseIDs(v string) ([]int64, bool) {
	var out []int64
	for _, p := range splitComma(v) {
		id, err := strconv.ParseInt(p, 10, 64)
		if err != nil || id <= 0 {
			return nil, false
		}
		out = append(out, id)
	}
	return out, len(out) > 0
}

func (s *Server) rctx(q url.Values, now time.Time, limited bool) *rctx {
	rc := &rctx{now: now.UnixNano(), limited: limited, url: s.URL}
	if inc := splitComma(q.Get("include")); len(inc) > 0 {
		rc.inc = map[string]bool{}
		for _, n := range inc {
			rc.inc[n] = true
		}
	}
	return rc
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

// show answers GET /x/:id and GET /x/1,2,3. One unknown id is a 404; with
// several ids the known ones are returned in id order and only "none
// found" is a 404 (the real behaviour for partly unknown lists is unknown).
func (s *Server) show(w http.ResponseWriter, k *kind, seg string, q url.Values, now time.Time, limited bool) {
	idl, ok := parseIDs(seg)
	if !ok {
		notFound(w)
		return
	}
	slices := append([]int64(nil), idl...)
	sort.Slice(slices, func(i, j int) bool { return slices[i] < slices[j] })
	rc := s.rctx(q, now, limited)
	fields := splitComma(q.Get("fields"))
	s.mu.Lock()
	t := k.table(&s.db)
	objs := []obj{}
	var last int64
	for _, id := range slices {
		if id == last {
			continue
		}
		last = id
		if r, ok := t.lookup(id); ok && visible(&s.db, r, rc.now) {
			objs = append(objs, project(r.render(&s.db, rc), fields))
		}
	}
	s.mu.Unlock()
	if len(objs) == 0 {
		notFound(w)
		return
	}
	writeJSON(w, http.StatusOK, ctAPI, s.envelope(k, limited, objs, obj{}))
}

func parseTimeParam(v string) (time.Time, bool) {
	for _, l := range []string{time.RFC3339Nano, syncedAtLayout, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(l, v); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

func (s *Server) list(w http.ResponseWriter, r *http.Request, k *kind, q url.Values, now time.Time, limited bool) {
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
			writeErrors(w, map[string][]string{"updated_since": {"is invalid"}})
			return
		}
		since = t.Unix()
	}
	var keep func(record) bool
	if k.filter != nil {
		var errs map[string][]string
		if keep, errs = k.filter(s, q, now); errs != nil {
			writeErrors(w, errs)
			return
		}
	}
	rc := s.rctx(q, now, limited)
	fields := splitComma(q.Get("fields"))

	s.mu.Lock()
	t := k.table(&s.db)
	all := t.liveIDs()
	slow := hasSince || keep != nil || rc.now < s.db.latest
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
			if !visible(&s.db, rec, rc.now) || (hasSince && rec.hdr().updated < since) || (keep != nil && !keep(rec)) {
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
		objs = append(objs, project(rec.render(&s.db, rc), fields))
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
	s.mu.Unlock()

	pages := max(1, (total+per-1)/per)
	h := w.Header()
	h.Set("Link", s.linkHeader(r, q, page, per, pages))
	h.Set("X-Total-Pages", strconv.Itoa(pages))
	h.Set("X-Total-Count", strconv.Itoa(total))
	h.Set("X-Per-Page", strconv.Itoa(per))
	if hasSince {
		// Sent only with updated_since (whether the real API sends it
		// otherwise is unknown); the clock at the start of the request.
		h.Set("X-Updated-Since-Request-Synced-At", now.UTC().Format(syncedAtLayout))
	}
	writeJSON(w, http.StatusOK, ctAPI, s.envelope(k, limited, objs, meta))
}

func (s *Server) linkHeader(r *http.Request, q url.Values, page, per, pages int) string {
	mk := func(p int, rel string) string {
		v := url.Values{}
		for key, vals := range q {
			v[key] = append([]string(nil), vals...)
		}
		v.Set("page", strconv.Itoa(p))
		v.Set("per_page", strconv.Itoa(per))
		return fmt.Sprintf("<%s%s?%s>; rel=%q", s.URL, r.URL.EscapedPath(), v.Encode(), rel)
	}
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
