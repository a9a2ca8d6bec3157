-- The projection of an account's Inbox. Every mirrored table is keyed by
-- (account_id, id), holds the record as the API sent it in raw (json, the
-- text kept verbatim) and the columns readers filter on (timestamptz).

CREATE TABLE conversations (
	account_id      BIGINT NOT NULL,
	id              BIGINT NOT NULL,
	subject         TEXT,
	default_channel TEXT,
	created_by_type TEXT,
	created_by_id   BIGINT,
	assignee_id     BIGINT,
	closed_at       TIMESTAMPTZ,
	last_message_at TIMESTAMPTZ,
	created_at      TIMESTAMPTZ,
	updated_at      TIMESTAMPTZ,
	raw             JSON NOT NULL,
	PRIMARY KEY (account_id, id)
);
CREATE INDEX conversations_updated ON conversations (account_id, updated_at);
CREATE INDEX conversations_last_message ON conversations (account_id, last_message_at);
CREATE INDEX conversations_creator ON conversations (account_id, created_by_type, created_by_id);

CREATE TABLE participants (
	account_id      BIGINT NOT NULL,
	id              BIGINT NOT NULL,
	conversation_id BIGINT,
	member_type     TEXT,
	member_id       BIGINT,
	updated_at      TIMESTAMPTZ,
	raw             JSON NOT NULL,
	PRIMARY KEY (account_id, id)
);
CREATE INDEX participants_conversation ON participants (account_id, conversation_id);
CREATE INDEX participants_member ON participants (account_id, member_type, member_id);

CREATE TABLE messages (
	account_id      BIGINT NOT NULL,
	id              BIGINT NOT NULL,
	conversation_id BIGINT,
	sender_id       BIGINT,
	visibility      TEXT,
	channel         TEXT,
	sent_at         TIMESTAMPTZ,
	ordered_at      TIMESTAMPTZ,
	updated_at      TIMESTAMPTZ,
	raw             JSON NOT NULL,
	PRIMARY KEY (account_id, id)
);
CREATE INDEX messages_conversation ON messages (account_id, conversation_id, ordered_at, id);
CREATE INDEX messages_sender ON messages (account_id, sender_id);

CREATE TABLE attachments (
	account_id        BIGINT NOT NULL,
	id                BIGINT NOT NULL,
	name              TEXT,
	file_content_type TEXT,
	file_size         BIGINT,
	updated_at        TIMESTAMPTZ,
	raw               JSON NOT NULL,
	PRIMARY KEY (account_id, id)
);

CREATE TABLE hosts (
	account_id BIGINT NOT NULL,
	id         BIGINT NOT NULL,
	user_id    BIGINT,
	email      TEXT,
	updated_at TIMESTAMPTZ,
	raw        JSON NOT NULL,
	PRIMARY KEY (account_id, id)
);
CREATE INDEX hosts_user ON hosts (account_id, user_id);

CREATE TABLE applications (
	account_id BIGINT NOT NULL,
	id         BIGINT NOT NULL,
	name       TEXT,
	updated_at TIMESTAMPTZ,
	raw        JSON NOT NULL,
	PRIMARY KEY (account_id, id)
);

-- The server's X-Updated-Since-Request-Synced-At of the first page of the
-- last complete walk of a resource: the next walk's updated_since.
CREATE TABLE sync_cursors (
	account_id BIGINT NOT NULL,
	resource   TEXT NOT NULL,
	synced_at  TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (account_id, resource)
);

-- Who walks a resource now: a replica takes the row when it is free or
-- expired, renews it while it works, and clears it when done.
CREATE TABLE sync_leases (
	account_id BIGINT NOT NULL,
	resource   TEXT NOT NULL,
	holder     TEXT NOT NULL,
	expires_at TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (account_id, resource)
);

-- Webhook deliveries already acted on, by SHA-256 of the body, so that a
-- duplicate delivery does its work once.
CREATE TABLE webhook_seen (
	account_id BIGINT NOT NULL,
	digest     TEXT NOT NULL,
	seen_at    TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (account_id, digest)
);

-- Records the server deleted (from meta.deleted_ids, or a 404 on re-read).
-- Ids are never reused, so a tombstone is final: a late re-read or a stale
-- page cannot bring a deleted record back.
CREATE TABLE sync_tombstones (
	account_id BIGINT NOT NULL,
	resource   TEXT NOT NULL,
	id         BIGINT NOT NULL,
	deleted_at TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (account_id, resource, id)
);
