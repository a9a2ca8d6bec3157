//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package bookingsync

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var _ Locker = (*FileLocker)(nil)

func TestFileLocker(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "token.lock")
	a, b := NewFileLocker(path), NewFileLocker(path)

	unlock, err := a.Lock(context.Background())
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err = b.Lock(ctx)
	require.ErrorIs(t, err, context.DeadlineExceeded, "second Lock while held: %v, want deadline exceeded", err)

	got := make(chan error, 1)
	go func() {
		u, err := b.Lock(context.Background())
		if err == nil {
			u()
		}
		got <- err
	}()
	unlock()
	unlock() // harmless
	require.NoError(t, <-got, "Lock after release")
}

// The Locker re-load path with a real file lock.
func TestStoredTokenSourceFileLocker(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "token.json")
	f.seed(NewFileTokenStore(path))
	a := f.source(NewFileTokenStore(path), WithLocker(NewFileLocker(path+".lock")))
	b := f.source(NewFileTokenStore(path), WithLocker(NewFileLocker(path+".lock")))
	_, _ = a.Token()
	_, _ = b.Token()
	f.clock.Advance(3 * time.Hour)
	ta, err := a.Token()
	require.NoError(t, err)
	tb, err := b.Token()
	require.NoError(t, err)
	assert.Equal(t, ta.AccessToken, tb.AccessToken, "b's token is not a's")
	assert.Equal(t, 1, f.srv.refreshCount(), "refreshes")
}
