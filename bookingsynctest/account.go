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

	mu         sync.Mutex // guards db and deliveries
	db         db
	deliveries []WebhookDelivery
	// webhookURLv (a string) receives signed deliveries ("": none).
	webhookURLv atomic.Value

	budget   budget
	requests atomic.Int64
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
	a := s.addAccount(seed, "")
	s.mu.Lock()
	a.token, a.refresh, _ = s.issue(a, withPublic(seed.Scopes), true)
	s.mu.Unlock()
	return a
}

func (s *Server) addAccount(seed AccountSeed, static string) *Account {
	now := s.now()
	s.mu.Lock()
	id := s.nextAcct
	s.nextAcct++
	a := &Account{s: s, id: id}
	a.webhookURLv.Store(s.cfg.webhookURL)
	// Ids never collide across accounts, as in the real API.
	a.db.init((id-1)*accountIDSpace + 1)
	a.budget.init(s.cfg.rateLimit, now)
	if static != "" {
		a.token = static
		s.tokens[static] = &accessToken{acct: a, scopes: scopeSet(withPublic(s.cfg.scopes))}
	}
	rec := &accountRec{base: base{id: id, created: now.Unix(), updated: now.Unix()}, acct: a,
		name: seed.BusinessName, email: seed.Email, status: seed.Status}
	rec.defaults()
	a.rec = rec
	s.shared.accts.add(rec)
	s.accounts[id] = a
	s.order = append(s.order, a)
	s.mu.Unlock()
	if !seed.Empty {
		a.seedDemo((id-1)*accountIDSpace, now)
	}
	if s.cfg.seedConvs > 0 {
		a.GenerateInbox(s.cfg.seedConvs, s.cfg.seedMsgs)
	}
	return a
}

// accountIDSpace is how many ids each account's records may use.
const accountIDSpace = 10_000_000

// Accounts returns every account, the default one first, installed or not.
func (s *Server) Accounts() []*Account {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.order)
}

// ID returns the account's id.
func (a *Account) ID() int64 { return a.id }

// Token returns the access token issued when the account was added (for
// the default account, the static token that never expires).
func (a *Account) Token() string { return a.token }

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
	var res obj
	if ok {
		a.rec.updated = now.Unix()
		res = obj{{"account", a.rec.render(&s.shared, &rctx{account: a.id})}}
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
		a.deliver("accounts_application_destroyed", a.hookPayload("accounts_application_destroyed", res))
	}
	return ok
}

// Reinstall installs the application again on an uninstalled account and
// returns a new token pair, as the authorization-code flow would.
func (a *Account) Reinstall(scopes ...string) (access, refresh string) {
	s := a.s
	if scopes == nil {
		scopes = DefaultScopes
	}
	now := s.now()
	s.mu.Lock()
	if _, ok := s.shared.accts.get(a.id); !ok {
		a.rec.updated = now.Unix()
		s.shared.accts.add(a.rec)
	}
	access, refresh, _ = s.issue(a, withPublic(scopes), true)
	s.mu.Unlock()
	return access, refresh
}

// SetStatus changes the account's status ("active", "trial", "suspended",
// "canceled", …), as GET /accounts shows it, and its updated_at.
func (a *Account) SetStatus(status string) {
	now := a.s.now()
	a.s.mu.Lock()
	a.rec.status, a.rec.updated = status, now.Unix()
	a.s.mu.Unlock()
}

// SetRateLimit sets the account's hourly limit and the requests remaining
// in the current window.
func (a *Account) SetRateLimit(limit, remaining int) { a.budget.set(limit, remaining) }

// SetRateLimitReset sets when the account's current window ends; once the
// clock reaches it the budget refills and a new one-hour window starts.
func (a *Account) SetRateLimitReset(t time.Time) { a.budget.setReset(t) }

// RateRemaining returns the requests left in the account's window.
func (a *Account) RateRemaining() int { return a.budget.left() }

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

// budget is one rate-limit window.
type budget struct {
	mu        sync.Mutex
	limit     int
	remaining int
	reset     int64 // unix seconds
}

func (b *budget) init(limit int, now time.Time) {
	b.limit, b.remaining, b.reset = limit, limit, now.Add(time.Hour).Unix()
}

// take uses one request of the window; over reports that none was left.
func (b *budget) take(now time.Time) (limit, remaining int, reset int64, over bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if now.Unix() >= b.reset {
		b.remaining = b.limit
		b.reset = now.Add(time.Hour).Unix()
	}
	over = b.remaining <= 0
	if !over {
		b.remaining--
	}
	return b.limit, max(b.remaining, 0), b.reset, over
}

func (b *budget) state() (limit int, reset int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.limit, b.reset
}

func (b *budget) set(limit, remaining int) {
	b.mu.Lock()
	b.limit, b.remaining = limit, remaining
	b.mu.Unlock()
}

func (b *budget) setReset(t time.Time) {
	b.mu.Lock()
	b.reset = t.Unix()
	b.mu.Unlock()
}

func (b *budget) left() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.remaining
}

// budgetFor returns the window a request uses: its account's, the
// application's for a client-credentials token, or the one shared by
// requests without a valid token (a guess: the real keying is unknown).
func (s *Server) budgetFor(c *apiReq) *budget {
	switch {
	case c.acct != nil:
		return &c.acct.budget
	case c.tok != nil:
		return &s.app
	}
	return &s.anon
}

// change runs fn under the account's lock, with the server's time.
func (a *Account) change(fn func(o op)) {
	now := a.s.now()
	a.mu.Lock()
	defer a.mu.Unlock()
	fn(op{d: &a.db, now: now.Unix(), nano: now.UnixNano()})
}

// notify renders rec for a webhook, or returns nil when the account has no
// webhook URL; a.mu held. The caller passes the result to deliver once the
// lock is released.
func (a *Account) notify(plural, event string, rec record) []byte {
	if a.hookURL() == "" {
		return nil
	}
	o := rec.render(&a.db, &rctx{now: a.s.now().UnixNano(), url: a.s.URL, account: a.id, inbox: true})
	return a.hookPayload(event, a.s.webhookResource(kindsByPlural[plural], o))
}

// Touch sets a record's updated_at to now; plural names the resource
// ("conversations", "messages", ...). It reports whether the record exists.
func (a *Account) Touch(plural string, id int64) bool {
	k := kindsByPlural[plural]
	if k == nil || k.table == nil {
		return false
	}
	now := a.s.now().Unix()
	mu, d := a.s.home(k, a)
	mu.Lock()
	defer mu.Unlock()
	r, ok := k.table(d).lookup(id)
	if ok {
		r.hdr().updated = now
	}
	return ok
}

// Delete removes one of the account's records, leaving a tombstone dated
// now for meta.deleted_ids. Deleting a conversation also deletes its
// participants and messages. plural names the resource ("conversations",
// "hosts", ...). It reports whether the record existed.
func (a *Account) Delete(plural string, id int64) bool {
	k := kindsByPlural[plural]
	if k == nil || k.remove == nil {
		return false
	}
	now := a.s.now().Unix()
	mu, d := a.s.home(k, a)
	mu.Lock()
	defer mu.Unlock()
	return k.remove(d, id, now)
}

// removeRow is the remove of kinds whose records link to nothing that
// must be updated.
func removeRow[T record](t func(d *db) *table[T]) func(d *db, id, now int64) bool {
	return func(d *db, id, now int64) bool { return t(d).remove(id, now) }
}
