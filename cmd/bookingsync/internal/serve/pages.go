package serve

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-bookingsync/bookingsync/inboxsync"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// maxReply bounds a reply's text (the API's own limit is not documented;
// this keeps a form from carrying a novel).
const maxReply = 10_000

// page is what every template gets: the layout's parts and the page's
// own data.
type page struct {
	Title   string
	Account int64  // the signed-in account; 0 when none
	CSRF    string // the session's CSRF token, for the forms
	Live    bool   // the page follows /events
	Data    any
}

var funcs = template.FuncMap{
	"when": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format("2 Jan 2006 15:04 UTC")
	},
	"iso": func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	// channels are the channels the inbox filters on (InboxRow.Channel).
	"channels": func() []string { return []string{"airbnb", "booking-com", "homeaway", "email"} },
}

// parsePages parses each page with the layout, once.
func parsePages() map[string]*template.Template {
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		panic(err)
	}
	out := map[string]*template.Template{}
	for _, n := range names {
		base := strings.TrimPrefix(n, "templates/")
		if base == "layout.html" {
			continue
		}
		out[base] = template.Must(template.New(base).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", n))
	}
	return out
}

// render writes a page whole or, on a template error, a plain 500: the
// page is executed into a buffer first, so that a half page never goes.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, p page) {
	var b bytes.Buffer
	if err := s.pages[name].ExecuteTemplate(&b, "layout.html", p); err != nil {
		s.log.Error("rendering a page", "page", name, "error", err.Error())
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b.Bytes())
}

// errorPage answers a page saying msg.
func (s *Server) errorPage(w http.ResponseWriter, r *http.Request, status int, msg string) {
	p := page{Title: http.StatusText(status), Data: msg}
	if sess := s.session(r); sess != nil {
		p.Account, p.CSRF = sess.Account, s.csrfToken(sess)
	}
	s.render(w, r, status, "error.html", p)
}

func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	s.errorPage(w, r, http.StatusNotFound, "There is no such conversation in this account.")
}

func (s *Server) forbidden(w http.ResponseWriter, r *http.Request) {
	s.errorPage(w, r, http.StatusForbidden, "This form has expired or did not come from this site. Reload the page and try again.")
}

func (s *Server) failed(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, context.Canceled) {
		return // the browser left
	}
	s.log.Error("reading the local copy", "path", r.URL.Path, "error", err.Error())
	s.errorPage(w, r, http.StatusInternalServerError, "The inbox could not be read. Try again in a moment.")
}

// postForm reads a POSTed form and returns its session, or answers and
// returns nil: 413 for a body over the bound, 400 for a malformed one,
// 403 without a session or without its CSRF token.
func (s *Server) postForm(w http.ResponseWriter, r *http.Request) *session {
	if err := r.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			s.errorPage(w, r, http.StatusRequestEntityTooLarge, "That form is too large.")
		} else {
			s.errorPage(w, r, http.StatusBadRequest, "That form could not be read.")
		}
		return nil
	}
	sess := s.session(r)
	if sess == nil || !s.checkCSRF(r, sess) {
		s.forbidden(w, r)
		return nil
	}
	return sess
}

// signedIn returns the request's session, or sends a GET to /login
// (coming back here afterwards) and returns nil.
func (s *Server) signedIn(w http.ResponseWriter, r *http.Request) *session {
	if sess := s.session(r); sess != nil {
		return sess
	}
	http.Redirect(w, r, "/login?return="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
	return nil
}

// inboxData is the inbox page's data.
type inboxData struct {
	Query inboxQuery
	Rows  []row
	Next  string // the next page's URL; "" on the last page
}

// inbox is GET /: the account's conversations.
func (s *Server) inbox(w http.ResponseWriter, r *http.Request) {
	sess := s.signedIn(w, r)
	if sess == nil {
		return
	}
	v := r.URL.Query()
	q := inboxQuery{Status: v.Get("status"), Awaiting: v.Get("awaiting") == "1", Channel: v.Get("channel"),
		Search: v.Get("q"), Before: v.Get("before")}
	if q.Status != "open" && q.Status != "closed" {
		q.Status = ""
	}
	rows, next, err := s.inboxRows(r.Context(), sess.Account, q)
	if errors.Is(err, inboxsync.ErrBadCursor) {
		s.errorPage(w, r, http.StatusBadRequest, "That page of the inbox does not exist. Start again from the first page.")
		return
	}
	if err != nil {
		s.failed(w, r, err)
		return
	}
	d := inboxData{Query: q, Rows: rows}
	if next != "" {
		v.Set("before", next)
		d.Next = "/?" + v.Encode()
	}
	s.render(w, r, http.StatusOK, "inbox.html", page{Title: "Inbox", Account: sess.Account, CSRF: s.csrfToken(sess), Live: true, Data: d})
}

// threadData is the thread page's data.
type threadData struct {
	*thread
	Outbox []outgoing
	Key    string // the reply form's idempotency key
}

// routeThread reads the conversation the route's {id} names in the
// session's account, or answers (404 for a malformed id, a missing one
// or another account's) and returns nil.
func (s *Server) routeThread(w http.ResponseWriter, r *http.Request, sess *session) *thread {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		s.notFound(w, r)
		return nil
	}
	t, err := s.conversationThread(r.Context(), sess.Account, id)
	switch {
	case errors.Is(err, inboxsync.ErrNotFound):
		s.notFound(w, r)
		return nil
	case err != nil:
		s.failed(w, r, err)
		return nil
	}
	return t
}

// thread is GET /conversations/{id}.
func (s *Server) thread(w http.ResponseWriter, r *http.Request) {
	sess := s.signedIn(w, r)
	if sess == nil {
		return
	}
	t := s.routeThread(w, r, sess)
	if t == nil {
		return
	}
	out, err := s.outbox(r.Context(), sess.Account, t, r.URL.Query().Get("reply"))
	if err != nil {
		s.failed(w, r, err)
		return
	}
	d := threadData{thread: t, Outbox: out, Key: randomString(24)}
	s.render(w, r, http.StatusOK, "thread.html", page{Title: t.Subject, Account: sess.Account, CSRF: s.csrfToken(sess), Live: true, Data: d})
}

// reply is POST /conversations/{id}/reply: content (and host_id, one of
// the account's hosts; default the first) with the CSRF token.
func (s *Server) reply(w http.ResponseWriter, r *http.Request) {
	sess := s.postForm(w, r)
	if sess == nil {
		return
	}
	t := s.routeThread(w, r, sess)
	if t == nil {
		return
	}
	content := strings.TrimSpace(r.PostFormValue("content"))
	if content == "" || len(content) > maxReply {
		s.errorPage(w, r, http.StatusUnprocessableEntity, "A reply needs some text, at most 10,000 characters.")
		return
	}
	hostID, ok := replyHost(t.Hosts, r.PostFormValue("host_id"))
	if !ok {
		s.errorPage(w, r, http.StatusUnprocessableEntity, "Pick one of the account's hosts to reply as.")
		return
	}
	// The form's key makes a form submitted twice queue once.
	key := r.PostFormValue("key")
	if len(key) < 16 || len(key) > 64 {
		s.errorPage(w, r, http.StatusUnprocessableEntity, "This form is incomplete. Reload the page and try again.")
		return
	}
	_, err := s.st.Enqueue(r.Context(), sess.Account, inboxsync.Outgoing{ConversationID: t.ID, HostID: hostID, Content: content, Key: key})
	if errors.Is(err, inboxsync.ErrKeyReused) {
		s.errorPage(w, r, http.StatusConflict, "This form already sent another reply. Reload the page to write a new one.")
		return
	}
	if err != nil {
		s.failed(w, r, err)
		return
	}
	http.Redirect(w, r, "/conversations/"+strconv.FormatInt(t.ID, 10)+"?reply="+url.QueryEscape(key), http.StatusSeeOther)
}

// replyHost picks the host to reply as: the form's, if it is one of
// hosts, or the first when the form names none.
func replyHost(hosts []host, v string) (int64, bool) {
	if len(hosts) == 0 {
		return 0, false
	}
	if v == "" {
		return hosts[0].ID, true
	}
	for _, h := range hosts {
		if strconv.FormatInt(h.ID, 10) == v {
			return h.ID, true
		}
	}
	return 0, false
}

// staticFiles serves the stylesheet and the script.
func staticFiles() http.Handler {
	return http.FileServerFS(staticFS)
}
