package inboxsync

// The accounts table as the operator sees it: uninstall, and the list.

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Uninstall marks the account revoked and forgets its token: the token
// store then answers ErrAccountRevoked, Fleet.Run stops syncing the
// account within a lease renewal, and its leases, pending webhook
// deliveries and rate budget are dropped. The local copy of its Inbox is
// kept (stale from now on); delete it yourself if your terms require.
// reason is kept in accounts.revoked_reason for the operator. Saving a
// token again installs the account anew.
func (s *Store) Uninstall(ctx context.Context, accountID int64, reason string) error {
	_, err := s.revoke(ctx, accountID, revokeIf{}, reason)
	return err
}

// revokeIf narrows an uninstall to one installation: the zero value
// uninstalls whatever is installed.
type revokeIf struct {
	// sum, when set, is the refresh_sum the account must still hold.
	sum string
	// installedBy, when set, is a time the installation must not be
	// younger than: an uninstall that happened before a reinstallation
	// does not undo it.
	installedBy time.Time
}

// revoke forgets the account's token if cond holds. It reports whether it
// did.
func (s *Store) revoke(ctx context.Context, accountID int64, cond revokeIf, reason string) (bool, error) {
	q := `UPDATE accounts SET token = NULL, refresh_sum = NULL, revoked_at = db_clock(?), revoked_reason = ?,
	updated_at = db_clock(?), lease_holder = NULL, lease_expires_at = NULL
WHERE account_id = ? AND token IS NOT NULL`
	args := []any{s.clockAt(0), reason, s.clockAt(0), accountID}
	if cond.sum != "" {
		q += ` AND refresh_sum = ?`
		args = append(args, cond.sum)
	}
	if !cond.installedBy.IsZero() {
		q += ` AND (installed_at IS NULL OR installed_at <= ?)`
		args = append(args, ts(s.d, &cond.installedBy))
	}
	var revoked bool
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := s.exec(ctx, tx, q, args...)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil || n == 0 {
			return err
		}
		revoked = true
		if _, err := s.exec(ctx, tx, `DELETE FROM fleet_deliveries WHERE account_id = ? AND done_at IS NULL`, accountID); err != nil {
			return err
		}
		_, err = s.exec(ctx, tx, `DELETE FROM rate_budgets WHERE account_id = ?`, accountID)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("inboxsync: uninstall account %d: %w", accountID, err)
	}
	return revoked, nil
}

// Account is an account as the accounts table holds it.
type Account struct {
	ID          int64
	Installed   bool      // a token is stored
	InstalledAt time.Time // when the current installation's token was first saved
	// RevokedAt and RevokedReason tell when and why the account was
	// uninstalled; zero while installed.
	RevokedAt     time.Time
	RevokedReason string
	// LeaseHolder is the replica syncing the account (Fleet.Run), until
	// LeaseExpiresAt unless it renews the lease; empty when none does.
	LeaseHolder    string
	LeaseExpiresAt time.Time
}

// Accounts lists the accounts the store knows, installed or not, by id.
// It reads the database only.
func (s *Store) Accounts(ctx context.Context) ([]Account, error) {
	rows, err := s.query(ctx, s.db, `SELECT account_id, token IS NOT NULL, installed_at, revoked_at, revoked_reason, lease_holder, lease_expires_at
FROM accounts ORDER BY account_id`)
	if err != nil {
		return nil, fmt.Errorf("inboxsync: accounts: %w", err)
	}
	defer rows.Close()
	var out []Account
	for rows.Next() {
		var a Account
		var inst, rev, exp any
		var reason, holder sql.NullString
		if err := rows.Scan(&a.ID, &a.Installed, &inst, &rev, &reason, &holder, &exp); err != nil {
			return nil, fmt.Errorf("inboxsync: accounts: %w", err)
		}
		for _, f := range []struct {
			v   any
			dst *time.Time
		}{{inst, &a.InstalledAt}, {rev, &a.RevokedAt}, {exp, &a.LeaseExpiresAt}} {
			if *f.dst, err = scanTime(f.v); err != nil {
				return nil, err
			}
		}
		a.RevokedReason, a.LeaseHolder = reason.String, holder.String
		out = append(out, a)
	}
	return out, rows.Err()
}
