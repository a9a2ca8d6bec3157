//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package bookingsync

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"syscall"
	"time"
)

// FileLocker is a Locker holding an exclusive advisory lock (flock(2)) on a
// file, which serializes token refreshes between the processes of one
// machine that share a FileTokenStore:
//
//	store := bookingsync.NewFileTokenStore("/var/lib/app/token.json")
//	lock := bookingsync.NewFileLocker("/var/lib/app/token.json.lock")
//	ts := bookingsync.NewStoredTokenSource(ctx, cfg, store, bookingsync.WithLocker(lock))
//
// Use a file of its own, not the token file (Save replaces that one). The
// lock is released when the unlock function is called or the process dies.
// Advisory locks bind only processes that take them, and are unreliable on
// network file systems. FileLocker is available on Linux, macOS and the BSDs.
type FileLocker struct {
	path string
}

// fileLockPoll is how often Lock retries a held lock.
const fileLockPoll = 25 * time.Millisecond

// NewFileLocker returns a FileLocker locking the file at path, created with
// mode 0600 when missing.
func NewFileLocker(path string) *FileLocker {
	return &FileLocker{path: path}
}

// Lock waits until it holds the lock or ctx is done. The returned function
// releases the lock; calling it more than once is harmless.
func (l *FileLocker) Lock(ctx context.Context) (unlock func(), err error) {
	f, err := os.OpenFile(l.path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("bookingsync: lock: %w", err)
	}
	fd := int(f.Fd())
	var t *time.Ticker
	for {
		err := syscall.Flock(fd, syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			_ = f.Close()
			return nil, fmt.Errorf("bookingsync: lock %s: %w", l.path, err)
		}
		if t == nil {
			t = time.NewTicker(fileLockPoll)
			defer t.Stop()
		}
		select {
		case <-ctx.Done():
			_ = f.Close()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			_ = syscall.Flock(fd, syscall.LOCK_UN)
			_ = f.Close()
		})
	}, nil
}
