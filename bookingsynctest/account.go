package bookingsynctest

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Account is one BookingSync account that installed the application: its
// own records (Inbox, bookings, guests, rentals…), tokens, rate budget,
// webhook URL and counters. Its methods are safe for concurrent use. The
// Server embeds its default account, so the builders work on it directly.
type Account struct {
	s       *Server
	id      int64
	rec     *accountRec // its /accounts record; guarded by Server.mu
	token   string      // issued at install (the static token for the default account)
	refresh string      // issued at install ("" for the default account)
	expiry  time.Time   // of token (zero for the static token)

	mu         sync.Mutex // guards db, deliveries and pending
	db         db
	deliveries []WebhookDelivery
	pending    []int64 // hidden conversations to announce when they appear
	// webhookURLv (a string) receives signed deliveries ("": none).
	webhookURLv atomic.Value

	budget    budget
	requests  atomic.Int64
	throttled atomic.Int64 // requests answered 429 for want of budget
	// refreshes and spentRefreshes count refresh_token grants: granted,
	// and refused because the refresh token had already been used.
	refreshes, spentRefreshes atomic.Int64
}

// AccountSeed describes an account for AddAccount.
type AccountSeed struct {
	// BusinessName and Email default to "Account <id>" and
	// "account<id>@example.com".
	BusinessName, Email string
	// Status is the account's status (default "active").
	Status string
	// Empty starts the account without the demo data every seeded account
	// gets (hosts, guests, rentals, bookings and conversations, with ids
	// of its own).
	Empty bool
	// Scopes of the issued token pair (default DefaultScopes).
	Scopes []string
}

// AddAccount installs the application on a new account and returns it.
// The account has its demo data (unless seed.Empty), plus the generated
// Inbox of WithSeedSize, its own rate budget, the server's webhook URL,
// and an access token (living WithTokenLifetime) and refresh token pair,
// read with Account.Token and Account.RefreshToken.
func (s *Server) AddAccount(seed AccountSeed) *Account {
	if seed.Scopes == nil {
		seed.Scopes = DefaultScopes
	}
	return s.addAccount(seed, "")
}

// addAccount creates and installs an account: with the static token (the
// default account) or else with a token pair of seed.Scopes.
func (s *Server) addAccount(seed AccountSeed, static string) *Account {
	now := s.now()
	s.mu.Lock()
	id := AccountID + int64(len(s.accounts))
	a := &Account{s: s, id: id}
	a.webhookURLv.Store(s.cfg.webhookURL)
	// Ids never collide across accounts, as in the real API.
	a.db.init((id-1)*accountIDSpace + 1)
	a.budget.init(s.cfg.rateLimit, now)
	if static != "" {
		a.token = static
		s.tokens[static] = &accessToken{acct: a, scopes: scopeSet(withPublic(s.cfg.scopes))}
	} else {
		a.token, a.refresh, _ = s.issue(a, withPublic(seed.Scopes), true)
		a.expiry = s.tokens[a.token].expiresAt()
	}
	rec := &accountRec{base: base{id: id, created: now.Unix(), updated: now.Unix()}, acct: a,
		name: seed.BusinessName, email: seed.Email, status: seed.Status}
	rec.defaults()
	a.rec = rec
	s.shared.accts.add(rec)
	s.accounts = append(s.accounts, a)
	s.mu.Unlock()
	if !seed.Empty {
		a.seedDemo((id-1)*accountIDSpace, now)
	}
	if s.cfg.seedConvs > 0 {
		a.GenerateInbox(s.cfg.seedConvs, s.cfg.seedMsgs)
	}
	return a
}

// account returns the account with the given id, or nil; s.mu held.
func (s *Server) account(id int64) *Account {
	if i := id - AccountID; i >= 0 && i < int64(len(s.accounts)) {
		return s.accounts[i]
	}
	return nil
}

// accountIDSpace is how many ids each account's records may use.
const accountIDSpace = 10_000_000

// Accounts returns every account, the default one first, installed or not.
func (s *Server) Accounts() []*Account {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.accounts)
}

// ID returns the account's id.
func (a *Account) ID() int64 { return a.id }

// Token returns the access token issued when the account was added (for
// the default account, the static token that never expires).
func (a *Account) Token() string { return a.token }

// TokenExpiry returns when Token expires by the server's clock (zero for
// the default account's static token), for an oauth2.Token's Expiry.
func (a *Account) TokenExpiry() time.Time { return a.expiry }

// RefreshToken returns the refresh token issued with Token ("" for the
// default account). Refresh tokens rotate: once it is used, this one is
// spent and the grant answers invalid_grant.
func (a *Account) RefreshToken() string { return a.refresh }

// Installed reports whether the application is installed on the account.
func (a *Account) Installed() bool {
	a.s.mu.Lock()
	defer a.s.mu.Unlock()
	_, ok := a.s.shared.accts.get(a.id)
	return ok
}

// Uninstall removes the application from the account, as its
// administrator would: every token of the account stops working (401, and
// invalid_grant for its refresh tokens), the client-credentials listing of
// accounts no longer shows it (with updated_since it is in
// meta.deleted_ids), and an accounts_application_destroyed webhook is
// delivered if a webhook URL is set. It reports whether it was installed.
func (a *Account) Uninstall() bool {
	s := a.s
	now := s.now()
	s.mu.Lock()
	_, ok := s.shared.accts.get(a.id)
	if ok {
		a.rec.updated = now.Unix()
		s.shared.accts.remove(a.id, now.Unix())
		for _, t := range s.tokens {
			if t.acct == a {
				t.revoked = true
			}
		}
		for rt, g := range s.refreshes {
			if g.acct == a {
				delete(s.refreshes, rt)
			}
		}
	}
	s.mu.Unlock()
	if ok {
		a.applicationEvent("accounts_application_destroyed")
	}
	return ok
}

// applicationEvent delivers an accounts_application_* webhook.
func (a *Account) applicationEvent(event string) {
	k := kindsByPlural["accounts_applications"]
	a.deliver(event, a.hookPayload(event, a.s.webhookResource(k, accountsApplication(a.id))))
}

// Reinstall installs the application again on an uninstalled account and
// returns a new token pair, as the authorization-code flow would; an
// accounts_application_created webhook is delivered when it was not
// installed.
func (a *Account) Reinstall(scopes ...string) (access, refresh string) {
	s := a.s
	if scopes == nil {
		scopes = DefaultScopes
	}
	now := s.now()
	s.mu.Lock()
	_, was := s.shared.accts.get(a.id)
	if !was {
		a.rec.updated = now.Unix()
		s.shared.accts.add(a.rec)
	}
	access, refresh, _ = s.issue(a, withPublic(scopes), true)
	s.mu.Unlock()
	if !was {
		a.applicationEvent("accounts_application_created")
	}
	return access, refresh
}

// SetStatus changes the account's status ("active", "trial", "suspended",
// "canceled", …), as GET /accounts shows it, and its updated_at; an
// account_updated webhook is delivered.
func (a *Account) SetStatus(status string) {
	now := a.s.now()
	a.s.mu.Lock()
	a.rec.status, a.rec.updated = status, now.Unix()
	var hook []byte
	if a.hookURL() != "" {
		o := a.rec.render(&a.s.shared, &rctx{account: a.id, inbox: true})
		hook = a.hookPayload("account_updated", a.s.webhookResource(kindsByPlural["accounts"], o))
	}
	a.s.mu.Unlock()
	a.deliver("account_updated", hook)
}

// RequestTotal counts the API requests made with the account's tokens
// (kept even WithoutRequestLog).
func (a *Account) RequestTotal() int { return int(a.requests.Load()) }

// Requests returns the logged requests made with the account's tokens,
// oldest first (Server.Requests returns every account's).
func (a *Account) Requests() []Request {
	var out []Request
	for _, r := range a.s.Requests() {
		if r.AccountID == a.id {
			out = append(out, r)
		}
	}
	return out
}

// RequestCount is Server.RequestCount restricted to the account's requests.
func (a *Account) RequestCount(method, pathPrefix string) int {
	return a.s.countRequests(a.id, method, pathPrefix)
}

// RefreshCount returns how many refresh_token grants the account's
// refresh tokens obtained.
func (a *Account) RefreshCount() int { return int(a.refreshes.Load()) }

// SpentRefreshCount returns how many times one of the account's refresh
// tokens was presented again after it had been used (each answered
// invalid_grant). A client that never loses a rotation keeps it at zero.
func (a *Account) SpentRefreshCount() int { return int(a.spentRefreshes.Load()) }

// RefreshCount returns how many refresh_token grants succeeded, over every
// account (Account.RefreshCount counts one account's).
func (s *Server) RefreshCount() int {
	n := 0
	for _, a := range s.Accounts() {
		n += a.RefreshCount()
	}
	return n
}

// change runs fn under the account's lock, with the server's time.
func (a *Account) change(fn func(o op)) {
	now := a.s.now()
	a.mu.Lock()
	defer a.mu.Unlock()
	fn(op{d: &a.db, now: now.Unix(), nano: now.UnixNano()})
}

// notify renders rec for a webhook, or returns nil when the account has no
// webhook URL or event is ""; the home lock of rec is held. The caller
// passes the result to deliver once the lock is released.
func (a *Account) notify(plural, event string, rec record) []byte {
	if a.hookURL() == "" || event == "" {
		return nil
	}
	o := rec.render(&a.db, &rctx{now: a.s.now().UnixNano(), url: a.s.URL, account: a.id, inbox: true})
	return a.hookPayload(event, a.s.webhookResource(kindsByPlural[plural], o))
}

// Touch sets a record's updated_at to now; plural names the resource
// ("conversations", "messages", ...). The resource's updated webhook
// (inbox_conversation_updated, booking_updated, client_updated, …) is
// delivered. It reports whether the record exists.
func (a *Account) Touch(plural string, id int64) bool {
	return a.onRecord(plural, id, func(k *kind, d *db, r record, now int64) (string, []byte, bool) {
		r.hdr().updated = now
		return k.events.updated, a.notify(plural, k.events.updated, r), true
	})
}

// Delete removes one of the account's records, leaving a tombstone dated
// now for meta.deleted_ids. Deleting a conversation also deletes its
// participants and messages. plural names the resource ("conversations",
// "hosts", ...). The resource's destroyed webhook (booking_destroyed,
// client_destroyed, …), where the reference has one, is delivered with
// the record as it was. It reports whether the record existed.
func (a *Account) Delete(plural string, id int64) bool {
	return a.onRecord(plural, id, func(k *kind, d *db, r record, now int64) (string, []byte, bool) {
		if k.remove == nil {
			return "", nil, false
		}
		hook := a.notify(plural, k.events.destroyed, r)
		return k.events.destroyed, hook, k.remove(d, id, now)
	})
}

// onRecord runs fn on the record of the kind named plural under its lock,
// then delivers the webhook fn returns (event "" or a nil body: none). An
// unknown kind or record gives false, else fn's report.
func (a *Account) onRecord(plural string, id int64, fn func(k *kind, d *db, r record, now int64) (event string, hook []byte, ok bool)) bool {
	k := kindsByPlural[plural]
	if k == nil || k.table == nil {
		return false
	}
	now := a.s.now().Unix()
	mu, d := a.s.home(k, a)
	mu.Lock()
	r, found := k.table(d).lookup(id)
	var event string
	var hook []byte
	ok := false
	if found {
		event, hook, ok = fn(k, d, r, now)
	}
	mu.Unlock()
	a.deliver(event, hook)
	return ok
}

// removeRow is the remove of kinds whose records link to nothing that
// must be updated.
func removeRow[T record](t func(d *db) *table[T]) func(d *db, id, now int64) bool {
	return func(d *db, id, now int64) bool { return t(d).remove(id, now) }
}

// updateWithSet is the update of the kinds whose record applies the
// written fields itself (set): to a copy, kept only when set finds no
// error, with updated_at moved to now.
func updateWithSet[T any, P interface {
	*T
	record
	set(p params, e verrs)
}](o op, r record, p params) verrs {
	cur := r.(P)
	n := *cur
	e := verrs{}
	P(&n).set(p, e)
	if len(e) > 0 {
		return e
	}
	P(&n).hdr().updated = o.now
	*cur = n
	return nil
}

// createWithSet is the create of the same kinds: a fresh record, the
// written fields applied by set, stored when set finds no error.
func createWithSet[T any, P interface {
	*T
	record
	set(p params, e verrs)
}](fresh func(o op) P, t func(d *db) *table[P]) func(o op, p params) (record, verrs) {
	return func(o op, p params) (record, verrs) {
		r := fresh(o)
		e := verrs{}
		r.set(p, e)
		if len(e) > 0 {
			return nil, e
		}
		t(o.d).add(r)
		return r, nil
	}
}
