package bookingsynctest

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// home returns the lock and tables holding k's records for c.
func (s *Server) home(k *kind, a *Account) (*sync.Mutex, *db) {
	if k.global {
		return &s.mu, &s.shared
	}
	return &a.mu, &a.db
}

func (s *Server) rctx(c *apiReq) *rctx {
	rc := &rctx{now: c.now.UnixNano(), limited: c.limited, url: s.URL, stay: c.stay}
	if c.acct != nil {
		rc.account = c.acct.id
	}
	rc.inbox = c.tok != nil && c.tok.any(inboxRead)
	if inc := splitComma(c.query().Get("include")); len(inc) > 0 {
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
	for _, a := range s.accounts {
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
// Like the recordings, it carries the paging headers and a meta copy, and
// like the live API it pages the answer as it pages a listing (page,
// per_page, the resource's cap; see WithPageCap): 60 rentals asked by id
// come 50 on page 1 and 10 on page 2.
func (s *Server) show(c *apiReq, k *kind) {
	parse := parseIDs
	if k.ids != nil {
		parse = k.ids
	}
	idl, ok := parse(c.r.PathValue("ids"))
	if !ok {
		notFound(c.w)
		return
	}
	slices.Sort(idl)
	idl = slices.Compact(idl)
	q := c.query()
	page, per := s.window(q, k)
	lo := (page - 1) * per
	fields := splitComma(q.Get("fields"))
	objs := []json.RawMessage{}
	total := 0
	for _, h := range s.homes(k, c) {
		rc := s.rctx(c)
		rc.account = h.account
		h.mu.Lock()
		t := k.table(h.d)
		for _, id := range idl {
			if r, ok := t.lookup(id); ok && visible(h.d, r, rc.now) && (k.visibleTo == nil || k.visibleTo(c, r)) {
				if total >= lo && total < lo+per {
					objs = append(objs, encodeOne(project(r.render(h.d, rc), fields)))
				}
				total++
			}
		}
		h.mu.Unlock()
	}
	if total == 0 {
		notFound(c.w)
		return
	}
	pages := (total + per - 1) / per
	hd := c.w.Header()
	hd.Set("Link", s.linkHeader(c.r, q, page, per, pages))
	hd.Set("X-Total-Pages", strconv.Itoa(pages))
	hd.Set("X-Total-Count", strconv.Itoa(total))
	hd.Set("X-Per-Page", strconv.Itoa(per))
	encode(s.envelope(k, c.limited, objs, s.pagingMeta(c.r, q, page, per, pages, total))).send(c.w, http.StatusOK, ctAPI)
}

// window reads a listing's page (from 1) and per_page (the resource's cap
// when absent, garbage or above it).
func (s *Server) window(q url.Values, k *kind) (page, per int) {
	page, _ = strconv.Atoi(q.Get("page"))
	page = max(page, 1)
	limit := s.cfg.capOf(k.plural)
	per, err := strconv.Atoi(q.Get("per_page"))
	if err != nil || per < 1 || per > limit {
		per = limit
	}
	return page, per
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
// and returns the ids of those in the page window; h.mu held. When every
// record shows, the window is a slice of the sorted ids: no copy.
func (p *pager) take(t store, d *db, now int64) []int64 {
	all := t.liveIDs()
	var page []int64
	if !p.hasSince && p.keep == nil && now >= d.latest {
		page = all[min(max(p.lo-p.total, 0), len(all)):max(min(p.lo+p.per-p.total, len(all)), 0)]
		p.total += len(all)
	} else {
		for _, id := range all {
			r, _ := t.lookup(id)
			if !visible(d, r, now) || (p.hasSince && r.hdr().updated < p.since) || (p.keep != nil && !p.keep(r)) {
				continue
			}
			if p.total >= p.lo && p.total < p.lo+p.per {
				page = append(page, id)
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
	q := c.query()
	page, per := s.window(q, k)
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
	// meta repeats the paging headers, as recorded, once p has counted.
	pages := func() int { return max(1, (p.total+per-1)/per) }
	meta := func() obj {
		m := s.pagingMeta(c.r, q, page, per, pages(), p.total)
		if !p.hasSince {
			return m
		}
		del := append([]int64{}, p.deleted...)
		slices.Sort(del)
		return append(m, field{"deleted_ids", del})
	}

	var body encoded
	if hs := s.homes(k, c); len(hs) == 1 {
		// One home: render and encode the page under one hold of its lock.
		h := hs[0]
		rc := s.rctx(c)
		rc.account = h.account
		h.mu.Lock()
		t := k.table(h.d)
		ids := p.take(t, h.d, rc.now)
		objs := make([]obj, 0, len(ids))
		for _, id := range ids {
			r, _ := t.lookup(id)
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
			t := k.table(h.d)
			for _, id := range p.take(t, h.d, rc.now) {
				r, _ := t.lookup(id)
				objs = append(objs, encodeOne(project(r.render(h.d, rc), fields)))
			}
			h.mu.Unlock()
		}
		body = encode(s.envelope(k, c.limited, objs, meta()))
	}

	h := c.w.Header()
	h.Set("Link", s.linkHeader(c.r, q, page, per, pages()))
	h.Set("X-Total-Pages", strconv.Itoa(pages()))
	h.Set("X-Total-Count", strconv.Itoa(p.total))
	h.Set("X-Per-Page", strconv.Itoa(per))
	body.send(c.w, http.StatusOK, ctAPI)
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
	status, event := http.StatusOK, k.events.updated
	var errs verrs
	switch {
	case idStr == "":
		rec, errs = k.create(o, p)
		status, event = http.StatusCreated, k.events.created
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
	meta := obj{}
	if status == http.StatusCreated {
		meta = s.createdPaging(c, k.plural)
	}
	body := encode(s.envelope(k, false, []obj{out}, meta))
	var hook []byte
	if event != "" {
		hook = c.acct.hookPayload(event, s.webhookResource(k, out))
	}
	mu.Unlock()
	body.send(w, status, ctAPI)
	c.acct.deliver(event, hook)
}

// destroy handles DELETE /x/:id: 204 with no body, the record's tombstone
// dated now (meta.deleted_ids), and the kind's destroyed webhook carrying
// the record as it was.
func (s *Server) destroy(c *apiReq, k *kind) {
	id, err := strconv.ParseInt(c.r.PathValue("id"), 10, 64)
	mu, d := s.home(k, c.acct)
	now := c.now
	mu.Lock()
	rec, ok := k.table(d).lookup(id)
	if err != nil || !ok || !visible(d, rec, now.UnixNano()) {
		mu.Unlock()
		notFound(c.w)
		return
	}
	var hook []byte
	if ev := k.events.destroyed; ev != "" {
		hook = c.acct.hookPayload(ev, s.webhookResource(k, rec.render(d, s.rctx(c))))
	}
	k.remove(d, id, now.Unix())
	mu.Unlock()
	c.w.WriteHeader(http.StatusNoContent)
	c.acct.deliver(k.events.destroyed, hook)
}
