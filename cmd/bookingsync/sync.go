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
	help: `Runs inboxsync passes: once, or with --watch every EVERY (a Go duration:
30s, 5m, 1h) until interrupted. DSN is sqlite:/path/inbox.db or
postgres://…. The copy is filed under the account the token belongs to
(GET /me); --account naming another is refused (exit 3). Each pass prints
one line; the first pass draws a progress bar (pages and records) on
stderr when stderr is a terminal. With --watch a failed pass is reported
on stderr and the next one comes at the next tick, and SIGINT or SIGTERM
ends the watch (exit 0). A one-shot sync interrupted by SIGINT or SIGTERM
stops between pages, says what the copy kept, and exits 130 or 143.`,
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
	watch := durationFlag(fs, "watch", 0, "sync again every `duration` (a Go duration: 30s, 5m, 1h) until interrupted (0: once)")
	account := fs.Int64("account", 0, "the account to mirror; it must be the token's (default: the token's, asked of the API, GET /me)")
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
	if *reserve < 0 || *reserve >= 1 {
		return usageError("sync: --rate-reserve wants a share in [0, 1)")
	}
	st, err := c.openStore(ctx, "sync", *dsn)
	if err != nil {
		return err
	}
	defer st.Close()
	bar := &progress{w: c.stderr, on: c.stderrTTY, reserve: *reserve}
	opts := []bookingsync.Option{
		bookingsync.WithHTTPClient(&http.Client{Transport: &pageObserver{next: http.DefaultTransport, seen: bar.page, rate: bar.rate}}),
		// The note of a spent budget says the pass waits for the reset:
		// it does, for a 429 as for a budget the last answer said is
		// spent, for as long as the window can last (the signal ends
		// the wait sooner).
		bookingsync.WithRateLimitWait(rateWindowWait),
	}
	// The token: BOOKINGSYNC_TOKEN, else the one `login --db` installed in
	// this database, else the token file.
	var cl *bookingsync.Client
	if c.getenv("BOOKINGSYNC_TOKEN") == "" {
		id, ok, err := installedAccount(ctx, st, *account)
		if err != nil {
			return fmt.Errorf("sync: %w", err)
		}
		if ok {
			if cl, err = c.storeClient(ctx, st, id, opts...); err != nil {
				return err
			}
		}
	}
	if cl == nil {
		if cl, err = c.client(ctx, opts...); err != nil {
			return err
		}
	}
	// Before anything is written: the token's own account, which the
	// copy is filed under; another is refused.
	owner, err := accountOf(ctx, cl)
	if err != nil {
		return err
	}
	if *account != 0 && *account != owner {
		return authError("sync: the token belongs to account %d, not %d; nothing was written", owner, *account)
	}
	*account = owner
	s := inboxsync.New(st, *account, cl, inboxsync.WithRateReserve(*reserve), inboxsync.WithTokenAccount(owner))
	for pass := 1; ; pass++ {
		start := time.Now()
		rep, err := s.Sync(ctx)
		bar.done()
		line := passLine{Pass: pass, AccountID: *account, Seconds: time.Since(start).Seconds()}
		if rep != nil {
			line.Changed, line.Requests = rep.Changed(), rep.Requests
			for _, r := range rep.Resources {
				line.Resources = append(line.Resources, resourceLine{r.Resource, r.Pages, r.Upserted, r.Deleted, r.Advanced, r.Skipped})
			}
		}
		var in *interruption
		if err != nil {
			// A pass that completed before the signal mattered is
			// complete; one that failed after it was stopped by it.
			in = interruptedBy(ctx)
			line.Error = c.redact(err.Error())
			if in != nil {
				line.Error = in.Error()
			}
		}
		if *asJSON {
			if err := writeJSONLine(c.stdout, line); err != nil {
				return err
			}
		} else {
			fmt.Fprintln(c.stdout, summary(line))
		}
		if in != nil {
			// Each page was written whole, in its own transaction, and a
			// resource's cursor moves only with its last page: what was
			// written stays, and the next pass reads the rest.
			kept := &stopped{"sync stopped between pages; the copy keeps what was written" + changes(line) + ", and the next sync reads the rest"}
			if *watch != 0 {
				fmt.Fprintln(c.stderr, "bookingsync: "+in.Error()+": "+kept.what)
				return nil
			}
			return kept
		}
		if err != nil {
			if *watch == 0 {
				return fmt.Errorf("sync: %w", err)
			}
			fmt.Fprintf(c.stderr, "bookingsync: error: sync: %s\n", c.redact(oneLine(err.Error(), 500)))
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

// rateWindowWait bounds a request's wait for the rate limit: the longest a
// stated reset can lie ahead (the hour of the window, and a margin the SDK
// allows for clock skew).
const rateWindowWait = time.Hour + 15*time.Minute

// changes is a pass's changes for a sentence: " (12 changed: hosts 2,
// conversations 10)", or " (nothing changed)".
func changes(l passLine) string {
	if l.Changed == 0 {
		return " (nothing changed)"
	}
	return fmt.Sprintf(" (%d changed: %s)", l.Changed, strings.Join(changedParts(l), ", "))
}

// summary is a pass in one line: "pass 1: account 1, 12 changed (hosts 2,
// conversations 4, …), 9 requests, 0.31s", then ", failed" or
// ", interrupted" when it did not complete.
func summary(l passLine) string {
	status := ""
	switch {
	case strings.HasPrefix(l.Error, "interrupted"):
		status = ", interrupted"
	case l.Error != "":
		status = ", failed"
	}
	return fmt.Sprintf("pass %d: account %d, %d changed%s, %d requests, %.2fs%s", l.Pass, l.AccountID, l.Changed, detail(l), l.Requests, l.Seconds, status)
}

// detail is " (hosts 2, conversations 4)": the resources a pass changed.
func detail(l passLine) string {
	if parts := changedParts(l); len(parts) > 0 {
		return " (" + strings.Join(parts, ", ") + ")"
	}
	return ""
}

// changedParts are "hosts 2", "conversations 4": each resource a pass
// changed, and how many records.
func changedParts(l passLine) []string {
	var parts []string
	for _, r := range l.Resources {
		if n := r.Upserted + r.Deleted; n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", r.Resource, n))
		}
	}
	return parts
}

// accountOf asks the API which account the client's token acts for.
func accountOf(ctx context.Context, cl *bookingsync.Client) (int64, error) {
	me, _, err := cl.Me(ctx)
	if err != nil {
		return 0, fmt.Errorf("sync: asking which account the token acts for: %w", err)
	}
	if me.AccountID <= 0 {
		return 0, fmt.Errorf("sync: GET /me named no account for the token")
	}
	return me.AccountID, nil
}
