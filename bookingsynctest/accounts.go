package bookingsynctest

import (
	"net/http"
	"strconv"
)

// accountRec is an account as GET /accounts shows it. The records live in
// the server's shared tables; an account that uninstalled the application
// is removed, so updated_since lists it in meta.deleted_ids.
type accountRec struct {
	base
	acct                               *Account
	name, email, status, locale, inbox string
}

func init() {
	register(&kind{plural: "accounts", singular: "account", path: "accounts", global: true,
		table: func(d *db) store { return d.accts },
		// A token sees its own account; a client-credentials token every
		// account that installed the application.
		visibleTo: func(c *apiReq, r record) bool { return c.acct == nil || r.hdr().id == c.acct.id }})
	register(&kind{plural: "accounts_applications", singular: "accounts_application", path: "me", global: true,
		links: tmpl("accounts_applications", "account", "accounts/{accounts_applications.account}"),
		get:   serveMe})
}

func (r *accountRec) defaults() {
	id := strconv.FormatInt(r.id, 10)
	if r.name == "" {
		r.name = "Account " + id
	}
	if r.email == "" {
		r.email = "account" + id + "@example.com"
	}
	if r.status == "" {
		r.status = "active"
	}
	r.locale = "en"
	r.inbox = "inbox-" + id + "@inbox.example.com"
}

// render follows the reference's accounts example and table (demo, test)
// and the recordings (preferences); inbox_email needs an Inbox scope.
func (r *accountRec) render(_ *db, rc *rctx) obj {
	o := obj{
		{"id", r.id}, {"address1", "19 Les Robles"}, {"address2", ""}, {"business_name", r.name},
		{"city", "Nevache"}, {"country_code", "FR"}, {"default_locale", r.locale}, {"email", r.email},
		{"selected_locales", []string{r.locale}}, {"state", nil}, {"status", r.status}, {"website", nil},
		{"zip", "05100"}, {"created_at", tm(r.created)}, {"updated_at", tm(r.updated)},
		{"phones", obj{{"phone", ""}, {"mobile", ""}, {"fax", ""}}},
		{"demo", false}, {"test", false},
		{"preferences", obj{{"bookings", obj{{"default_arrival_time", 16}, {"default_departure_time", 10},
			{"default_communication_locale", r.locale}}}}},
	}
	if rc.inbox {
		o = append(o, field{"inbox_email", r.inbox})
	}
	return o
}

// serveMe answers GET /me: the account this token acts for, in the
// reference's accounts_applications envelope with its meta copy of the
// paging headers. A client-credentials token acts for no account: 403 (a
// guess).
func serveMe(c *apiReq) {
	s := c.s
	if c.acct == nil {
		forbidden(c.w)
		return
	}
	q := c.query()
	k := kindsByPlural["accounts_applications"]
	per := s.cfg.capOf(k.plural)
	o := accountsApplication(c.acct.id)
	link := s.linkURL(c.r, q, 1, per)
	meta := obj{{"Link", obj{{"first", link}, {"last", link}}},
		{"X-Total-Pages", "1"}, {"X-Total-Count", "1"}, {"X-Per-Page", strconv.Itoa(per)}}
	h := c.w.Header()
	h.Set("Link", s.linkHeader(c.r, q, 1, per, 1))
	h.Set("X-Total-Pages", "1")
	h.Set("X-Total-Count", "1")
	h.Set("X-Per-Page", strconv.Itoa(per))
	writeJSON(c.w, http.StatusOK, ctAPI, s.envelope(k, false, []obj{o}, meta))
}

// accountsApplication is the application as installed on an account, as
// GET /me shows it; the accounts_application_* webhooks carry the same
// record (its shape there is a guess: /me's, under the singular name).
func accountsApplication(account int64) obj {
	return obj{{"links", obj{{"account", account}}}, {"partnership_invoice_recipient", "account"}}
}
