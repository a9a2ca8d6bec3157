package inboxsync

// Leases and locks: who may act on a resource, an account or a named lock,
// across every process sharing the database. There is one mechanism: a
// lease is a row naming its holder (newHolderID) and when it expires by
// the database's clock (db_clock, Store.clockAt), never a replica's own, so
// that a replica whose clock is off still never takes a live lease; a
// holder renews it while it works, and another takes it only once it is
// free or expired. The rows:
//
//	sync_leases     (account, resource): the Syncer walking it (acquireLease;
//	                renewed by every page, see apply)
//	accounts        lease_holder, lease_expires_at: the replica syncing the
//	                account (Fleet.Run: takeLeases, renewLeases), beside
//	                fleet_replicas, each replica's liveness
//
// Named locks (Locker, the host lock) are held rather than leased: on
// Postgres a session advisory lock, which the server frees when its
// holder dies; on SQLite a lease row in fleet_locks (dialect_sqlite.go).
// The writers of one (account, resource) are serialized by the dialect's
// write lock (on Postgres a transaction advisory lock). Both advisory
// locks take their key from lockKey.

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"os"
	"strconv"
	"sync"
	"time"
)

// newHolderID names a lease's holder: host, process and a random part, so
// that holders are unique and an operator can tell where one runs.
func newHolderID() string {
	var b [6]byte
	rand.Read(b[:])
	host, _ := os.Hostname()
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}

// lockKey maps a lock's name to the key of a Postgres advisory lock. Two
// names sharing a key (a 64-bit hash collision) only wait for each other.
func lockKey(name string) int64 {
	h := fnv.New64a()
	h.Write([]byte(name))
	return int64(h.Sum64())
}

// namedLockKey and writeLockKey are the keys of a named lock and of the
// writers of one (account, resource): the names hashed are those every
// release has hashed, so that replicas of two releases exclude each other.
func namedLockKey(name string) int64 { return lockKey("bookingsync/inboxsync:" + name) }

func writeLockKey(acct int64, resource string) int64 {
	return lockKey("inboxsync/" + strconv.FormatInt(acct, 10) + "/" + resource)
}

// acquireLease takes the lease of (acct, resource) for holder for ttl by
// the database's clock, when it is free, expired or already holder's.
func (s *Store) acquireLease(ctx context.Context, acct int64, name, holder string, ttl time.Duration) (bool, error) {
	res, err := s.exec(ctx, s.db, `INSERT INTO sync_leases (account_id, resource, holder, expires_at) VALUES (?, ?, ?, db_clock(?))
ON CONFLICT (account_id, resource) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
WHERE sync_leases.expires_at < db_clock(?) OR sync_leases.holder = excluded.holder`, acct, name, holder, s.clockAt(ttl), s.clockAt(0))
	if err != nil {
		return false, fmt.Errorf("inboxsync: taking the %s lease: %w", name, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// renewLeaseStep is the step of a page's write that renews holder's lease
// of (acct, resource) for ttl; it affects no row when another holds it.
func (s *Store) renewLeaseStep(acct int64, name, holder string, ttl time.Duration) *step {
	return &step{query: "UPDATE sync_leases SET expires_at = db_clock(?) WHERE account_id = ? AND resource = ? AND holder = ?",
		args: []any{s.clockAt(ttl), acct, name, holder}, fixed: true}
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

// namedLock is a lock of Store.lock, as a bookingsync.Locker.
type namedLock struct {
	st   *Store
	name string
}

func (l namedLock) Lock(ctx context.Context) (func(), error) { return l.st.lock(ctx, l.name) }

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
