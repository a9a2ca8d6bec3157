// Package inboxsync keeps a local copy of BookingSync Inbox accounts in a
// database, SQLite (the embedded default, pure Go) or Postgres (shared by
// several replicas), in sync by polling and webhooks, and answers reads
// from that copy alone.
//
//	st, err := inboxsync.Open(ctx, "sqlite:/var/lib/app/inbox.db")
//	…
//	s := inboxsync.New(st, accountID, client) // client's token acts for accountID
//	http.Handle("/webhooks", s.WebhookHandler(clientSecret))
//	go s.Run(ctx, 5*time.Minute)
//	open, err := st.Conversations(ctx, accountID, inboxsync.ConversationQuery{Status: inboxsync.StatusOpen, AwaitingReply: true})
//
// # What a pass does
//
// Syncer.Sync walks, for each mirrored resource (hosts, conversations,
// participants, messages, attachments, bookings, guests, rentals), the
// account-wide listing
// (messages of every conversation in one listing, never a request per
// conversation) with updated_since set to the resource's stored cursor (an
// early date the first time), 100 records a page, one page in memory at a
// time (with the client's WithPrefetch(n), up to 2n pages are fetched
// ahead while one is written); the walk is the client's,
// bookingsync.SyncPages. Each page is written in one transaction: its
// records upserted, its meta.deleted_ids removed. The cursor, the first page's
// X-Updated-Since-Request-Synced-At, is stored only when the walk
// completes, in the transaction of its last page. A pass that fails or is
// killed half-way therefore leaves a copy that is stale, never wrong: every
// stored record is one the server sent, and the next pass walks again from
// the old cursor. When records are deleted during a walk (page numbers
// shift, so a record could slip between two pages), the walk does not
// advance the cursor and the next pass covers the same window again.
//
// A record is never replaced by an older one: an upsert applies only when
// the incoming updated_at is at least the stored one (strictly newer for a
// webhook's re-read). Deleted ids leave a tombstone, so that a late re-read
// or a stale page cannot bring a deleted record back.
//
// Webhooks (HandleEvent, WebhookHandler) are cues: an event of a record the
// copy holds (inbox_*, booking_*, client_*, rental_*) makes
// the syncer re-read that one record at once and schedules a pass; a
// duplicate delivery is recognized by its digest and does no work. Run
// makes a pass at once, then every period and soon after cues, backs off on
// errors, and leaves a share of the rate budget (WithRateReserve, 10%) for
// the application's own calls, waiting for the reset rather than spending
// it. Two syncers of one account, in one process or in replicas sharing
// the database, never walk the same resource at once: each walk holds a
// lease row per (account, resource), renewed with every page and taken
// over when it expires by the database's clock (WithLeaseTTL).
//
// Before its first write a Syncer asks GET /me, once, which account its
// client's token acts for; a token of another account is refused with an
// AccountMismatchError and nothing is written, so that no record is filed
// under the wrong account.
//
// # A product on the copy
//
// Store.Inbox answers an inbox page (one row per conversation with its
// guest, rental, booking, channel and last message) in a fixed number of
// queries, with filters and full-text search. Store.Enqueue queues a reply
// that the syncer holding the account sends once (Syncer.Deliver).
// Store.Changes and Store.WaitChanges follow every write, in commit order.
// WithMeterProvider, WithTracerProvider and APIObserver report the sync
// through OpenTelemetry.
//
// # The schema
//
// The schema is an interface: query it (Store.DB) as well as through the
// read side. Its one description is the migrations
// (migrations/<dialect>/<line>/NNNN_*.sql, each table commented there), and a
// test holds the two dialects' live schemas to each other and to the
// columns the code writes. Every mirrored table (conversations,
// participants, messages, attachments, hosts, applications, bookings,
// clients, rentals) is keyed by (account_id, id) and holds, besides the
// columns readers filter on, raw: the record exactly as the API sent it
// (JSON text on SQLite, json on Postgres), so that nothing is lost when
// this SDK's models lag the API. Times are timestamptz on Postgres and
// fixed-width UTC text (2006-01-02T15:04:05.000000000Z, text order is time
// order) on SQLite. NULL stands for absent. The sync_* tables and
// webhook_seen are the syncer's bookkeeping; outbox holds the replies
// (Store.Enqueue), changes the change feed (Store.Changes); the search
// indexes are FTS5 tables kept by triggers on SQLite (messages_search,
// conversations_search, clients_search) and GIN indexes on Postgres;
// accounts, fleet_* and rate_budgets are the Fleet's.
//
// A parent's association id arrays inside raw (a conversation's
// links.participants and links.messages, a host's links.participants, an
// attachment's links.messages) are as fresh as the parent's last update:
// the API can add a child without touching its parent's updated_at. The
// child tables are always current: use Participants and Messages (or join
// on conversation_id) rather than those arrays.
//
// Migrations are embedded and versioned, in named lines
// (migrations/<dialect>/<line>/NNNN_*.sql: projection, fleet, outbox,
// changes), and recorded in inboxsync_migrations. Open applies the missing ones,
// each once even when replicas start together; Migrate does it alone (a
// deploy step), MigrationStatus lists what is applied and pending, and
// Open(ctx, dsn, WithoutMigrate()) opens with a role that may not change
// the schema, failing with a *SchemaBehindError when it is behind. The
// command-line tool has them as `bookingsync db migrate|status`.
package inboxsync
