-- Store.Inbox: an account's conversations, most recent activity first,
-- keyset-paged on (activity, id). The expression is the one Inbox orders
-- by, word for word, so that the index serves it; the last fallback keeps
-- it never NULL.
CREATE INDEX conversations_activity ON conversations
	(account_id, COALESCE(last_message_at, updated_at, '1970-01-01T00:00:00.000000000Z'), id);

-- InboxQuery.Search: full-text indexes (the 'simple' configuration:
-- words lowercased, no stemming, whatever the guest's language) of the
-- messages' content, the conversations' subject and the guests' names.
CREATE INDEX messages_search ON messages USING gin (to_tsvector('simple', COALESCE(raw->>'content', '')));
CREATE INDEX conversations_search ON conversations USING gin (to_tsvector('simple', COALESCE(subject, '')));
CREATE INDEX clients_search ON clients USING gin (to_tsvector('simple', COALESCE(fullname, '')));

-- A conversation's participants in id order: its guest (the first Client
-- participant) for Inbox, and Store.Participants.
CREATE INDEX participants_conversation_id ON participants (account_id, conversation_id, id);
