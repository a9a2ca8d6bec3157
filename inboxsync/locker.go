package inboxsync

import (
	"context"
	"crypto/rand"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"strconv"
	"sync"
	"time"

	"github.com/go-bookingsync/bookingsync"
)

// clock is the SQL for the database's clock plus an offset given as the
// argument clockArg(offset): every replica reads the same clock, whatever
// its own says. Postgres: timestamptz; SQLite: the fixed-width UTC text of
// timeLayout (strftime gives milliseconds; the zeros pad it to nanoseconds).
func (d dialect) clock() string {
	if d.name == "postgres" {
		return "(clock_timestamp() + ? * interval '1 millisecond')"
	}
	return "(strftime('%Y-%m-%dT%H:%M:%f', 'now', ?) || '000000Z')"
}

func (d dialect) clockArg(offset time.Duration) any {
	if d.name == "postgres" {
		return offset.Milliseconds()
	}
	return fmt.Sprintf("%+.3f seconds", offset.Seconds())
}

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
	var unlock func()
	if s.d.name == "postgres" {
		unlock, err = s.pgLock(ctx, name)
	} else {
		unlock, err = s.rowLock(ctx, name)
	}
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

// pgLock holds a session advisory lock on a connection of the lock pool,
// apart from the store's pool: a holder that needs the store meanwhile
// (to note the rate budget, to save a token) never starves it.
func (s *Store) pgLock(ctx context.Context, name string) (func(), error) {
	pool, err := s.lockPool()
	if err != nil {
		return nil, err
	}
	conn, err := pool.Conn(ctx)
	if err != nil {
		return nil, err
	}
	key := advisoryKey(name)
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", key); err != nil {
		// Cancelled while waiting, the lock may have been granted all the
		// same: dropping the session frees it.
		discard(conn)
		return nil, err
	}
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_unlock($1)", key); err != nil {
			discard(conn)
			return
		}
		conn.Close()
	}, nil
}

// discard closes conn's session instead of returning it to the pool.
func discard(conn *sql.Conn) {
	conn.Raw(func(any) error { return driver.ErrBadConn })
	conn.Close()
}

// lockPool opens, once, the pool of lock connections. Each lock in use in
// this process takes one; within a process one per name at most.
func (s *Store) lockPool() (*sql.DB, error) {
	s.fleet.mu.Lock()
	defer s.fleet.mu.Unlock()
	if s.fleet.lockPool == nil {
		db, err := sql.Open(s.d.driver, s.dsn)
		if err != nil {
			return nil, err
		}
		db.SetMaxIdleConns(2)
		db.SetConnMaxIdleTime(time.Minute)
		s.fleet.lockPool = db
	}
	return s.fleet.lockPool, nil
}

func (s *Store) closeLocks() {
	s.fleet.mu.Lock()
	defer s.fleet.mu.Unlock()
	if s.fleet.lockPool != nil {
		s.fleet.lockPool.Close()
		s.fleet.lockPool = nil
	}
}

// The SQLite row locks: held for rowLockTTL past each renewal, renewed
// every rowLockTTL/3, polled every rowLockPoll while another holds them.
const (
	rowLockTTL  = 15 * time.Second
	rowLockPoll = 10 * time.Millisecond
)

// rowLock takes the row called name in fleet_locks when it is free or
// expired, and renews it until unlocked.
func (s *Store) rowLock(ctx context.Context, name string) (func(), error) {
	holder := randomID()
	d := s.d
	take := `INSERT INTO fleet_locks (name, holder, expires_at) VALUES (?, ?, ` + d.clock() + `)
ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
WHERE fleet_locks.expires_at < ` + d.clock()
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-t.C:
		}
		res, err := s.exec(ctx, s.db, take, name, holder, d.clockArg(rowLockTTL), d.clockArg(0))
		if err != nil {
			return nil, err
		}
		if n, _ := res.RowsAffected(); n == 1 {
			break
		}
		t.Reset(rowLockPoll)
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(rowLockTTL / 3)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				s.exec(context.Background(), s.db, `UPDATE fleet_locks SET expires_at = `+d.clock()+` WHERE name = ? AND holder = ?`,
					d.clockArg(rowLockTTL), name, holder)
			}
		}
	}()
	return func() {
		close(stop)
		<-done
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		// Left behind on failure, the row expires on its own.
		s.exec(ctx, s.db, `DELETE FROM fleet_locks WHERE name = ? AND holder = ?`, name, holder)
	}, nil
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
