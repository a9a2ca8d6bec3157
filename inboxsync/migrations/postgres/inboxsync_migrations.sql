-- The migrations applied to this database, one row each: the line (the
-- folder: projection, fleet, …), the version within it, the file, and when
-- (the database's clock).
CREATE TABLE IF NOT EXISTS inboxsync_migrations (
	line       TEXT NOT NULL,
	version    INTEGER NOT NULL,
	name       TEXT NOT NULL,
	applied_at TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (line, version)
);
