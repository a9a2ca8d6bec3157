-- The records (and deleted ids) a write could not store, kept until a
-- later write applies them: Store.SetAsideRecords. entry names the row:
-- the record's id in decimal, or "sha256:" and the hex digest of raw when
-- it has no usable id (id is then NULL). raw is the record, or the
-- deleted_ids entry, byte for byte as the API sent it (bytea: no JSON or
-- text rule of the database applies to what could not be stored).
CREATE TABLE sync_set_aside (
	account_id BIGINT NOT NULL,
	resource   TEXT NOT NULL,
	entry      TEXT NOT NULL,
	id         BIGINT,
	reason     TEXT NOT NULL,
	raw        BYTEA NOT NULL,
	first_seen TIMESTAMPTZ NOT NULL,
	last_seen  TIMESTAMPTZ NOT NULL,
	attempts   INTEGER NOT NULL,
	PRIMARY KEY (account_id, resource, entry)
);
CREATE INDEX sync_set_aside_id ON sync_set_aside (account_id, resource, id);
