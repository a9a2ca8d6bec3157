-- Many accounts, many replicas (Fleet). Times are the database's clock.

-- One row per account that installed the application. token is the OAuth
-- token as JSON, or sealed with AES-GCM when the store has a key
-- (Store.SealTokens); NULL once forgotten by an uninstall. refresh_sum is
-- the SHA-256 (hex) of its refresh token: a refreshed token is saved only
-- where refresh_sum still names the token it was refreshed from. The lease
-- columns say which replica syncs the account until when (Fleet.Run).
CREATE TABLE accounts (
	account_id       BIGINT PRIMARY KEY,
	token            BYTEA,
	refresh_sum      TEXT,
	installed_at     TIMESTAMPTZ,
	revoked_at       TIMESTAMPTZ,
	revoked_reason   TEXT,
	updated_at       TIMESTAMPTZ NOT NULL,
	lease_holder     TEXT,
	lease_expires_at TIMESTAMPTZ
);
CREATE INDEX accounts_lease ON accounts (lease_holder, lease_expires_at);

-- The replicas running Fleet.Run, each renewing its row while it lives, so
-- that each can tell its fair share of the accounts.
CREATE TABLE fleet_replicas (
	replica    TEXT PRIMARY KEY,
	expires_at TIMESTAMPTZ NOT NULL
);

-- Webhook deliveries as received by any replica, once each (digest is the
-- SHA-256 of the body), until the replica syncing the account acts on them.
CREATE TABLE fleet_deliveries (
	id          BIGSERIAL PRIMARY KEY,
	account_id  BIGINT NOT NULL,
	digest      TEXT NOT NULL,
	event       TEXT NOT NULL,
	body        TEXT NOT NULL,
	received_at TIMESTAMPTZ NOT NULL,
	attempts    INTEGER NOT NULL DEFAULT 0,
	done_at     TIMESTAMPTZ,
	UNIQUE (account_id, digest)
);
CREATE INDEX fleet_deliveries_pending ON fleet_deliveries (account_id, id) WHERE done_at IS NULL;

-- The rate budget the API last stated for each account, whichever replica
-- received it (X-RateLimit-*; reset_at is the end of the window).
CREATE TABLE rate_budgets (
	account_id BIGINT PRIMARY KEY,
	rate_limit INTEGER NOT NULL,
	remaining  INTEGER NOT NULL,
	reset_at   TIMESTAMPTZ NOT NULL,
	noted_at   TIMESTAMPTZ NOT NULL
);
