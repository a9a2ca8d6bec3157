-- The account's guests (GET /clients; a Client participant's member_id and
-- a booking's client_id) and rentals (GET /rentals; a booking's
-- rental_id). Need clients_read and rentals_read; without them the tables
-- stay empty.
CREATE TABLE clients (
	account_id BIGINT NOT NULL,
	id         BIGINT NOT NULL,
	fullname   TEXT,
	updated_at TIMESTAMPTZ,
	raw        JSON NOT NULL,
	PRIMARY KEY (account_id, id)
);

CREATE TABLE rentals (
	account_id BIGINT NOT NULL,
	id         BIGINT NOT NULL,
	name       TEXT,
	updated_at TIMESTAMPTZ,
	raw        JSON NOT NULL,
	PRIMARY KEY (account_id, id)
);
