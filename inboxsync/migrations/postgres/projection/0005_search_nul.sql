-- A message's content as its search index reads it. raw->>'content'
-- fails on a NUL (\u0000: a Postgres text cannot hold one), and an index
-- expression that fails refuses the whole page's write: one guest's NUL
-- would freeze the account's messages. A NUL is read as U+FFFD instead
-- (raw keeps it exact); other records pay one scan of raw for it.
CREATE FUNCTION message_search_text(raw json) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT COALESCE((CASE WHEN strpos(raw::text, '\u0000') > 0
		THEN replace(raw::text, '\u0000', '\ufffd')::json ELSE raw END)->>'content', '')
$$;
DROP INDEX messages_search;
CREATE INDEX messages_search ON messages USING gin (to_tsvector('simple', message_search_text(raw)));
