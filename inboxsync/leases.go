package inboxsync

// Leases and locks: who may act on a resource, an account or a named
// lock, across every process sharing the database.

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"sync"
	"time"
)

// lock takes the lock called name, first within this process and then in
// the database.
func (s *Store) lock(ctx context.Context, name string) (func(), error) {
	release, err := s.locks.lock(ctx, name)
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

type namedLock struct {
	st   *Store
	name string
}

func (l namedLock) Lock(ctx context.Context) (func(), error) { return l.st.lock(ctx, l.name) }

// advisoryKey maps a lock name to a Postgres advisory lock key. Two names
// sharing a key (a 64-bit hash collision) only wait for each other.
func advisoryKey(name string) int64 {
	h := fnv.New64a()
	h.Write([]byte("bookingsync/inboxsync:" + name))
	return int64(h.Sum64())
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

// acquireLease takes the lease of (acct, resource) for holder until until,
// when it is free, expired or already holder's.
func (s *Store) acquireLease(ctx context.Context, acct int64, name, holder string, until time.Time) (bool, error) {
	now := time.Now()
	res, err := s.exec(ctx, s.db, `INSERT INTO sync_leases (account_id, resource, holder, expires_at) VALUES (?, ?, ?, ?)
ON CONFLICT (account_id, resource) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
WHERE sync_leases.expires_at < ? OR sync_leases.holder = excluded.holder`, acct, name, holder, ts(s.d, &until), ts(s.d, &now))
	if err != nil {
		return false, fmt.Errorf("inboxsync: taking the %s lease: %w", name, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// releaseLease frees the lease if holder still has it.
func (s *Store) releaseLease(ctx context.Context, acct int64, name, holder string) {
	s.exec(ctx, s.db, "DELETE FROM sync_leases WHERE account_id = ? AND resource = ? AND holder = ?", acct, name, holder)
}

// controlDB is the pool of the fleet's own bookkeeping (the dialect's).
func (s *Store) controlDB() (*sql.DB, error) { return s.d.controlDB() }

// heartbeat says the replica lives for another ttl.
func (s *Store) heartbeat(ctx context.Context, replica string, ttl time.Duration) error {
	db, err := s.controlDB()
	if err != nil {
		return err
	}
	_, err = s.exec(ctx, db, `INSERT INTO fleet_replicas (replica, expires_at) VALUES (?, db_clock(?))
ON CONFLICT (replica) DO UPDATE SET expires_at = excluded.expires_at`, replica, s.clockAt(ttl))
	return err
}

// renewLeases extends the replica's leases of installed accounts by ttl
// and returns those accounts: a lease another replica took meanwhile (this
// one was too slow) or of an account uninstalled is not among them.
func (s *Store) renewLeases(ctx context.Context, replica string, ttl time.Duration) (map[int64]bool, error) {
	db, err := s.controlDB()
	if err != nil {
		return nil, err
	}
	rows, err := s.query(ctx, db, `UPDATE accounts SET lease_expires_at = db_clock(?)
WHERE lease_holder = ? AND token IS NOT NULL RETURNING account_id`, s.clockAt(ttl), replica)
	if err != nil {
		return nil, err
	}
	return scanIDSet(rows)
}

// fairShare is how many accounts each live replica should sync: the
// installed accounts divided by the live replicas, rounded up.
func (s *Store) fairShare(ctx context.Context) (int, error) {
	db, err := s.controlDB()
	if err != nil {
		return 0, err
	}
	var accounts, replicas int
	err = s.queryRow(ctx, db, `SELECT (SELECT COUNT(*) FROM accounts WHERE token IS NOT NULL),
	(SELECT COUNT(*) FROM fleet_replicas WHERE expires_at > db_clock(?))`, s.clockAt(0)).Scan(&accounts, &replicas)
	if err != nil {
		return 0, err
	}
	replicas = max(replicas, 1)
	return (accounts + replicas - 1) / replicas, nil
}

// takeLeases takes up to n free or expired leases of installed accounts,
// lowest ids first, and returns their accounts. Replicas taking leases at
// once pass over each other's candidates (the dialect's skipLocked). Both re-check the row's lease as they
// write it: a lease is never taken twice.
func (s *Store) takeLeases(ctx context.Context, replica string, n int, ttl time.Duration) (map[int64]bool, error) {
	if n <= 0 {
		return map[int64]bool{}, nil
	}
	db, err := s.controlDB()
	if err != nil {
		return nil, err
	}
	free := `token IS NOT NULL AND (lease_holder IS NULL OR lease_expires_at < db_clock(?))`
	rows, err := s.query(ctx, db, `UPDATE accounts SET lease_holder = ?, lease_expires_at = db_clock(?)
WHERE account_id IN (SELECT account_id FROM accounts WHERE `+free+` ORDER BY account_id LIMIT ?`+s.d.skipLocked()+`)
	AND `+free+` RETURNING account_id`,
		replica, s.clockAt(ttl), s.clockAt(0), n, s.clockAt(0))
	if err != nil {
		return nil, err
	}
	return scanIDSet(rows)
}

// releaseLeases frees the replica's leases of ids, or all of them when ids
// is nil, for another replica to take at once.
func (s *Store) releaseLeases(ctx context.Context, replica string, ids []int64) error {
	q := `UPDATE accounts SET lease_holder = NULL, lease_expires_at = NULL WHERE lease_holder = ?`
	args := []any{replica}
	if ids != nil {
		if len(ids) == 0 {
			return nil
		}
		in, idArgs := idList(ids)
		q += ` AND account_id IN (` + in + `)`
		args = append(args, idArgs...)
	}
	db, err := s.controlDB()
	if err != nil {
		return err
	}
	_, err = s.exec(ctx, db, q, args...)
	return err
}

// leaveFleet removes the replica's row and drops the rows of replicas
// dead for a while.
func (s *Store) leaveFleet(ctx context.Context, replica string) error {
	db, err := s.controlDB()
	if err != nil {
		return err
	}
	_, err = s.exec(ctx, db, `DELETE FROM fleet_replicas WHERE replica = ? OR expires_at < db_clock(?)`, replica, s.clockAt(-time.Hour))
	return err
}

func scanIDSet(rows interface {
	Next() bool
	Scan(...any) error
	Err() error
	Close() error
}) (map[int64]bool, error) {
	defer rows.Close()
	out := map[int64]bool{}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("inboxsync: lease: %w", err)
		}
		out[id] = true
	}
	return out, rows.Err()
}

// randomID is a fresh 128-bit identifier in hex.
func randomID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
