// Package bookingsynctest is an in-memory fake of the BookingSync (Smily)
// API v3 for tests, examples and benchmarks: the Inbox resources, hosts,
// bookings, applications, clients (guests), rentals, sources, inquiries,
// accounts and /me, the OAuth 2.0 endpoints and signed webhook deliveries,
// for one account or many, speaking the wire format of the API reference
// and answering as recordings of the live API show.
//
// The fake is an independent implementation of the wire format; it does not
// import the SDK. It is never stricter than the live API: what the live API
// accepts, the fake accepts (duplicate Host participants, a message without
// sent_at, bare Base64 attachments). Where the real behaviour is unknown
// the fake guesses, and says so below.
//
// # Using it from a Go test
//
//	srv := bookingsynctest.NewServer()      // the demo account, seeded
//	defer srv.Close()
//	client, _ := bookingsync.NewClient(bookingsync.WithBaseURL(srv.URL), bookingsync.WithToken(srv.Token()))
//
// The Server embeds its default account (AccountID), so its builders
// (AddConversationWithClient, AddMessage, AddHost, AddClient, AddRental,
// AddBooking, GenerateInbox, …) fill that account; AddAccount returns more
// accounts with the same builders. Advance moves the server's clock;
// Requests, RequestCount and Account.RequestTotal show what arrived.
//
// # The standalone server
//
// `bookingsync fake` (the command-line tool) runs this package as a
// server that a Python or Node test suite can start as a subprocess. Its
// first output line is "listening on http://HOST:PORT" and its second
// "token TOKEN", a token of the seeded account with every scope. Talk to
// it as to the real site: the API is under /api/v3/, OAuth under
// /oauth/authorize and /oauth/token, with the client id
// "bookingsynctest-client", secret "bookingsynctest-secret" and redirect
// URI "http://127.0.0.1/oauth/callback" unless configured otherwise.
// Where the real site signs its user in and asks for approval,
// /oauth/authorize approves at once: as the account its account_id
// parameter names, else as the only account, else (several accounts) it
// answers a page where a person picks one: a form with one
// <button name="account_id" value="ID"> per account. Its flags map onto
// the options:
//
//   - seed: WithoutSeed (empty), WithSeedSize(conversations, messages)
//     (a generated Inbox per account, e.g. 10,000 and 50,000).
//   - accounts: WithAccounts(n); each account has its own data, tokens,
//     budget and webhooks (Server.Accounts lists them with their tokens).
//   - latency: WithLatency(d) and WithLatencyJitter(d), on every API
//     response.
//   - rate budget: WithRateLimit(n) requests per hour per account; every
//     response but a 401 (as recorded) carries X-RateLimit-Limit,
//     X-RateLimit-Remaining and X-RateLimit-Reset (Unix seconds); over it,
//     429 with {"error": "API v3 rate limit exceeded."}.
//   - faults: WithFaults(Fault{…}): a proxy's 5xx page, before or after
//     processing, a connection reset, a truncated body, a slow body, or a
//     429, for a path prefix, a method, an account, a count or a rate;
//     ParseFault reads them from text such as
//     "status:status=503,path=/api/v3/inbox,rate=0.05".
//   - webhooks: WithWebhookURL(url) delivers, on writes, signed POSTs with
//     Content-Type application/json, User-Agent "BookingSync Webhook
//     Delivery" and X-Content-Signature = lowercase hex HMAC-SHA1, keyed
//     with the client secret (WithWebhookSecret), of the body's Base64 as
//     Ruby's Base64.encode64 writes it (a newline every 60 characters and
//     at the end); see SignWebhook. Bodies are {"account_id": N, "event":
//     "inbox_message_created", "resource": {"links": {…}, "message":
//     {…}}}.
//   - tokens: WithTokenLifetime(d) shortens access tokens' life (default
//     7200 s); refresh tokens rotate and a spent one is invalid_grant.
//   - page caps: WithPageCap(resource, n) (the flag --page-cap
//     RESOURCE=N, repeatable) sets the largest page of one resource,
//     listings and id lists alike; WithPageSizeCap(n) (--page-cap N) that
//     of every resource. The defaults are the live API's: rentals 50, the
//     rest 100 (see WithPageCap for which of them are guesses).
//
// The API it serves (each with ?fields=, updated_since and
// meta.deleted_ids on lists, GET /x/1,2,3 for several ids, page and
// per_page; scopes in brackets, any of them suffices):
//
//	GET  /inbox/conversations[/:ids]  [inbox_read inbox_write] ?include=participants,messages
//	PUT  /inbox/conversations/:id[/connect_booking|/disconnect_booking]  [inbox_write]
//	POST /inbox/conversations                                      [inbox_write]
//	GET  /inbox/participants[/:ids], POST, PUT /:id                [inbox_*]
//	GET  /inbox/messages[/:ids], POST, PUT /:id[/add_attachment]   [inbox_*]
//	GET  /inbox/attachments[/:ids], POST, PUT /:id                 [inbox_*]
//	GET  /hosts[/:ids], POST, PUT /:id                             [inbox_*]
//	GET  /bookings[/:ids]  [bookings_read; others get the reduced view] ?from, until, months, status, include_canceled, rental_id, client_id
//	GET  /applications[/:ids]                                      [applications_read]
//	GET  /clients[/:ids]                                           [clients_read clients_write]
//	POST /clients, PUT /clients/:id                                [clients_write]
//	GET  /rentals[/:ids]  [rentals_read rentals_write; others see published rentals] ?include=availability,change_over
//	GET|POST /rentals/search                                       [as GET /rentals]
//	GET  /sources[/:ids]                                           [bookings_read bookings_write bookings_write_owned]
//	POST /sources, PUT /sources/:id                                [bookings_write bookings_write_owned]
//	GET  /inquiries[/:ids]                                         [inquiries_read inquiries_write inquiries_write_owned]
//	GET  /booking_comments[/:ids]                                  [bookings_read bookings_write bookings_write_owned]
//	POST /booking_comments, PUT|DELETE /booking_comments/:id       [bookings_write bookings_write_owned]
//	GET  /payments[/:ids]  ?order_id                               [payments_read payments_write payments_write_owned]
//	GET  /bookings_payments[/:ids]                                 [payments_read payments_write]
//	GET  /reviews[/:ids], GET /review_replies[/:uuids]             [public]
//	GET  /accounts[/:ids], GET /me                                 [public]
//	GET  /oauth/authorize, POST /oauth/token (authorization_code, refresh_token, client_credentials)
//
// Every other route of the reference (testdata/routes.txt in the
// repository) answers 501 with {"error": "…", "route": "POST
// /rentals/{rental_id}/bookings"}, so that a test against the fake never
// reads "not found" where the API would have answered; a route the API
// does not have is a 404.
//
// The seeded account (id 1, the constants below name its ids) has the
// applications Airbnb (65), Booking.com (66) and Smily Guest App (70),
// hosts 2 and 3, guests (clients) 37–42, rentals 16–18 (18 unpublished),
// sources 1 and 2, bookings 80–85, the open Airbnb and Booking.com
// conversations 11 and 12 whose guests wrote last, the closed e-mail
// conversation 13 (inquiry 90), conversation 14, which appears two
// seconds after start (WithConversationDelay), a note on booking 81
// (booking comment 95), a payment of half booking 80 (payment 96) and a
// review of the past booking 84 with the host's reply (review 97). Other
// accounts get the same
// data under ids of their own. Times follow the server's clock; ids are
// unique across accounts.
//
// # Where the fake guesses
//
// Recorded behaviours the fake follows: duplicate Host participants are
// accepted; a message without sent_at is created with sent_at null; PUT
// /inbox/messages/:id applies content; an attachment's file may be bare
// Base64 with line breaks; X-Updated-Since-Request-Synced-At is on every
// API response; single-record GETs carry Link and X-Total-* headers and a
// meta copy of them; every token has the public scope; a token without
// bookings_read gets the reduced booking, without a conversations link;
// participants and messages carry an account link; bookings carry the
// recorded extra attributes; lists repeat Link and X-Total-* in meta; a
// 201 carries Link (rel="first", the created record's attributes as a
// Rails query) and X-Per-Page, and their meta copy with null totals; a
// 401 carries no rate headers; a rental has the 59 recorded attributes
// (price_kind among them) and include=availability,change_over sideloads
// both calendars as objects; accounts carry preferences; reviews the 2021
// recordings' attributes; review replies (not in the reference) have UUID
// ids; a booking comment's booking_id may come beside the record.
//
// Guesses (undocumented real behaviour):
//   - Error bodies: 403 {"error":"Forbidden"}, 404 {"error":"Not found"},
//     429 {"error":"API v3 rate limit exceeded."}, 400 for malformed JSON or
//     a missing resource key, 415 for a non-JSON Content-Type, 501 naming
//     the route for a route of the reference the fake lacks.
//   - GET /x/1,2,3 returns the known ids in id order; 404 only when none is.
//     It is paged like a listing (recorded: X-Per-Page 50 and a Link
//     header on GET /rentals/5116,5117); that every resource's id lists
//     page at its listing's cap is a guess.
//   - The rate budget is per account (a client-credentials token has the
//     application's, requests without a valid token share one); every API
//     request counts, 401s included.
//   - meta.deleted_ids is present ([] when empty) exactly when
//     updated_since is given; an empty collection reports X-Total-Pages 1.
//   - Validation error keys and messages follow Rails conventions
//     ("conversation": ["must exist"], "content": ["can't be blank"]).
//     A message's sender must be a participant of its conversation and a
//     Host participant's host must exist; a Client's client is not checked.
//   - Bookings: from keeps bookings ending after it and defaults to now
//     (none with updated_since); until keeps those starting before it;
//     months sets until = from + months; canceled bookings appear only with
//     include_canceled or updated_since. bookings_write alone reads the
//     reduced view.
//   - Message update accepts content, origin, visibility, channel and
//     attachment_ids, not sent_at; a message without sent_at moves
//     last_message_at to its created_at. API-created messages and
//     conversations have null created_by_*.
//   - A refresh revokes the previous access token as well as the previous
//     refresh token; OAuth failures are 401, as the API notes say.
//   - Accounts: a user token lists its own account; a client-credentials
//     token every installed one, and an account that uninstalled the
//     application is in meta.deleted_ids with updated_since (not listed).
//     GET /me with a client-credentials token is 403. The
//     accounts_application_* webhooks carry the record GET /me shows,
//     {"links": {…}, "accounts_application": {"links": {"account": N},
//     "partnership_invoice_recipient": "account"}}; demo and test are
//     false.
//   - Rentals without rentals_read: published ones only, without address,
//     zip, notes, owner and check-in details. Sources need a bookings scope.
//     Clients, inquiries, booking comments and payments without their read
//     scope: 403; reviews and review replies are public. A rental's
//     price_kind is "weekly"; its availability, change-over and nightly
//     rate map share its id; the maps start on the first of the current
//     month, availability '1' on a booked night, change-over 'I', 'X',
//     'O' over a stay and 'C' elsewhere; other associations link to
//     nothing. A search (GET, or POST as recorded) keeps the rentals free
//     over start_at..end_at that match rental_id, city, country_code,
//     bedrooms_count and guests (or adults + children), ignores the other
//     filters, and prices a stay at the weekly base rate (300.0) by night,
//     without taxes or fees. A booking's paid_amount follows its paid
//     payments. visible_for_all_account_users shows on a booking comment
//     once a write set it. A client write needs a name (fullname,
//     firstname or lastname: the reference asks for fullname or both of
//     the others) and replaces each list it sends; a source without a
//     position goes last. The bookings and inquiries writes answer 501.
//   - A client-credentials token reads /accounts and every installed
//     account's published rentals (as the guide on reading all accounts
//     says); other resources answer it 403.
//   - Webhooks are delivered once, without retries. The builders send the
//     created event of what they add (AddBooking booking_created,
//     AddClient client_created, AddReview review_created and
//     review_reply_created, …), Touch the updated event and Delete the
//     destroyed event of the resource, where the reference lists one; API
//     writes send their resource's; SetStatus sends account_updated,
//     Uninstall accounts_application_destroyed and Reinstall
//     accounts_application_created. Nothing sends account_destroyed or
//     accounts_application_updated. Participants, hosts and attachments
//     send none (the reference lists no event for them); a delayed
//     conversation is announced (inbox_conversation_created) once it
//     appears, by no booking_updated.
//   - DELETE is served for booking comments (204); the reference's other
//     DELETE routes answer 501.
package bookingsynctest
