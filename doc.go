// Package bookingsync is a Go client for the BookingSync (Smily) API v3,
// centred on the Inbox: the guest conversations that channel bookings
// (Booking.com, Airbnb, Vrbo) create, their participants, messages and
// attachments, the account's hosts, and the bookings and applications
// behind them; and, to show who and what a conversation is about, the
// guests (Clients), rentals, inquiries, sources and accounts.
//
// # Getting started
//
//	client, err := bookingsync.NewClient(bookingsync.WithToken(token))
//	for conv, err := range client.Conversations.All(ctx, nil) {
//		...
//	}
//
// A sandbox or staging site differs only in its root: WithBaseURL. Plain
// http is refused except on loopback, so that tokens never travel in clear.
// The package bookingsynctest is an in-memory BookingSync server for tests
// and examples.
//
// # Services
//
// The Client's services follow one shape: List returns one page and a
// *Response (paging, rate budget, request id, synced-at cursor, deleted
// ids); All is an iter.Seq2 over every page, fetched lazily (and ahead,
// with WithPrefetch); Get and GetMany read by id; Create and Update take
// typed request structs where the API allows writes. Every call takes a
// context; a call that is one request returns (result, *Response, error),
// and the helpers that make several (All, Bookings.Conversations,
// EnsureHost, SendAsHost, Origin, SyncAll, …) return (result, error).
//
// Client.Directory resolves what an inbox shows beside a page of
// conversations (guest, booking or inquiry, rental, channel, last message)
// in one GetMany per resource; Client.Me names the token's account.
//
// # The Inbox rules
//
// A conversation created through the API would not reach the guest's
// channel, Client participants (the guests) belong to the channel, and
// only Host participants send messages. The SDK refuses all three before
// sending anything, in the one request path that services and a caller's
// own NewRequest/Do share: the error matches ErrRefused and says what to
// do instead. Hosts are added with Participants.AddHost, EnsureHost or
// EnsureHostFor (the API accepts duplicate Host participants; EnsureHost
// avoids them within a client and reuses the oldest), and reply with
// Messages.SendAsHost. Conversations.Origin tells which channel created a
// conversation, reading each creating application once per client.
//
// # Errors
//
// Every non-2xx answer is an *ErrorResponse (a 429 a *RateLimitError) and
// matches ErrUnauthorized, ErrForbidden, ErrNotFound, ErrValidation or
// ErrRateLimited with errors.Is. A body that is not the expected JSON is a
// *DecodeError, and so is a page holding a null where a record belongs:
// the page fails whole rather than hand back a nil record or a short page.
// A 403 on a resource whose read scope is known is a *ScopeError naming
// the scope to ask for (it matches ErrForbidden too). Local validation
// fails with ErrInvalidRequest before any request. No error or log line
// contains a token.
//
// # Keeping in sync
//
// SyncAll and SyncEach walk an updated_since listing and return the changed
// records, the deleted ids and the server's cursor, to persist when the
// walk is Settled; SyncPages hands the same walk over page by page. Webhooks
// (NewWebhookHandler, ParseWebhook) are verified and typed; treat them as
// cues to re-read.
//
// # Tokens and reliability
//
// NewStoredTokenSource keeps BookingSync's rotating refresh tokens safe: a
// refreshed token is saved before it is used. The client retries what the
// server cannot have processed twice (never a POST that may have arrived),
// waits for rate-limit resets when asked to (WithRateLimitWait), and bounds
// every body and wait.
package bookingsync
