-- The change feed (Store.Changes, Store.WaitChanges): one row per record
-- a write changed (deleted 1: removed), appended in the writing
-- transaction, as its last statements, after the highest seq so far. The
-- appenders take turns: on Postgres each locks the single row of
-- change_counter (SELECT ... FOR UPDATE) until it commits, and only then
-- reads the highest seq; on SQLite the write lock does the same. So seq
-- order is commit order, and a reader that saw seq n never finds a
-- smaller one appear later (a sequence would not promise that: two
-- transactions can commit in the other order than they drew numbers).
-- change_counter.seq keeps the highest seq given once the retention
-- pruned the changes that told it. changed_at is the database's clock.
CREATE TABLE changes (
	seq        BIGINT PRIMARY KEY,
	account_id BIGINT NOT NULL,
	resource   TEXT NOT NULL,
	record_id  BIGINT NOT NULL,
	deleted    INTEGER NOT NULL,
	changed_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX changes_account ON changes (account_id, seq);
CREATE INDEX changes_at ON changes (changed_at);

CREATE TABLE change_counter (
	id  INTEGER PRIMARY KEY CHECK (id = 1),
	seq BIGINT NOT NULL
);
INSERT INTO change_counter (id, seq) VALUES (1, 0);

-- The retention (Store.PruneChanges): an account's changes up to seq are
-- no longer kept; a reader behind that is told to reload.
CREATE TABLE changes_pruned (
	account_id BIGINT PRIMARY KEY,
	seq        BIGINT NOT NULL
);
