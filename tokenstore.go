package bookingsync

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"golang.org/x/oauth2"
)

// ErrNoToken reports that a TokenStore holds no token yet, or that a token
// source has no refresh token to renew its access token with. The remedy is
// to send the user through the authorization code flow again.
var ErrNoToken = errors.New("bookingsync: no OAuth token stored")

// TokenStore persists the OAuth token of one BookingSync account.
//
// BookingSync rotates refresh tokens: every refresh returns a new refresh
// token and kills the old one. A store therefore holds the only copy of the
// account's access; Save must not return before the token is durable.
//
// Load returns an error wrapping ErrNoToken when nothing has been saved yet.
// Implementations must be safe for concurrent use and must never log or
// print the token.
type TokenStore interface {
	// Load returns the most recently saved token.
	Load(ctx context.Context) (*oauth2.Token, error)
	// Save durably replaces the stored token with t.
	Save(ctx context.Context, t *oauth2.Token) error
}

// FileTokenStore is a TokenStore keeping one token as JSON in a file that
// only its owner can read (mode 0600).
//
// Save writes a temporary file in the same directory, flushes it to disk
// and renames it over the old file, then flushes the directory: a crash at
// any moment leaves either the old token or the new one, never a torn file.
// A FileTokenStore is safe for concurrent use by multiple goroutines; to
// share the file between processes, pair it with a Locker such as
// FileLocker (see StoredTokenSource).
type FileTokenStore struct {
	path string
	mu   sync.Mutex
}

// NewFileTokenStore returns a FileTokenStore keeping its token in the file
// at path. The directory must exist; the file is created by the first Save.
func NewFileTokenStore(path string) *FileTokenStore {
	return &FileTokenStore{path: path}
}

// Path returns the file the store reads and writes.
func (s *FileTokenStore) Path() string { return s.path }

// Load reads the token from the file. A missing file yields an error
// wrapping both ErrNoToken and fs.ErrNotExist.
func (s *FileTokenStore) Load(ctx context.Context) (*oauth2.Token, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	b, err := os.ReadFile(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("bookingsync: load token: %w: %w", ErrNoToken, err)
	}
	if err != nil {
		return nil, fmt.Errorf("bookingsync: load token: %w", err)
	}
	var t oauth2.Token
	if err := json.Unmarshal(b, &t); err != nil {
		// The decoder's message names a position or a type, never the
		// file's content.
		return nil, fmt.Errorf("bookingsync: load token from %s: malformed JSON: %w", s.path, err)
	}
	return &t, nil
}

// Save atomically replaces the file's content with t (see FileTokenStore).
func (s *FileTokenStore) Save(ctx context.Context, t *oauth2.Token) (err error) {
	if t == nil {
		return errors.New("bookingsync: save token: nil token")
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	c := *t
	c.ExpiresIn = 0 // relative to the response; Expiry is what counts
	b, err := json.Marshal(&c)
	if err != nil {
		return fmt.Errorf("bookingsync: save token: %w", err)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	dir, base := filepath.Split(s.path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return fmt.Errorf("bookingsync: save token: %w", err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(tmp)
		}
	}()
	if err = f.Chmod(0o600); err != nil {
		return fmt.Errorf("bookingsync: save token: %w", err)
	}
	if _, err = f.Write(b); err != nil {
		return fmt.Errorf("bookingsync: save token: %w", err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("bookingsync: save token: %w", err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("bookingsync: save token: %w", err)
	}
	if err = os.Rename(tmp, s.path); err != nil {
		return fmt.Errorf("bookingsync: save token: %w", err)
	}
	if err := syncDir(dir); err != nil {
		// The new file is in place; only its durability across a power
		// loss is in doubt. Report it all the same.
		return fmt.Errorf("bookingsync: save token: sync directory: %w", err)
	}
	return nil
}

// syncDir flushes a directory entry change (the rename) to disk.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil // directories cannot be opened for syncing there
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// ErrTokenSuperseded is returned, wrapped, by a RefreshSaver's
// SaveRefreshed when the store no longer holds the token that was
// refreshed: another process saved a newer one, the user authorized the
// application again, or the account was uninstalled and its token
// forgotten. The stored state wins.
var ErrTokenSuperseded = errors.New("bookingsync: stored token superseded")

// RefreshSaver is a TokenStore that can save a refreshed token on one
// condition: that it still holds spent, the token whose refresh token was
// traded for t (a compare-and-swap on the refresh token). When its store
// implements it, StoredTokenSource saves every refreshed token through
// SaveRefreshed instead of Save, so that a process whose Locker was lost
// on the way (a dropped database connection releases a lock without
// telling its holder) can never write an older token over a newer one.
//
// SaveRefreshed returns an error wrapping ErrTokenSuperseded, and saves
// nothing, when the stored token's refresh token is not spent's. The source
// then forgets its token and re-loads the store at the next call.
type RefreshSaver interface {
	TokenStore
	SaveRefreshed(ctx context.Context, spent, t *oauth2.Token) error
}

// Locker serializes token refreshes between processes sharing one
// TokenStore (see StoredTokenSource). Lock blocks until the lock is held or
// ctx is done, and returns the function that releases it.
type Locker interface {
	Lock(ctx context.Context) (unlock func(), err error)
}

// StoredTokenOption configures a StoredTokenSource.
type StoredTokenOption func(*storedTokenOptions)

type storedTokenOptions struct {
	now            func() time.Time
	margin         time.Duration
	onSaveError    func(error)
	locker         Locker
	refreshTimeout time.Duration
}

// DefaultExpiryMargin is how long before its expiry a StoredTokenSource
// treats an access token as expired, so that a request does not leave with a
// token that dies on the way.
const DefaultExpiryMargin = time.Minute

// DefaultRefreshTimeout bounds the work of one refresh by a
// StoredTokenSource: re-loading the store, waiting for the Locker, the
// token request and saving its result.
const DefaultRefreshTimeout = time.Minute

// WithClock makes the source read the time from now instead of time.Now
// when it decides whether the access token has expired.
func WithClock(now func() time.Time) StoredTokenOption {
	return func(o *storedTokenOptions) {
		if now != nil {
			o.now = now
		}
	}
}

// WithExpiryMargin sets how long before its expiry an access token is
// refreshed; the default is DefaultExpiryMargin. A negative d counts as 0.
func WithExpiryMargin(d time.Duration) StoredTokenOption {
	return func(o *storedTokenOptions) { o.margin = max(d, 0) }
}

// WithSaveErrorHandler registers fn to be called with every error the
// TokenStore's Save returns. The source keeps handing out the new token
// after a failed save and retries the save on the next call, but until a
// save succeeds a crash loses the account's access: fn is the place to
// alert someone. fn runs while the source's work is under way: it must not
// call Token or RefreshToken (LastSaveError is fine).
func WithSaveErrorHandler(fn func(error)) StoredTokenOption {
	return func(o *storedTokenOptions) { o.onSaveError = fn }
}

// WithLocker makes the source take l around every refresh and re-load the
// store first, so that several processes sharing one TokenStore never
// refresh the same refresh token twice. See StoredTokenSource.
func WithLocker(l Locker) StoredTokenOption {
	return func(o *storedTokenOptions) { o.locker = l }
}

// WithRefreshTimeout bounds the work of one refresh (see
// DefaultRefreshTimeout, the default).
func WithRefreshTimeout(d time.Duration) StoredTokenOption {
	return func(o *storedTokenOptions) {
		if d > 0 {
			o.refreshTimeout = d
		}
	}
}

// StoredTokenSource is an oauth2.TokenSource for one BookingSync account
// that persists every token in a TokenStore before handing it out. Build it
// with NewStoredTokenSource and give it to the Client (WithTokenSource); it
// is safe for concurrent use.
//
// It caches the token itself and its Token is cheap: call it for every
// request. Do not wrap it in oauth2.ReuseTokenSource, which oauth2.NewClient
// does; that cache would hide a pending save and the expiry margin. For a
// plain *http.Client use &http.Client{Transport: &oauth2.Transport{Source: ts}}.
//
// BookingSync rotates refresh tokens: each refresh returns a new refresh
// token and kills the old one. Losing the newest refresh token means the
// user must authorize the application again. The source guards it thus:
//
//   - It loads the store lazily, on the first call to Token.
//   - It refreshes only when the access token is missing or expires within
//     the expiry margin (WithExpiryMargin, WithClock), or when the server
//     rejected it (RefreshToken).
//   - Only one refresh runs at a time; concurrent callers wait for it and
//     share its result.
//   - The new token is saved before it is returned. If Save fails, the
//     token is still returned and kept in memory, the failure is reported
//     (WithSaveErrorHandler, LastSaveError), and every later call retries
//     the save before doing anything else.
//   - Once the token request is sent, the refresh and the save run to the
//     end (bounded by WithRefreshTimeout) even if the caller's context is
//     cancelled: a rotated token the server has issued must not be dropped.
//
// Several processes: when two processes refresh the same refresh token, the
// loser's refresh fails with invalid_grant (the source then re-loads the
// store and continues with the winner's token if it is there already). The
// real danger is the order of writes: if one process saves an older token
// after another saved a newer one, the store ends up holding a dead refresh
// token, and the account is lost at the next restart. Processes that share
// a store must therefore share a Locker too (WithLocker, e.g. FileLocker):
// each refresh then happens under the lock, after re-loading the store, and
// a token another process already rotated is used instead of refreshing
// again. Without a Locker, give each account's token to a single process.
// A store that is also a RefreshSaver (inboxsync's is) closes the last gap:
// a refreshed token is saved only over the one it was refreshed from, so
// that even a lock lost on the way cannot put an older token over a newer.
type StoredTokenSource struct {
	cfg   *oauth2.Config
	store TokenStore
	ctx   context.Context
	hc    *http.Client // the caller's oauth2.HTTPClient, if any
	opts  storedTokenOptions

	work chan struct{} // held by the one goroutine loading, saving or refreshing

	mu      sync.Mutex
	loaded  bool          // the store has been read once
	tok     *oauth2.Token // newest token known, nil if none
	pending bool          // tok has not been saved successfully yet
	spent   *oauth2.Token // while pending: the token tok was refreshed from
	saveErr error         // result of the latest save
	revoked string        // access token the server rejected (RefreshToken)
}

// NewStoredTokenSource returns a token source for the account whose token
// is kept in store; see StoredTokenSource. cfg must have the application's
// credentials and an Endpoint (see Endpoint); its RedirectURL and Scopes
// play no part in a refresh.
//
// ctx serves as in golang.org/x/oauth2: an *http.Client stored under
// oauth2.HTTPClient is used for the token requests (also for the ones
// RefreshToken makes), and ctx is the context of the work Token does.
func NewStoredTokenSource(ctx context.Context, cfg *oauth2.Config, store TokenStore, opts ...StoredTokenOption) *StoredTokenSource {
	if ctx == nil {
		ctx = context.Background()
	}
	s := &StoredTokenSource{
		cfg:   cfg,
		store: store,
		ctx:   ctx,
		work:  make(chan struct{}, 1),
		opts: storedTokenOptions{
			now:            time.Now,
			margin:         DefaultExpiryMargin,
			refreshTimeout: DefaultRefreshTimeout,
		},
	}
	s.hc, _ = ctx.Value(oauth2.HTTPClient).(*http.Client)
	for _, o := range opts {
		o(&s.opts)
	}
	return s
}

// Token returns a valid access token, loading it from the store the first
// time and refreshing it when it expires within the expiry margin. A token
// whose save failed is still returned with a nil error; see LastSaveError.
// When the store holds nothing, the error wraps ErrNoToken.
func (s *StoredTokenSource) Token() (*oauth2.Token, error) {
	return s.TokenContext(s.ctx)
}

// TokenContext is Token, with ctx bounding the wait (see
// TokenSourceContext; the Client calls it with each request's context). A
// caller whose ctx ends while a refresh is under way returns ctx's error
// at once; the refresh goes on, bounded by WithRefreshTimeout, and serves
// every other caller waiting for it: one refresh for all of them.
func (s *StoredTokenSource) TokenContext(ctx context.Context) (*oauth2.Token, error) {
	if ctx == nil {
		ctx = s.ctx
	}
	s.mu.Lock()
	t, fresh := s.tok, s.loaded && !s.pending && s.usableLocked(s.tok)
	s.mu.Unlock()
	if fresh {
		return t, nil
	}
	return s.do(ctx, nil, false)
}

// RefreshToken renews the access token after the server refused rejected
// (a 401 with error="invalid_token"), even if the local clock thinks it is
// still valid. If the source's token already differs from rejected, because
// another caller refreshed meanwhile, that token is returned without a new
// refresh. Concurrent calls share one refresh, and the new token is saved
// before it is returned, exactly as with Token. A nil rejected forces a
// refresh of whatever token the source holds.
//
// ctx bounds the wait; a refresh already under way is not abandoned when it
// is cancelled (see StoredTokenSource).
func (s *StoredTokenSource) RefreshToken(ctx context.Context, rejected *oauth2.Token) (*oauth2.Token, error) {
	return s.do(ctx, rejected, true)
}

// String describes the source without revealing its tokens, so that
// printing it with %v or %+v is safe.
func (s *StoredTokenSource) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	state := "no token"
	if s.tok != nil {
		state = "token expires " + s.tok.Expiry.Format(time.RFC3339)
	}
	if s.pending {
		state += ", unsaved"
	}
	return "bookingsync.StoredTokenSource{" + state + "}"
}

// GoString is String, for %#v.
func (s *StoredTokenSource) GoString() string { return s.String() }

// LastSaveError returns the error of the latest attempt to save a token,
// or nil when it succeeded (or none was needed yet). A non-nil value means
// the newest refresh token lives only in this process's memory.
func (s *StoredTokenSource) LastSaveError() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.saveErr
}

// usableLocked reports whether t can be handed out: it has an access token
// that the server has not rejected and that is not about to expire. The
// caller holds s.mu.
func (s *StoredTokenSource) usableLocked(t *oauth2.Token) bool {
	if t == nil || t.AccessToken == "" || t.AccessToken == s.revoked {
		return false
	}
	return t.Expiry.IsZero() || s.opts.now().Add(s.opts.margin).Before(t.Expiry)
}

func (s *StoredTokenSource) usable(t *oauth2.Token) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.usableLocked(t)
}

func (s *StoredTokenSource) current() (*oauth2.Token, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tok, s.pending
}

// do runs the slow path in its own goroutine, one at a time. The caller
// waits for it or for ctx; the work itself is detached from ctx's
// cancellation so that a rotated token is always saved.
func (s *StoredTokenSource) do(ctx context.Context, rejected *oauth2.Token, force bool) (*oauth2.Token, error) {
	select {
	case s.work <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	wctx := context.WithoutCancel(ctx)
	if s.hc != nil && wctx.Value(oauth2.HTTPClient) == nil {
		wctx = context.WithValue(wctx, oauth2.HTTPClient, s.hc)
	}
	wctx, cancel := context.WithTimeout(wctx, s.opts.refreshTimeout)
	return awaitToken(ctx, func() (*oauth2.Token, error) {
		defer func() { <-s.work }()
		defer cancel()
		return s.slow(wctx, rejected, force)
	})
}

// slow loads, retries a pending save and refreshes as needed. It runs in
// the work slot.
func (s *StoredTokenSource) slow(ctx context.Context, rejected *oauth2.Token, force bool) (*oauth2.Token, error) {
	s.mu.Lock()
	load := !s.loaded || s.tok == nil // nothing yet: maybe saved since
	s.mu.Unlock()
	if load {
		t, err := s.store.Load(ctx)
		if err != nil && !errors.Is(err, ErrNoToken) {
			return nil, err
		}
		s.mu.Lock()
		s.loaded, s.tok = true, t
		s.mu.Unlock()
	}

	cur, pending := s.current()
	if pending {
		s.save(ctx, cur)
	}
	if force && cur != nil && (rejected == nil || sameAccess(cur, rejected)) {
		// The server refused it: nobody gets it any more, even if the
		// refresh below fails.
		s.mu.Lock()
		s.revoked = cur.AccessToken
		s.mu.Unlock()
	}
	if s.usable(cur) {
		return cur, nil
	}
	return s.refresh(ctx, cur, rejected)
}

func (s *StoredTokenSource) refresh(ctx context.Context, cur, rejected *oauth2.Token) (*oauth2.Token, error) {
	if l := s.opts.locker; l != nil {
		unlock, err := l.Lock(ctx)
		if err != nil {
			return nil, fmt.Errorf("bookingsync: refresh token: lock: %w", err)
		}
		defer unlock()
		// Another process may have rotated the token meanwhile. Unless
		// this process holds a newer, unsaved token, the store is the
		// truth.
		if _, pending := s.current(); !pending {
			stored, err := s.store.Load(ctx)
			if err != nil && !errors.Is(err, ErrNoToken) {
				return nil, fmt.Errorf("bookingsync: refresh token: re-load store: %w", err)
			}
			if stored != nil && !sameToken(stored, cur) {
				s.mu.Lock()
				s.tok = stored
				s.mu.Unlock()
				cur = stored
				if s.usable(stored) && (rejected == nil || !sameAccess(stored, rejected)) {
					return stored, nil
				}
			}
		}
	}

	if cur == nil {
		return nil, fmt.Errorf("%w; authorize the application first", ErrNoToken)
	}
	if cur.RefreshToken == "" {
		return nil, fmt.Errorf("bookingsync: cannot renew the access token: %w (no refresh token)", ErrNoToken)
	}
	from := cur
	t, err := s.exchange(ctx, cur.RefreshToken)
	if isInvalidGrant(err) && s.opts.locker == nil {
		// Without a Locker, another process may have used the refresh
		// token and saved its successor: take that one if so.
		if _, pending := s.current(); !pending {
			if stored, lerr := s.store.Load(ctx); lerr == nil && stored != nil && stored.RefreshToken != cur.RefreshToken {
				s.mu.Lock()
				s.tok = stored
				s.mu.Unlock()
				if s.usable(stored) && (rejected == nil || !sameAccess(stored, rejected)) {
					return stored, nil
				}
				if stored.RefreshToken != "" {
					from = stored
					t, err = s.exchange(ctx, stored.RefreshToken)
				}
			}
		}
	}
	if err != nil {
		// x/oauth2's errors quote the server's answer, which a debugging
		// endpoint may make an echo of the request form.
		return nil, &redactedError{fmt.Errorf("bookingsync: refresh token: %w", err), []string{cur.RefreshToken, s.cfg.ClientSecret}}
	}
	s.mu.Lock()
	s.tok, s.pending, s.spent = t, true, from
	s.mu.Unlock()
	s.save(ctx, t)
	return t, nil
}

// exchange trades a refresh token for a new token. x/oauth2 does the work:
// a token without an access token makes its token source refresh at once.
func (s *StoredTokenSource) exchange(ctx context.Context, refreshToken string) (*oauth2.Token, error) {
	return s.cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: refreshToken}).Token()
}

// isInvalidGrant reports whether the token endpoint refused the grant (a
// dead or unknown refresh token).
func isInvalidGrant(err error) bool {
	var re *oauth2.RetrieveError
	return errors.As(err, &re) && re.ErrorCode == "invalid_grant"
}

// save stores t, which is s.tok, and records the outcome. A store that is
// a RefreshSaver saves it only over the token it was refreshed from.
func (s *StoredTokenSource) save(ctx context.Context, t *oauth2.Token) {
	s.mu.Lock()
	spent := s.spent
	s.mu.Unlock()
	var err error
	if rs, ok := s.store.(RefreshSaver); ok && spent != nil {
		err = rs.SaveRefreshed(ctx, spent, t)
	} else {
		err = s.store.Save(ctx, t)
	}
	if errors.Is(err, ErrTokenSuperseded) {
		// The store holds a newer token, or none: it wins. t still
		// serves the caller now; the next call re-loads the store.
		s.mu.Lock()
		if s.tok == t {
			s.pending, s.spent, s.loaded = false, nil, false
		}
		s.saveErr = nil
		s.mu.Unlock()
		return
	}
	if err != nil {
		err = fmt.Errorf("bookingsync: save refreshed token: %w", err)
	}
	s.mu.Lock()
	if err == nil && s.tok == t {
		s.pending, s.spent = false, nil
	}
	s.saveErr = err
	s.mu.Unlock()
	if err != nil && s.opts.onSaveError != nil {
		s.opts.onSaveError(err)
	}
}

func sameAccess(a, b *oauth2.Token) bool {
	return a != nil && b != nil && a.AccessToken == b.AccessToken
}

func sameToken(a, b *oauth2.Token) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.AccessToken == b.AccessToken && a.RefreshToken == b.RefreshToken
}
