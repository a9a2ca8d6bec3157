// Package serve is `bookingsync serve`: the unified inbox as one program.
// It runs an inboxsync Fleet on a database (SQLite on one machine,
// Postgres shared by replicas) and serves, to the people of each account
// that signed in with BookingSync, the account's inbox read from the
// local copy alone, with the routes of the design's "Round 3":
//
//	GET  /                          the signed-in account's inbox (else a redirect to /login)
//	GET  /login                     sign in with BookingSync (OAuth authorize with a state)
//	GET  /oauth/callback            installs the account and signs in
//	POST /logout
//	GET  /conversations/{id}        the thread, oldest first, with a reply form
//	POST /conversations/{id}/reply  form field "content" (+ the CSRF token)
//	GET  /events                    text/event-stream of the signed-in account's changes
//	POST /webhooks                  the fleet's webhook intake
//	GET  /healthz /readyz /metrics
//
// A session belongs to one account: every read and write names the
// session's account, so another account's ids answer 404, as a missing
// record does. A page view reads the database only (Store.Inbox, the
// thread's records, the outbox); it costs the API nothing. A reply is
// queued with Store.Enqueue and sent by the fleet; /events is the
// account's change feed (Store.Changes) resuming from Last-Event-ID; and
// /metrics writes, in Prometheus' text format, what the fleet records
// through the meter provider serve gives it.
//
// The files follow the roles: config.go (flags and secrets), server.go
// (routes and lifecycle), session.go (signed cookies, CSRF), login.go
// (OAuth sign-in), pages.go and read.go (the inbox and thread pages from
// the local copy), events.go (server-sent events), ops.go (health,
// readiness, logs, security headers), metrics.go (the exposition).
package serve
