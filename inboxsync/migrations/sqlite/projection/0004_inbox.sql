-- Store.Inbox: an account's conversations, most recent activity first,
-- keyset-paged on (activity, id). The expression is the one Inbox orders
-- by, word for word, so that the index serves it; the last fallback keeps
-- it never NULL.
CREATE INDEX conversations_activity ON conversations
	(account_id, COALESCE(last_message_at, updated_at, '1970-01-01T00:00:00.000000000Z'), id);

-- InboxQuery.Search: full-text indexes (FTS5, Unicode words, case and
-- diacritics folded) of the messages' content, the conversations' subject
-- and the guests' names. Each is contentless (the text stays in raw) and
-- keyed by the record's id, which the API never gives to two records of a
-- kind; triggers keep them in step with every write, whichever path makes
-- it.
CREATE VIRTUAL TABLE messages_search USING fts5(content, content = '', contentless_delete = 1,
	tokenize = 'unicode61 remove_diacritics 2');
CREATE VIRTUAL TABLE conversations_search USING fts5(subject, content = '', contentless_delete = 1,
	tokenize = 'unicode61 remove_diacritics 2');
CREATE VIRTUAL TABLE clients_search USING fts5(fullname, content = '', contentless_delete = 1,
	tokenize = 'unicode61 remove_diacritics 2');

CREATE TRIGGER messages_search_insert AFTER INSERT ON messages BEGIN
	INSERT OR REPLACE INTO messages_search (rowid, content) VALUES (new.id, COALESCE(json_extract(new.raw, '$.content'), ''));
END;
CREATE TRIGGER messages_search_update AFTER UPDATE OF raw ON messages
WHEN json_extract(old.raw, '$.content') IS NOT json_extract(new.raw, '$.content') BEGIN
	INSERT OR REPLACE INTO messages_search (rowid, content) VALUES (new.id, COALESCE(json_extract(new.raw, '$.content'), ''));
END;
CREATE TRIGGER messages_search_delete AFTER DELETE ON messages BEGIN
	DELETE FROM messages_search WHERE rowid = old.id;
END;

CREATE TRIGGER conversations_search_insert AFTER INSERT ON conversations BEGIN
	INSERT OR REPLACE INTO conversations_search (rowid, subject) VALUES (new.id, COALESCE(new.subject, ''));
END;
CREATE TRIGGER conversations_search_update AFTER UPDATE OF subject ON conversations
WHEN old.subject IS NOT new.subject BEGIN
	INSERT OR REPLACE INTO conversations_search (rowid, subject) VALUES (new.id, COALESCE(new.subject, ''));
END;
CREATE TRIGGER conversations_search_delete AFTER DELETE ON conversations BEGIN
	DELETE FROM conversations_search WHERE rowid = old.id;
END;

CREATE TRIGGER clients_search_insert AFTER INSERT ON clients BEGIN
	INSERT OR REPLACE INTO clients_search (rowid, fullname) VALUES (new.id, COALESCE(new.fullname, ''));
END;
CREATE TRIGGER clients_search_update AFTER UPDATE OF fullname ON clients
WHEN old.fullname IS NOT new.fullname BEGIN
	INSERT OR REPLACE INTO clients_search (rowid, fullname) VALUES (new.id, COALESCE(new.fullname, ''));
END;
CREATE TRIGGER clients_search_delete AFTER DELETE ON clients BEGIN
	DELETE FROM clients_search WHERE rowid = old.id;
END;

-- What is already stored.
INSERT INTO messages_search (rowid, content) SELECT id, COALESCE(json_extract(raw, '$.content'), '') FROM messages;
INSERT INTO conversations_search (rowid, subject) SELECT id, COALESCE(subject, '') FROM conversations;
INSERT INTO clients_search (rowid, fullname) SELECT id, COALESCE(fullname, '') FROM clients;

-- A conversation's participants in id order: its guest (the first Client
-- participant) for Inbox, and Store.Participants.
CREATE INDEX participants_conversation_id ON participants (account_id, conversation_id, id);
