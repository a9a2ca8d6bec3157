package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/go-bookingsync/bookingsync"
	"github.com/go-bookingsync/bookingsync/inboxsync"
)

var syncCommand = &command{
	name:    "sync",
	args:    "--db DSN [--watch EVERY] [--account ID] [--json]",
	summary: "Mirror the account's Inbox into a database (inboxsync)",
	help: `Runs inboxsync passes: once, or with --watch every EVERY until
interrupted. DSN is sqlite:/path/inbox.db or postgres://…. Each pass
prints one line; the first pass draws a progress bar (pages and records)
on stderr when stderr is a terminal. With --watch a failed pass is
reported on stderr and the next one comes at the next tick.`,
	run: runSync,
}

// passLine is the --json form of a pass: one JSON object per line.
type passLine struct {
	Pass      int            `json:"pass"`
	AccountID int64          `json:"account_id"`
	Changed   int            `json:"changed"`
	Requests  int            `json:"requests"`
	Seconds   float64        `json:"seconds"`
	Resources []resourceLine `json:"resources"`
	Error     string         `json:"error,omitempty"`
}

// resourceLine is what a pass did to one resource.
type resourceLine struct {
	Resource string `json:"resource"`
	Pages    int    `json:"pages"`
	Upserted int    `json:"upserted"`
	Deleted  int    `json:"deleted"`
	Advanced bool   `json:"advanced"` // the walk completed and moved the cursor
	Skipped  bool   `json:"skipped"`  // another syncer held the resource
}

func runSync(ctx context.Context, c *cli, cmd *command, args []string) error {
	fs := flags(cmd)
	dsn := fs.String("db", "", "the database: sqlite:/path/inbox.db or postgres://… (required)")
	watch := fs.Duration("watch", 0, "sync again every EVERY until interrupted (0: once)")
	account := fs.Int64("account", 0, "the account the token acts for (default: asked of the API, GET /me)")
	asJSON := fs.Bool("json", false, "one JSON object per pass")
	reserve := fs.Float64("rate-reserve", 0.1, "share of the hourly rate limit left to other clients: a pass waits for the reset rather than spend it (0 spends everything)")
	if _, err := c.parse(cmd, fs, args, 0, 0); err != nil {
		return err
	}
	if *dsn == "" {
		return usageError("sync: --db DSN is required")
	}
	if *watch < 0 {
		return usageError("sync: --watch wants a positive duration")
	}
	st, err := openStore(ctx, *dsn)
	if err != nil {
		return fmt.Errorf("sync: %w", err)
	}
	defer st.Close()
	if *reserve < 0 || *reserve >= 1 {
		return usageError("sync: --rate-reserve wants a share in [0, 1)")
	}
	bar := &progress{w: c.stderr, on: c.stderrTTY, reserve: *reserve}
	hc := bookingsync.WithHTTPClient(&http.Client{Transport: &pageObserver{next: http.DefaultTransport, seen: bar.page, rate: bar.rate}})
	// The token: BOOKINGSYNC_TOKEN, else the one `login --db` installed in
	// this database, else the token file.
	var cl *bookingsync.Client
	if c.getenv("BOOKINGSYNC_TOKEN") == "" {
		id, ok, err := installedAccount(ctx, st, *account)
		if err != nil {
			return fmt.Errorf("sync: %w", err)
		}
		if ok {
			*account = id
			if cl, err = c.storeClient(ctx, st, id, hc); err != nil {
				return err
			}
		}
	}
	if cl == nil {
		if cl, err = c.client(ctx, hc); err != nil {
			return err
		}
	}
	if *account == 0 {
		if *account, err = accountOf(ctx, cl); err != nil {
			return err
		}
	}
	s := inboxsync.New(st, *account, cl, inboxsync.WithRateReserve(*reserve))
	for pass := 1; ; pass++ {
		start := time.Now()
		rep, err := s.Sync(ctx)
		bar.done()
		if ctx.Err() != nil {
			return nil // interrupted: what the pass wrote is consistent
		}
		line := passLine{Pass: pass, AccountID: *account, Seconds: time.Since(start).Seconds()}
		if rep != nil {
			line.Changed, line.Requests = rep.Changed(), rep.Requests
			for _, r := range rep.Resources {
				line.Resources = append(line.Resources, resourceLine{r.Resource, r.Pages, r.Upserted, r.Deleted, r.Advanced, r.Skipped})
			}
		}
		if err != nil {
			line.Error = err.Error()
		}
		if *asJSON {
			if err := writeJSONLine(c.stdout, line); err != nil {
				return err
			}
		} else {
			fmt.Fprintln(c.stdout, summary(line))
		}
		if err != nil {
			if *watch == 0 {
				return fmt.Errorf("sync: %w", err)
			}
			fmt.Fprintf(c.stderr, "bookingsync: error: sync: %s\n", oneLine(err.Error(), 500))
		}
		if *watch == 0 {
			return nil
		}
		bar.on = false // the bar is for the first pass only
		t := time.NewTimer(*watch)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

// summary is a pass in one line: "pass 1: account 1, 12 changed (hosts 2,
// conversations 4, …), 9 requests, 0.31s".
func summary(l passLine) string {
	var parts []string
	for _, r := range l.Resources {
		if n := r.Upserted + r.Deleted; n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", r.Resource, n))
		}
	}
	detail := ""
	if len(parts) > 0 {
		detail = " (" + strings.Join(parts, ", ") + ")"
	}
	status := ""
	if l.Error != "" {
		status = ", failed"
	}
	return fmt.Sprintf("pass %d: account %d, %d changed%s, %d requests, %.2fs%s", l.Pass, l.AccountID, l.Changed, detail, l.Requests, l.Seconds, status)
}

// accountOf asks the API which account the client's token acts for.
func accountOf(ctx context.Context, cl *bookingsync.Client) (int64, error) {
	me, _, err := cl.Me(ctx)
	if err != nil {
		return 0, fmt.Errorf("sync: asking which account the token acts for (or pass --account): %w", err)
	}
	if me.AccountID <= 0 {
		return 0, fmt.Errorf("sync: GET /me named no account; pass --account")
	}
	return me.AccountID, nil
}
