-- Postgres's message search reads a NUL in a message's content as U+FFFD
-- (its projection/0005); SQLite's json_extract reads it as it is: nothing to change.
SELECT 1;
