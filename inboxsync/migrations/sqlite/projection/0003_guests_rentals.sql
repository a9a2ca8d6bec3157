-- The account's guests (GET /clients; a Client participant's member_id and
-- a booking's client_id) and rentals (GET /rentals; a booking's
-- rental_id). Need clients_read and rentals_read; without them the tables
-- stay empty.
CREATE TABLE clients (
	account_id INTEGER NOT NULL,
	id         INTEGER NOT NULL,
	fullname   TEXT,
	updated_at TEXT,
	raw        TEXT NOT NULL,
	PRIMARY KEY (account_id, id)
);

CREATE TABLE rentals (
	account_id INTEGER NOT NULL,
	id         INTEGER NOT NULL,
	name       TEXT,
	updated_at TEXT,
	raw        TEXT NOT NULL,
	PRIMARY KEY (account_id, id)
);
