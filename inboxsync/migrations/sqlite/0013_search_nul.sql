-- Postgres's message search reads a NUL in a message's content as U+FFFD
-- (its 0013); SQLite's json_extract reads it as it is: nothing to change.
SELECT 1;
