-- The bookings of the account (every status, canceled ones included), as
-- GET /bookings?updated_since lists them; a booking's conversations are
-- its raw links.conversations, a conversation's bookings its
-- links.bookings. Needs the bookings_read scope; without it the table
-- stays empty.
CREATE TABLE bookings (
	account_id  BIGINT NOT NULL,
	id          BIGINT NOT NULL,
	reference   TEXT,
	status      TEXT,
	rental_id   BIGINT,
	client_id   BIGINT,
	start_at    TIMESTAMPTZ,
	end_at      TIMESTAMPTZ,
	canceled_at TIMESTAMPTZ,
	updated_at  TIMESTAMPTZ,
	raw         JSON NOT NULL,
	PRIMARY KEY (account_id, id)
);
CREATE INDEX bookings_rental ON bookings (account_id, rental_id, start_at);
CREATE INDEX bookings_client ON bookings (account_id, client_id);
CREATE INDEX bookings_start ON bookings (account_id, start_at);

-- A page checks only the tombstones laid since its walk began (see
-- Store.apply): older ones name records the server no longer lists.
CREATE INDEX sync_tombstones_recent ON sync_tombstones (account_id, resource, deleted_at);
