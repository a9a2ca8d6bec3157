package bookingsync

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
)

// tokenRefresher is the core client's interface, repeated here so that the
// compiler checks StoredTokenSource against its exact signature.
type tokenRefresher interface {
	RefreshToken(ctx context.Context, rejected *oauth2.Token) (*oauth2.Token, error)
}

var (
	_ tokenRefresher     = (*StoredTokenSource)(nil)
	_ oauth2.TokenSource = (*StoredTokenSource)(nil)
	_ TokenStore         = (*FileTokenStore)(nil)
)

// testClock is the package's fake clock (setup_test.go), which the token
// tests pass as WithClock(clock.Now); tokens expire by moving it, not by
// sleeping.
type testClock = fakeClock

func newTestClock() *testClock { return &fakeClock{t: time.Now()} }

// memStore is an in-memory TokenStore that records saves and can fail them.
type memStore struct {
	mu      sync.Mutex
	tok     *oauth2.Token
	saves   []string // access tokens saved, in order
	loads   int
	saveErr error
}

func (m *memStore) Load(ctx context.Context) (*oauth2.Token, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.loads++
	if m.tok == nil {
		return nil, ErrNoToken
	}
	c := *m.tok
	return &c, nil
}

func (m *memStore) Save(ctx context.Context, t *oauth2.Token) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.saveErr != nil {
		return m.saveErr
	}
	c := *t
	m.tok = &c
	m.saves = append(m.saves, t.AccessToken)
	return nil
}

func (m *memStore) stored() *oauth2.Token {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.tok
}

func (m *memStore) setSaveErr(err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.saveErr = err
}

func (m *memStore) loadCount() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.loads
}

// ---- FileTokenStore ----

func TestFileTokenStoreRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "token.json")
	st := NewFileTokenStore(path)
	assert.EqualValues(t, path, st.Path(), "Path() = %q", st.Path())

	_, err := st.Load(ctx)
	require.False(t, !errors.Is(err, ErrNoToken) || !errors.Is(err, fs.ErrNotExist), "Load of a missing file: %v, want ErrNoToken and fs.ErrNotExist", err)

	exp := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	want := &oauth2.Token{AccessToken: "at-1", RefreshToken: "rt-1", TokenType: "Bearer", Expiry: exp, ExpiresIn: 7200}
	require.NoError(t, st.Save(ctx, want))
	got, err := NewFileTokenStore(path).Load(ctx)
	require.NoError(t, err)
	assert.False(t, got.AccessToken != "at-1" || got.RefreshToken != "rt-1" || got.TokenType != "Bearer" || !got.Expiry.Equal(exp), "Load = %+v", got)
	assert.EqualValues(t, 7200, want.ExpiresIn, "Save modified the caller's token")

	assert.Error(t, st.Save(ctx, nil), "Save(nil) succeeded")
}

func TestFileTokenStorePermissionsAndAtomicReplace(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "token.json")
	// A pre-existing, world-readable file is replaced by a private one.
	require.NoError(t, os.WriteFile(path, []byte(`{"access_token":"old"}`), 0o644))
	st := NewFileTokenStore(path)
	for i := range 20 {
		require.NoError(t, st.Save(ctx, &oauth2.Token{AccessToken: fmt.Sprint("at-", i), RefreshToken: "rt"}))
	}
	fi, err := os.Stat(path)
	require.NoError(t, err)
	perm := fi.Mode().Perm()
	assert.EqualValues(t, 0o600, perm, "token file mode = %v, want 0600", perm)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	assert.Equal(t, []string{"token.json"}, names, "directory entries, want only token.json (no temp files left)")
	got, err := st.Load(ctx)
	assert.False(t, err != nil || got.AccessToken != "at-19", "Load = %v, %v; want at-19", got, err)
}

func TestFileTokenStoreSaveFailureLeavesOldToken(t *testing.T) {
	t.Parallel()
	if os.Geteuid() == 0 {
		t.Skip("root ignores directory permissions")
	}
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "token.json")
	st := NewFileTokenStore(path)
	require.NoError(t, st.Save(ctx, &oauth2.Token{AccessToken: "at-1"}))
	require.NoError(t, os.Chmod(dir, 0o500))
	t.Cleanup(func() { _ = os.Chmod(dir, 0o700) })
	err := st.Save(ctx, &oauth2.Token{AccessToken: "at-2"})
	require.Error(t, err, "Save into a read-only directory succeeded")
	got, err := st.Load(ctx)
	assert.False(t, err != nil || got.AccessToken != "at-1", "after a failed save Load = %v, %v; want at-1", got, err)
}

func TestFileTokenStoreMalformed(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "token.json")
	require.NoError(t, os.WriteFile(path, []byte(`{"access_token":"secret-value`), 0o600))
	_, err := NewFileTokenStore(path).Load(context.Background())
	require.False(t, err == nil || errors.Is(err, ErrNoToken), "Load of a torn file: %v, want a non-ErrNoToken error", err)
	assert.NotContains(t, err.Error(), "secret-value", "error shows the file's content: %v", err)
}

func TestFileTokenStoreConcurrent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "token.json")
	st := NewFileTokenStore(path)
	require.NoError(t, st.Save(ctx, &oauth2.Token{AccessToken: "seed"}))
	other := NewFileTokenStore(path) // a second store on the same file: rename keeps it whole
	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for i := range 10 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for j := range 10 {
				if err := st.Save(ctx, &oauth2.Token{AccessToken: fmt.Sprintf("at-%d-%d", i, j)}); err != nil {
					errs <- err
				}
			}
		}()
		go func() {
			defer wg.Done()
			for range 10 {
				s := st
				if i%2 == 0 {
					s = other
				}
				tok, err := s.Load(ctx)
				if err != nil {
					errs <- err
				} else if tok.AccessToken == "" {
					errs <- errors.New("loaded an empty token")
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		assert.NoError(t, err)
	}
}

// ---- StoredTokenSource ----

type oauthFixture struct {
	srv   *authServer
	cfg   *oauth2.Config
	clock *testClock
}

func newFixture(t *testing.T) *oauthFixture {
	srv := newAuthServer(t)
	clock := newTestClock()
	srv.clock = clock.Now
	return &oauthFixture{srv: srv, cfg: srv.config(), clock: clock}
}

// seed stores a freshly issued token pair expiring in 2h by the test clock.
func (f *oauthFixture) seed(st TokenStore) *oauth2.Token {
	tok := f.srv.seed()
	tok.Expiry = f.clock.Now().Add(2 * time.Hour)
	if err := st.Save(context.Background(), tok); err != nil {
		panic(err)
	}
	return tok
}

func (f *oauthFixture) source(st TokenStore, opts ...StoredTokenOption) *StoredTokenSource {
	opts = append([]StoredTokenOption{WithClock(f.clock.Now)}, opts...)
	return NewStoredTokenSource(context.Background(), f.cfg, st, opts...)
}

func TestStoredTokenSourceLazyLoadNoRefreshWhileValid(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	st := &memStore{}
	seeded := f.seed(st)
	ts := f.source(st)
	require.EqualValues(t, 0, st.loadCount(), "NewStoredTokenSource read the store")
	for range 3 {
		tok, err := ts.Token()
		require.NoError(t, err)
		require.EqualValues(t, seeded.AccessToken, tok.AccessToken, "Token = %q, want the stored %q", tok.AccessToken, seeded.AccessToken)
	}
	assert.False(t, st.loadCount() != 1 || f.srv.refreshCount() != 0, "loads %d refreshes %d; want 1, 0", st.loadCount(), f.srv.refreshCount())
}

func TestStoredTokenSourceEmptyStore(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	st := &memStore{}
	ts := f.source(st)
	_, err := ts.Token()
	require.ErrorIs(t, err, ErrNoToken, "Token from an empty store: %v, want ErrNoToken", err)
	// The user authorizes meanwhile; the source picks the token up.
	seeded := f.seed(st)
	tok, err := ts.Token()
	require.False(t, err != nil || tok.AccessToken != seeded.AccessToken, "Token after authorization = %v, %v", tok, err)
}

func TestStoredTokenSourceRefreshRotatesAndSavesFirst(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	st := &memStore{}
	seeded := f.seed(st)
	ts := f.source(st)

	f.clock.Advance(2*time.Hour - 30*time.Second) // inside the default 60s margin
	tok, err := ts.Token()
	require.NoError(t, err)
	// The store has the new token by the time Token returns.
	stored := st.stored()
	require.False(t, stored.AccessToken != tok.AccessToken || stored.RefreshToken != tok.RefreshToken, "store holds %q/%q, Token returned %q/%q", stored.AccessToken, stored.RefreshToken, tok.AccessToken, tok.RefreshToken)
	require.False(t, tok.AccessToken == seeded.AccessToken || tok.RefreshToken == seeded.RefreshToken, "refresh did not rotate the token")
	require.EqualValues(t, 1, f.srv.refreshCount(), "%d refreshes, want 1", f.srv.refreshCount())
	assert.EqualValues(t, tok.AccessToken, st.saves[len(st.saves)-1], "last save = %q", st.saves[len(st.saves)-1])

	// Rotation: the old refresh token is dead now.
	_, err = f.cfg.TokenSource(context.Background(), &oauth2.Token{RefreshToken: seeded.RefreshToken}).Token()
	var re *oauth2.RetrieveError
	require.False(t, !errors.As(err, &re) || re.ErrorCode != "invalid_grant" || re.Response.StatusCode != http.StatusUnauthorized, "refresh with the old refresh token: %v, want 401 invalid_grant", err)
	// The refresh request carried the credentials in the form body.
	f.srv.mu.Lock()
	form := f.srv.forms[0]
	basic := f.srv.basicAuth
	f.srv.mu.Unlock()
	assert.False(t, form.Get("grant_type") != "refresh_token" || form.Get("client_secret") != testClientSecret || basic != 0, "refresh form grant %q, secret in body %t, basic auth %d", form.Get("grant_type"), form.Get("client_secret") == testClientSecret, basic)
}

func TestStoredTokenSourceExpiryMargin(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	st := &memStore{}
	seeded := f.seed(st)
	ts := f.source(st, WithExpiryMargin(10*time.Second))
	f.clock.Advance(2*time.Hour - 30*time.Second)
	tok, err := ts.Token()
	require.False(t, err != nil || tok.AccessToken != seeded.AccessToken || f.srv.refreshCount() != 0, "30s before expiry with a 10s margin: %v, %v, %d refreshes; want the old token", tok, err, f.srv.refreshCount())
	f.clock.Advance(25 * time.Second)
	tok, err = ts.Token()
	require.False(t, err != nil || tok.AccessToken == seeded.AccessToken, "5s before expiry: %v, %v; want a new token", tok, err)
}

func TestStoredTokenSourceSaveFailure(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	st := &memStore{}
	f.seed(st)
	var reported []error
	var mu sync.Mutex
	ts := f.source(st, WithSaveErrorHandler(func(err error) {
		mu.Lock()
		defer mu.Unlock()
		reported = append(reported, err)
	}))
	_, err := ts.Token() // load
	require.NoError(t, err)

	diskFull := errors.New("disk full")
	st.setSaveErr(diskFull)
	f.clock.Advance(3 * time.Hour)
	tok, err := ts.Token()
	require.NoError(t, err, "Token with a failing store: %v; want the new token and the failure reported", err)
	assert.ErrorIs(t, ts.LastSaveError(), diskFull, "LastSaveError = %v, want disk full", ts.LastSaveError())
	mu.Lock()
	assert.False(t, len(reported) != 1 || !errors.Is(reported[0], diskFull), "handler got %v, want one disk full", reported)
	mu.Unlock()
	// The new token works: the server accepts its refresh token.
	require.True(t, f.srv.isLive(tok.RefreshToken), "the handed-out refresh token is not the live one")

	// Still failing: every call retries and reports, the token is served.
	again, err := ts.Token()
	require.False(t, err != nil || again.AccessToken != tok.AccessToken, "second Token = %v, %v", again, err)
	mu.Lock()
	assert.Len(t, reported, 2, "handler called %d times, want 2", len(reported))
	mu.Unlock()

	// The store recovers: the next call saves the pending token first.
	st.setSaveErr(nil)
	again, err = ts.Token()
	require.False(t, err != nil || again.AccessToken != tok.AccessToken, "Token after recovery = %v, %v", again, err)
	s := st.stored()
	assert.False(t, s.AccessToken != tok.AccessToken || s.RefreshToken != tok.RefreshToken, "store holds %q, want the pending %q", s.AccessToken, tok.AccessToken)
	assert.NoError(t, ts.LastSaveError(), "LastSaveError after recovery =")
	assert.EqualValues(t, 1, f.srv.refreshCount(), "%d refreshes, want 1", f.srv.refreshCount())
	// And once saved, no more saves on the fast path.
	n := len(st.saves)
	_, err = ts.Token()
	assert.False(t, err != nil || len(st.saves) != n, "Token saved again: %d saves, was %d (%v)", len(st.saves), n, err)
}

func TestStoredTokenSourceSingleRefreshForFiftyGoroutines(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	st := &memStore{}
	f.seed(st)
	entered := make(chan struct{}, 100)
	release := make(chan struct{})
	f.srv.refreshHook = func() {
		entered <- struct{}{}
		<-release
	}
	ts := f.source(st)
	f.clock.Advance(3 * time.Hour)

	const n = 50
	var wg sync.WaitGroup
	var started sync.WaitGroup
	started.Add(n)
	results := make([]string, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			started.Done()
			tok, err := ts.Token()
			errs[i] = err
			if tok != nil {
				results[i] = tok.AccessToken
			}
		}()
	}
	started.Wait()
	<-entered // one refresh is at the server, the others queue behind it
	close(release)
	wg.Wait()

	for i := range n {
		require.False(t, errs[i] != nil || results[i] != results[0], "goroutine %d: %q, %v; goroutine 0: %q", i, results[i], errs[i], results[0])
	}
	got := f.srv.refreshCount()
	require.EqualValues(t, 1, got, "%d refreshes, want exactly 1", got)
	assert.Len(t, st.saves, 2, "saves") // the seed and the refresh
}

// A process refreshes, then dies before using the token. A new process on
// the same file continues with the rotated token.
func TestStoredTokenSourceCrashBetweenRefreshAndUse(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	path := filepath.Join(t.TempDir(), "token.json")
	seeded := f.seed(NewFileTokenStore(path))

	f.clock.Advance(3 * time.Hour)
	first := f.source(NewFileTokenStore(path))
	rotated, err := first.Token()
	require.NoError(t, err)
	first = nil // "crash": the token was never used, the source is gone
	_ = first
	require.False(t, f.srv.isLive(seeded.RefreshToken), "the seeded refresh token survived the refresh")

	// A new process, a new store on the same file, much later.
	f.clock.Advance(3 * time.Hour)
	second := f.source(NewFileTokenStore(path))
	next, err := second.Token()
	require.NoError(t, err, "the restarted source could not refresh")
	require.False(t, next.AccessToken == rotated.AccessToken || f.srv.refreshCount() != 2, "restarted source: %q after %d refreshes", next.AccessToken, f.srv.refreshCount())
	assert.False(t, f.srv.isLive(rotated.RefreshToken) || !f.srv.isLive(next.RefreshToken), "the restarted source did not refresh with the rotated refresh token")
	onDisk, err := NewFileTokenStore(path).Load(context.Background())
	assert.False(t, err != nil || onDisk.RefreshToken != next.RefreshToken, "file holds %v, %v", onDisk, err)
}

// Cancelling the caller's context does not abandon a refresh the server may
// already have performed: the rotated token is still saved.
func TestStoredTokenSourceCancelledCallerStillSaves(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	st := &memStore{}
	seeded := f.seed(st)
	entered := make(chan struct{}, 1)
	release := make(chan struct{})
	f.srv.refreshHook = func() {
		entered <- struct{}{}
		<-release
	}
	ts := f.source(st)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := ts.RefreshToken(ctx, nil)
		done <- err
	}()
	<-entered
	cancel()
	require.ErrorIs(t, <-done, context.Canceled, "RefreshToken after cancel")
	close(release)
	// The next caller waits for the detached refresh and gets its result.
	tok, err := ts.Token()
	require.False(t, err != nil || tok.AccessToken == seeded.AccessToken, "Token after the cancelled refresh: %v, %v", tok, err)
	s := st.stored()
	assert.False(t, s.RefreshToken != tok.RefreshToken || !f.srv.isLive(s.RefreshToken), "store holds %q, live %t", s.RefreshToken, f.srv.isLive(s.RefreshToken))
	assert.EqualValues(t, 1, f.srv.refreshCount(), "%d refreshes, want 1", f.srv.refreshCount())
}

func TestStoredTokenSourceRefreshTokenRejected(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	st := &memStore{}
	seeded := f.seed(st)
	ts := f.source(st)
	ctx := context.Background()

	// The current token was rejected: refresh although the clock says valid.
	cur, err := ts.Token()
	require.NoError(t, err)
	fresh, err := ts.RefreshToken(ctx, cur)
	require.NoError(t, err)
	require.False(t, fresh.AccessToken == seeded.AccessToken || f.srv.refreshCount() != 1, "RefreshToken(current) = %q after %d refreshes", fresh.AccessToken, f.srv.refreshCount())
	assert.EqualValues(t, fresh.AccessToken, st.stored().AccessToken, "RefreshToken returned a token it had not saved")

	// A stale rejection (a request sent with the old token): no refresh.
	again, err := ts.RefreshToken(ctx, seeded)
	require.False(t, err != nil || again.AccessToken != fresh.AccessToken || f.srv.refreshCount() != 1, "RefreshToken(stale) = %v, %v after %d refreshes; want the current token, no refresh", again, err, f.srv.refreshCount())

	// Ten requests rejected with the same token: one refresh between them.
	var wg sync.WaitGroup
	got := make([]string, 10)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tok, err := ts.RefreshToken(ctx, fresh)
			if !assert.NoError(t, err) {
				return
			}
			got[i] = tok.AccessToken
		}()
	}
	wg.Wait()
	assert.EqualValues(t, 2, f.srv.refreshCount(), "%d refreshes, want 2", f.srv.refreshCount())
	for i := range got {
		assert.False(t, got[i] != got[0] || got[i] == fresh.AccessToken, "caller %d got %q, caller 0 %q", i, got[i], got[0])
	}
}

func TestStoredTokenSourceRefreshErrorHasNoSecrets(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	st := &memStore{}
	seeded := f.seed(st)
	// Kill the stored refresh token behind the source's back.
	_, err := f.cfg.TokenSource(context.Background(), &oauth2.Token{RefreshToken: seeded.RefreshToken}).Token()
	require.NoError(t, err)
	ts := f.source(st)
	f.clock.Advance(3 * time.Hour)
	_, err = ts.Token()
	var re *oauth2.RetrieveError
	require.False(t, !errors.As(err, &re) || re.ErrorCode != "invalid_grant", "Token with a dead refresh token: %v, want invalid_grant", err)
	for _, secret := range []string{testClientSecret, seeded.RefreshToken, seeded.AccessToken} {
		assert.NotContains(t, err.Error(), secret, "error %q contains %q", err, secret)
	}
}

type countingTransport struct{ n atomic.Int32 }

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return http.DefaultTransport.RoundTrip(r)
}

func TestStoredTokenSourceUsesContextHTTPClient(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	st := &memStore{}
	seeded := f.seed(st)
	rt := &countingTransport{}
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, &http.Client{Transport: rt})
	ts := NewStoredTokenSource(ctx, f.cfg, st, WithClock(f.clock.Now))

	f.clock.Advance(3 * time.Hour)
	_, err := ts.Token()
	require.NoError(t, err)
	// RefreshToken with a context of its own still uses the caller's client.
	cur, _ := ts.Token()
	_, err = ts.RefreshToken(context.Background(), cur)
	require.NoError(t, err)
	got := rt.n.Load()
	assert.EqualValues(t, 2, got, "the oauth2.HTTPClient made %d requests, want 2", got)
	_ = seeded
}

// chanLocker is a Locker shared by "processes" in one test.
type chanLocker struct {
	ch    chan struct{}
	locks atomic.Int32
}

func newChanLocker() *chanLocker { return &chanLocker{ch: make(chan struct{}, 1)} }

func (l *chanLocker) Lock(ctx context.Context) (func(), error) {
	select {
	case l.ch <- struct{}{}:
		l.locks.Add(1)
		return func() { <-l.ch }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Two processes share a file. With a Locker, the second re-loads the store
// under the lock and uses the token the first one rotated.
func TestStoredTokenSourceLockerReload(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	path := filepath.Join(t.TempDir(), "token.json")
	seeded := f.seed(NewFileTokenStore(path))
	locker := newChanLocker()
	a := f.source(NewFileTokenStore(path), WithLocker(locker))
	b := f.source(NewFileTokenStore(path), WithLocker(locker))
	for _, ts := range []*StoredTokenSource{a, b} {
		tok, err := ts.Token()
		require.False(t, err != nil || tok.AccessToken != seeded.AccessToken, "initial Token = %v, %v", tok, err)
	}

	f.clock.Advance(3 * time.Hour)
	ta, err := a.Token()
	require.NoError(t, err)
	tb, err := b.Token()
	require.NoError(t, err, "b after a rotated the token")
	require.False(t, tb.AccessToken != ta.AccessToken || f.srv.refreshCount() != 1, "b got %q, a %q, %d refreshes; want b to reuse a's token", tb.AccessToken, ta.AccessToken, f.srv.refreshCount())
	assert.EqualValues(t, 2, locker.locks.Load(), "locker taken %d times, want 2", locker.locks.Load())

	// A 401 seen by b for the token a rotated again meanwhile: b re-loads.
	ta2, err := a.RefreshToken(context.Background(), ta)
	require.NoError(t, err)
	tb2, err := b.RefreshToken(context.Background(), tb)
	require.False(t, err != nil || tb2.AccessToken != ta2.AccessToken || f.srv.refreshCount() != 2, "b.RefreshToken = %v, %v after %d refreshes; want a's %q", tb2, err, f.srv.refreshCount(), ta2.AccessToken)

	// And when b is the one to refresh, it refreshes with the newest
	// refresh token, which a then picks up.
	f.clock.Advance(3 * time.Hour)
	tb3, err := b.Token()
	require.False(t, err != nil || f.srv.refreshCount() != 3, "b.Token = %v, %v after %d refreshes", tb3, err, f.srv.refreshCount())
	ta3, err := a.Token()
	require.False(t, err != nil || ta3.AccessToken != tb3.AccessToken || f.srv.refreshCount() != 3, "a.Token = %v, %v after %d refreshes; want b's %q", ta3, err, f.srv.refreshCount(), tb3.AccessToken)
}

// Without a Locker, the second process refreshes a dead refresh token; it
// recovers by re-loading the store, where the first one saved its successor.
func TestStoredTokenSourceWithoutLockerRecovers(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	path := filepath.Join(t.TempDir(), "token.json")
	f.seed(NewFileTokenStore(path))
	a := f.source(NewFileTokenStore(path))
	b := f.source(NewFileTokenStore(path))
	_, _ = a.Token()
	_, _ = b.Token()
	f.clock.Advance(3 * time.Hour)
	ta, err := a.Token()
	require.NoError(t, err)
	tb, err := b.Token()
	require.False(t, err != nil || tb.AccessToken != ta.AccessToken || f.srv.refreshCount() != 1, "b without a Locker: %v, %v after %d refreshes; want a's %q", tb, err, f.srv.refreshCount(), ta.AccessToken)

	// If the stored successor has expired too, b refreshes it.
	f.clock.Advance(3 * time.Hour)
	_, err = a.Token()
	require.NoError(t, err)
	f.clock.Advance(3 * time.Hour)
	tb, err = b.Token() // b still holds ta: dead refresh token, store has a's next
	require.False(t, err != nil || f.srv.refreshCount() != 3 || !f.srv.isLive(tb.RefreshToken), "b = %v, %v after %d refreshes", tb, err, f.srv.refreshCount())
	s, _ := NewFileTokenStore(path).Load(context.Background())
	assert.Equal(t, tb.RefreshToken, s.RefreshToken, "b did not save the token it refreshed")
}

func TestStoredTokenSourceStringHidesTokens(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	st := &memStore{}
	seeded := f.seed(st)
	ts := f.source(st)
	_, err := ts.Token()
	require.NoError(t, err)
	for _, format := range []string{"%v", "%+v", "%#v", "%s"} {
		out := fmt.Sprintf(format, ts)
		assert.False(t, strings.Contains(out, seeded.AccessToken) || strings.Contains(out, seeded.RefreshToken) || strings.Contains(out, testClientSecret), "%s prints a secret: %s", format, out)
	}
}

// casStore is a memStore that is also a RefreshSaver: it saves a refreshed
// token only over the token it was refreshed from.
type casStore struct {
	memStore
	superseded atomic.Int32
}

func (m *casStore) SaveRefreshed(ctx context.Context, spent, t *oauth2.Token) error {
	m.mu.Lock()
	if m.tok == nil || m.tok.RefreshToken != spent.RefreshToken {
		m.mu.Unlock()
		m.superseded.Add(1)
		return fmt.Errorf("cas: %w", ErrTokenSuperseded)
	}
	m.mu.Unlock()
	return m.Save(ctx, t)
}

var _ RefreshSaver = (*casStore)(nil)

// A refresh whose token was replaced in the store meanwhile (here by a new
// authorization, saved while the refresh was in flight and with no lock
// shared) does not overwrite it: the store's token wins and is used next.
func TestStoredTokenSourceRefreshSaverNeverOverwritesNewer(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	st := &casStore{}
	f.seed(st)
	ts := f.source(st)
	_, err := ts.Token()
	require.NoError(t, err)

	// A new authorization lands in the store; ts still holds the old one.
	newer := f.srv.seed()
	newer.Expiry = f.clock.Now().Add(10 * time.Hour)
	require.NoError(t, st.Save(context.Background(), newer))
	f.clock.Advance(3 * time.Hour)
	tok, err := ts.Token() // refreshes the old chain; the save is refused
	require.NoError(t, err)
	require.EqualValues(t, 1, st.superseded.Load(), "SaveRefreshed refused %d saves, want 1", st.superseded.Load())
	got := st.stored()
	require.EqualValues(t, newer.AccessToken, got.AccessToken, "store holds %q, want the newer authorization %q", got.AccessToken, newer.AccessToken)
	require.False(t, tok == nil || ts.LastSaveError() != nil, "Token = %v, LastSaveError = %v; want the refreshed token and no save error", tok, ts.LastSaveError())
	next, err := ts.Token()
	require.False(t, err != nil || next.AccessToken != newer.AccessToken, "next Token = %v, %v; want the stored %q", next, err, newer.AccessToken)

	// A refresh over an unchanged store goes through SaveRefreshed too.
	f.clock.Advance(11 * time.Hour)
	tok, err = ts.Token()
	require.False(t, err != nil || st.stored().AccessToken != tok.AccessToken || st.superseded.Load() != 1, "Token = %v, %v; store %q; %d refusals", tok, err, st.stored().AccessToken, st.superseded.Load())
}

// An account uninstalled while a refresh was in flight stays uninstalled.
func TestStoredTokenSourceRefreshSaverForgottenToken(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	st := &casStore{}
	f.seed(st)
	ts := f.source(st)
	_, err := ts.Token()
	require.NoError(t, err)
	st.mu.Lock()
	st.tok = nil // forgotten by an uninstall
	st.mu.Unlock()
	f.clock.Advance(3 * time.Hour)
	_, err = ts.Token()
	require.NoError(t, err)
	require.Nil(t, st.stored(), "a refresh brought a forgotten token back")
	_, err = ts.Token()
	require.ErrorIs(t, err, ErrNoToken, "Token after the uninstall")
}

// A token endpoint that echoes the request form in its error (a debugging
// proxy does) gets neither the refresh token nor the client secret into
// the error string.
func TestStoredTokenSourceRefreshErrorEchoRedacted(t *testing.T) {
	t.Parallel()
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusBadGateway)
		fmt.Fprintf(w, "proxy saw: %s", b)
	}))
	defer echo.Close()
	cfg := &oauth2.Config{ClientID: testClientID, ClientSecret: testClientSecret, Endpoint: Endpoint(echo.URL)}
	st := &memStore{tok: &oauth2.Token{AccessToken: "at-expired-0123456789", RefreshToken: "rt-S3CR3T/+=0123456789", Expiry: time.Now().Add(-time.Hour)}}
	_, err := NewStoredTokenSource(context.Background(), cfg, st).Token()
	var re *oauth2.RetrieveError
	require.True(t, errors.As(err, &re), "err = %v, want an *oauth2.RetrieveError inside", err)
	for _, secret := range []string{testClientSecret, "rt-S3CR3T", url.QueryEscape("rt-S3CR3T/+=0123456789")} {
		assert.NotContains(t, err.Error(), secret, "error %q contains %q", err, secret)
	}
	assert.Contains(t, err.Error(), "REDACTED", "error %q: the echo is not there, redacted", err)
}
