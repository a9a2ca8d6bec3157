-- The outbox (Store.Enqueue, Syncer.Deliver): replies written here first,
-- then sent by the syncer holding the account, at most once per key.
-- Times are the database's clock as UTC text, except sent_at: the
-- message's own sent_at, to the second, fixed at the first attempt and
-- unique among the items of a conversation, so that reading the
-- conversation back finds exactly this item's message.
--
-- state: queued (nothing sent), sending (a POST may have reached the API:
-- the conversation is read back before any resend), sent (message_id
-- recorded), failed (error says why). next_at: not tried before it (the
-- backoff, or the end of the claim of the replica sending it).
CREATE TABLE outbox (
	id              INTEGER PRIMARY KEY AUTOINCREMENT,
	account_id      INTEGER NOT NULL,
	item_key        TEXT NOT NULL,
	conversation_id INTEGER NOT NULL,
	host_id         INTEGER NOT NULL,
	content         TEXT NOT NULL,
	state           TEXT NOT NULL,
	attempts        INTEGER NOT NULL DEFAULT 0,
	claim           TEXT,
	next_at         TEXT NOT NULL,
	sent_at         TEXT,
	message_id      INTEGER,
	error           TEXT,
	queued_at       TEXT NOT NULL,
	done_at         TEXT,
	UNIQUE (account_id, item_key)
);
CREATE UNIQUE INDEX outbox_sent_at ON outbox (account_id, conversation_id, sent_at);
CREATE INDEX outbox_pending ON outbox (account_id, id) WHERE state IN ('queued', 'sending');
