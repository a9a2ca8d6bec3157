// Command sync keeps a local copy of an account's Inbox in a database with
// inboxsync: a first pass copies everything, later passes ask only for
// what changed since the cursor the server handed back, and each pass
// prints what it changed. The copy is SQLite by default; give a Postgres
// DSN to share it between replicas.
//
// Without BOOKINGSYNC_TOKEN it runs against an in-memory BookingSync server
// (bookingsynctest) and changes a few records between passes, so the
// second pass shows exactly those changes. With a token (and optionally
// BOOKINGSYNC_BASE_URL) it syncs the real account, whose id -account names:
//
//	go run ./examples/sync                                   # no account needed
//	BOOKINGSYNC_TOKEN=... go run ./examples/sync -account 1234 -passes 3 -every 1m
//	go run ./examples/sync -db 'postgres://postgres@127.0.0.1:5432/inbox?sslmode=disable'
package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/go-bookingsync/bookingsync"
	"github.com/go-bookingsync/bookingsync/bookingsynctest"
	"github.com/go-bookingsync/bookingsync/inboxsync"
)

// config is what main reads from the environment and the flags.
type config struct {
	token   string // BOOKINGSYNC_TOKEN; never printed
	baseURL string // BOOKINGSYNC_BASE_URL, default bookingsync.DefaultBaseURL
	demo    *demo  // the in-memory server, when there is no token

	dsn     string        // the local copy
	account int64         // the account the token acts for
	passes  int           // how many passes to run
	every   time.Duration // the pause between passes
}

func main() {
	cfg := config{
		token:   os.Getenv("BOOKINGSYNC_TOKEN"),
		baseURL: cmp.Or(os.Getenv("BOOKINGSYNC_BASE_URL"), bookingsync.DefaultBaseURL),
	}
	flag.StringVar(&cfg.dsn, "db", "", `the local copy: "sqlite:/path" or "postgres://…" (default: SQLite in the temp dir)`)
	flag.Int64Var(&cfg.account, "account", 0, "the id of the account the token acts for (required with BOOKINGSYNC_TOKEN)")
	flag.IntVar(&cfg.passes, "passes", 2, "number of passes")
	flag.DurationVar(&cfg.every, "every", 30*time.Second, "pause between passes")
	flag.Parse()
	if cfg.token == "" {
		cfg.demo = newDemo()
		defer cfg.demo.srv.Close()
		cfg.account = bookingsynctest.AccountID
	} else if cfg.account == 0 {
		fmt.Fprintln(os.Stderr, "sync: -account is required with BOOKINGSYNC_TOKEN")
		os.Exit(2)
	}
	if cfg.dsn == "" {
		name := "bookingsync-inbox.db"
		if cfg.demo != nil {
			name = "bookingsynctest-inbox.db" // never mix the fake's ids with an account's
			// A new in-memory server is a new account: start afresh.
			for _, suffix := range []string{"", "-wal", "-shm"} {
				if err := os.Remove(filepath.Join(os.TempDir(), name+suffix)); err != nil && !errors.Is(err, fs.ErrNotExist) {
					fmt.Fprintln(os.Stderr, "sync:", err)
					os.Exit(1)
				}
			}
		}
		cfg.dsn = "sqlite:" + filepath.Join(os.TempDir(), name)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Stdout, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "sync:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, out io.Writer, cfg config) error {
	client, err := connect(out, cfg)
	if err != nil {
		return err
	}
	st, err := inboxsync.Open(ctx, cfg.dsn)
	if err != nil {
		return err
	}
	defer st.Close()
	syncer := inboxsync.New(st, cfg.account, client)

	for pass := 1; pass <= cfg.passes; pass++ {
		if pass > 1 {
			if err := pause(ctx, cfg, out); err != nil {
				return err
			}
		}
		rep, err := syncer.Sync(ctx)
		if err != nil {
			// Nothing wrong was written: the next pass resumes from the
			// cursors of the walks that completed.
			return fmt.Errorf("pass %d: %w", pass, err)
		}
		fmt.Fprintf(out, "pass %d: %d requests, %s\n", pass, rep.Requests, changes(rep))
		if err := summary(ctx, out, st, cfg.account); err != nil {
			return err
		}
	}
	return nil
}

// changes says what a pass wrote and removed, resource by resource.
func changes(rep *inboxsync.Report) string {
	var parts []string
	for _, r := range rep.Resources {
		if r.Upserted > 0 {
			parts = append(parts, fmt.Sprintf("%s +%d", r.Resource, r.Upserted))
		}
		if r.Deleted > 0 {
			parts = append(parts, fmt.Sprintf("%s -%d", r.Resource, r.Deleted))
		}
	}
	if len(parts) == 0 {
		return "nothing changed"
	}
	return strings.Join(parts, ", ")
}

// summary reads the local copy alone, as an application's pages would.
func summary(ctx context.Context, out io.Writer, st *inboxsync.Store, account int64) error {
	open, err := st.Conversations(ctx, account, inboxsync.ConversationQuery{Status: inboxsync.StatusOpen})
	if err != nil {
		return err
	}
	waiting, err := st.Conversations(ctx, account, inboxsync.ConversationQuery{Status: inboxsync.StatusOpen, AwaitingReply: true})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "  local copy: %d open conversations, %d awaiting a reply\n", len(open), len(waiting))
	for _, c := range waiting {
		msgs, err := st.Messages(ctx, account, c.ID)
		if err != nil {
			return err
		}
		last := ""
		if len(msgs) > 0 {
			last = msgs[len(msgs)-1].Content
		}
		fmt.Fprintf(out, "  - %d %q, %s: %q\n", c.ID, c.Subject, guestOf(ctx, st, account, c.ID), last)
	}
	return nil
}

// guestOf names the guest of a conversation from the copy: its Client
// participant's member is the guest (GET /clients needs clients_read;
// without it the name is unknown).
func guestOf(ctx context.Context, st *inboxsync.Store, account, conversationID int64) string {
	ps, err := st.Participants(ctx, account, conversationID)
	if err != nil {
		return "guest unknown"
	}
	for _, p := range ps {
		if p.IsClient() {
			if g, err := st.Guest(ctx, account, p.Links.Member.ID); err == nil && g.Name() != "" {
				return g.Name()
			}
		}
	}
	return "guest unknown"
}

// connect builds the client and says, on the first line, what it talks to.
func connect(out io.Writer, cfg config) (*bookingsync.Client, error) {
	token, base := cfg.token, cfg.baseURL
	if cfg.demo != nil {
		fmt.Fprintln(out, "No BOOKINGSYNC_TOKEN: running against the in-memory BookingSync server (bookingsynctest).")
		token, base = cfg.demo.srv.Token(), cfg.demo.srv.URL
	} else {
		fmt.Fprintf(out, "Running against %s\n", base)
	}
	return bookingsync.NewClient(bookingsync.WithToken(token), bookingsync.WithBaseURL(base))
}

// pause waits between passes. Against the in-memory server nobody else
// changes anything and waiting is pointless, so it moves the server's clock
// instead and makes a few changes for the next pass to find.
func pause(ctx context.Context, cfg config, out io.Writer) error {
	if d := cfg.demo; d != nil {
		d.advance(cfg.every)
		d.change(out)
		return nil
	}
	t := time.NewTimer(cfg.every)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// demo is the in-memory server with a clock of its own, which the example
// moves forward instead of sleeping.
type demo struct {
	srv *bookingsynctest.Server

	mu  sync.Mutex
	now time.Time
}

func newDemo() *demo {
	d := &demo{now: time.Now()}
	d.srv = bookingsynctest.NewServer(bookingsynctest.WithClock(d.clock))
	// Let the seeded account settle: its delayed Booking.com conversation
	// appears two seconds after the start. Pass 2 then shows only the
	// changes this program makes.
	d.advance(time.Minute)
	return d
}

func (d *demo) clock() time.Time {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.now
}

func (d *demo) advance(by time.Duration) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.now = d.now.Add(max(by, time.Second))
}

// change does what guests and channels do between two passes: a guest
// writes in a new conversation, one conversation is updated, one deleted.
func (d *demo) change(out io.Writer) {
	id := d.srv.AddConversation(bookingsynctest.ConversationSeed{Subject: "Late check-in?", ApplicationID: bookingsynctest.AirbnbAppID})
	parts := d.srv.AddParticipant(id, "Client", 41)
	d.srv.AddMessage(bookingsynctest.MessageSeed{ConversationID: id, SenderID: parts, Content: "Can we arrive at midnight?", Channel: "airbnb"})
	d.srv.Touch("conversations", bookingsynctest.BookingComConversationID)
	d.srv.DeleteConversation(bookingsynctest.ClosedConversationID)
	fmt.Fprintf(out, "meanwhile: conversation %d created with a guest message, %d updated, %d deleted\n",
		id, bookingsynctest.BookingComConversationID, bookingsynctest.ClosedConversationID)
}
