// Package inboxsync keeps a local copy of BookingSync Inbox accounts in
// SQLite or Postgres, in sync by polling and webhooks.
package inboxsync
