package inboxsync

import (
	"context"
	"fmt"
)

// CheckSchema reports whether the database answers and holds the schema
// this build expects: every embedded migration applied. A database that
// a newer build migrated further still passes (migrations only add); one
// missing a migration fails, as does an unreachable database. It is what
// a readiness probe asks of the store.
func (s *Store) CheckSchema(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return fmt.Errorf("inboxsync: schema: %w", err)
	}
	return s.checkSchema(ctx)
}

// Alive reports whether this replica's heartbeat is fresh: Run renewed
// its row in fleet_replicas within LeaseTTL, by the database's clock. It
// is false before Run starts, after it stops, and when the replica could
// not reach the database for a LeaseTTL (its leases have then lapsed
// too). It is what a readiness probe asks of the fleet.
func (f *Fleet) Alive(ctx context.Context) (bool, error) {
	db, err := f.st.controlDB()
	if err != nil {
		return false, err
	}
	var n int
	err = f.st.queryRow(ctx, db, `SELECT COUNT(*) FROM fleet_replicas WHERE replica = ? AND expires_at > db_clock(?)`,
		f.cfg.Replica, f.st.clockAt(0)).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("inboxsync: fleet heartbeat: %w", err)
	}
	return n > 0, nil
}
