package inboxsync

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"strconv"
	"sync"

	"github.com/go-bookingsync/bookingsync"
)

// Locker returns the lock that serializes the refreshes of the account's
// token across every process sharing this database; give it to
// bookingsync.NewStoredTokenSource with bookingsync.WithLocker, together
// with TokenStore(accountID):
//
//	ts := bookingsync.NewStoredTokenSource(ctx, cfg, st.TokenStore(id),
//		bookingsync.WithLocker(st.Locker(id)))
//
// The source then refreshes under the lock, after reading the store again,
// and only if the token it finds still needs it.
//
// On Postgres the lock is a session advisory lock held on a connection of
// its own: the server frees it when the holder dies or its connection
// drops. On SQLite it is a row in fleet_locks, renewed while held, that a
// dead holder leaves behind for at most 15 seconds. Within one process,
// callers queue in memory first, so a process waits on the database once
// per lock.
func (s *Store) Locker(accountID int64) bookingsync.Locker {
	return namedLock{s, "token:" + strconv.FormatInt(accountID, 10)}
}

// hostLocker is the lock of Fleet.Client's EnsureHost: one per
// (conversation, host), across replicas.
func (s *Store) hostLocker(conversationID, hostID int64) bookingsync.Locker {
	return namedLock{s, "host:" + strconv.FormatInt(conversationID, 10) + ":" + strconv.FormatInt(hostID, 10)}
}

type namedLock struct {
	st   *Store
	name string
}

func (l namedLock) Lock(ctx context.Context) (func(), error) { return l.st.lock(ctx, l.name) }

// lock takes the lock called name, first within this process and then in
// the database.
func (s *Store) lock(ctx context.Context, name string) (func(), error) {
	release, err := s.fleet.procLock.lock(ctx, name)
	if err != nil {
		return nil, err
	}
	unlock, err := s.d.lock(ctx, s, name)
	if err != nil {
		release()
		return nil, fmt.Errorf("inboxsync: lock %s: %w", name, err)
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			unlock()
			release()
		})
	}, nil
}

// advisoryKey maps a lock name to a Postgres advisory lock key. Two names
// sharing a key (a 64-bit hash collision) only wait for each other.
func advisoryKey(name string) int64 {
	h := fnv.New64a()
	h.Write([]byte("bookingsync/inboxsync:" + name))
	return int64(h.Sum64())
}

// randomID is a fresh 128-bit identifier in hex.
func randomID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// keyedMutex is a set of mutexes by name that waits with a context.
type keyedMutex struct {
	mu sync.Mutex
	m  map[string]*keyedEntry
}

type keyedEntry struct {
	ch   chan struct{} // holds a value while locked
	refs int
}

func (k *keyedMutex) lock(ctx context.Context, name string) (func(), error) {
	k.mu.Lock()
	if k.m == nil {
		k.m = map[string]*keyedEntry{}
	}
	e := k.m[name]
	if e == nil {
		e = &keyedEntry{ch: make(chan struct{}, 1)}
		k.m[name] = e
	}
	e.refs++
	k.mu.Unlock()
	drop := func() {
		k.mu.Lock()
		if e.refs--; e.refs == 0 {
			delete(k.m, name)
		}
		k.mu.Unlock()
	}
	select {
	case e.ch <- struct{}{}:
	case <-ctx.Done():
		drop()
		return nil, ctx.Err()
	}
	return func() {
		<-e.ch
		drop()
	}, nil
}
