package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/go-bookingsync/bookingsync/cmd/bookingsync/internal/serve"
)

var serveCommand = &command{
	name:    "serve",
	args:    "--db DSN --listen HOST:PORT --public-url URL",
	summary: "Serve the unified inbox: sign in with BookingSync, read and reply in a browser",
	help: `Runs the inbox service in one process: a fleet keeping every installed
account's Inbox in the database (sqlite: on one machine; postgres:// for
several replicas sharing the work, any of them answering any request), and
the web pages of the accounts that signed in with BookingSync.

Environment (secrets never go on the command line):
  BOOKINGSYNC_CLIENT_ID, BOOKINGSYNC_CLIENT_SECRET  the application (required)
  BOOKINGSYNC_SESSION_KEY    signs sessions: at least 32 random bytes, the same
                             on every replica (required; openssl rand -hex 32)
  BOOKINGSYNC_WEBHOOK_SECRET signs webhooks (default: the client secret)
  BOOKINGSYNC_SEAL_KEY       seals the tokens in the database (optional; 16, 24
                             or 32 bytes, hex or base64)
  BOOKINGSYNC_BASE_URL       the BookingSync site (default the real one)

Register <public-url>/oauth/callback as the application's redirect URI and
<public-url>/webhooks as its webhook URL. Logs are JSON lines on stderr.
On SIGTERM or SIGINT it stops taking requests, finishes those in flight
(at most --shutdown-timeout), releases its accounts to the other replicas
and exits 0.`,
	run: runServe,
}

func runServe(ctx context.Context, c *cli, cmd *command, args []string) error {
	fs := flags(cmd)
	db := fs.String("db", "sqlite:bookingsync-inbox.db", "the database: sqlite:/path/inbox.db or postgres://…")
	listen := fs.String("listen", "127.0.0.1:8080", "the HTTP listen address; port 0 picks a free port")
	public := fs.String("public-url", "", "where browsers and BookingSync reach this service (default http://<listen address>)")
	every := fs.Duration("every", 5*time.Minute, "the period of each account's sync passes")
	shutdown := fs.Duration("shutdown-timeout", 10*time.Second, "how long requests in flight may take at a stop")
	logLevel := fs.String("log-level", "info", "the least important logs written: debug (every sync pass too), info, warn or error")
	replica := fs.String("replica", "", "this replica's name in the database (default: host name, pid and a random suffix)")
	if _, err := c.parse(cmd, fs, args, 0, 0); err != nil {
		return err
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return usageError("serve: --log-level %q: want debug, info, warn or error", *logLevel)
	}
	cfg := serve.Config{
		DB: *db, Listen: *listen, PublicURL: *public,
		BaseURL:  c.getenv("BOOKINGSYNC_BASE_URL"),
		ClientID: c.getenv("BOOKINGSYNC_CLIENT_ID"), ClientSecret: c.getenv("BOOKINGSYNC_CLIENT_SECRET"),
		WebhookSecret: c.getenv("BOOKINGSYNC_WEBHOOK_SECRET"),
		SessionKey:    c.getenv("BOOKINGSYNC_SESSION_KEY"), SealKey: c.getenv("BOOKINGSYNC_SEAL_KEY"),
		Every: *every, ShutdownTimeout: *shutdown, Replica: *replica,
		Logger: slog.New(slog.NewJSONHandler(c.stderr, &slog.HandlerOptions{Level: level})),
	}
	if err := cfg.Check(); err != nil {
		// One line, and no usage text: the command line was fine.
		return &exitErr{code: exitError, kind: "config", err: err}
	}
	return serve.Run(ctx, cfg, func(addr string) {
		fmt.Fprintf(c.stdout, "listening on http://%s\n", addr)
	})
}
