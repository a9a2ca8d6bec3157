// Command sync keeps a local copy of an account's Inbox conversations up to
// date with incremental syncs: each round asks only for what changed since
// the cursor the server handed back last time (see docs/sync.md).
//
// Without BOOKINGSYNC_TOKEN it runs against an in-memory BookingSync server
// (bookingsynctest) and changes a few conversations between rounds, so the
// second round shows exactly those changes. With a token (and optionally
// BOOKINGSYNC_BASE_URL) it syncs the real account:
//
//	go run ./examples/sync                              # no account needed
//	BOOKINGSYNC_TOKEN=... go run ./examples/sync -rounds 3 -every 1m
package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"time"

	"github.com/go-bookingsync/bookingsync"
	"github.com/go-bookingsync/bookingsync/bookingsynctest"
)

// config is what main reads from the environment and the flags.
type config struct {
	token   string // BOOKINGSYNC_TOKEN; never printed
	baseURL string // BOOKINGSYNC_BASE_URL, default bookingsync.DefaultBaseURL
	demo    *demo  // the in-memory server, when there is no token

	state  string        // the file holding the cursor and the local copy
	rounds int           // how many sync rounds to run
	every  time.Duration // the pause between rounds
}

func main() {
	cfg := config{
		token:   os.Getenv("BOOKINGSYNC_TOKEN"),
		baseURL: cmp.Or(os.Getenv("BOOKINGSYNC_BASE_URL"), bookingsync.DefaultBaseURL),
	}
	flag.StringVar(&cfg.state, "state", "", "state file (default: bookingsync-sync.json in the temp dir)")
	flag.IntVar(&cfg.rounds, "rounds", 2, "number of sync rounds")
	flag.DurationVar(&cfg.every, "every", 30*time.Second, "pause between rounds")
	flag.Parse()
	if cfg.token == "" {
		cfg.demo = newDemo()
		defer cfg.demo.srv.Close()
	}
	if cfg.state == "" {
		name := "bookingsync-sync.json"
		if cfg.demo != nil {
			name = "bookingsynctest-sync.json" // never mix the fake's ids with an account's
		}
		cfg.state = filepath.Join(os.TempDir(), name)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Stdout, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "sync:", err)
		os.Exit(1)
	}
}

// firstCursor is where a first sync starts: a date before any account
// existed. A zero cursor would list everything as well (the API sends its
// cursor on every response); a date keeps updated_since on every request.
var firstCursor = time.Date(2010, 1, 1, 0, 0, 0, 0, time.UTC)

// state is the local copy and the cursor it is consistent with. They are
// saved together, after the changes are applied: a crash between two rounds
// then repeats a round instead of losing one.
type state struct {
	Cursor        time.Time        `json:"cursor"`
	Conversations map[int64]string `json:"conversations"` // id -> subject
}

func run(ctx context.Context, out io.Writer, cfg config) error {
	client, err := connect(out, cfg)
	if err != nil {
		return err
	}
	if cfg.demo != nil {
		// A new in-memory server is a new account: start from scratch.
		if err := os.Remove(cfg.state); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	st, err := load(cfg.state)
	if err != nil {
		return err
	}
	for round := 1; round <= cfg.rounds; round++ {
		if round > 1 {
			if err := pause(ctx, cfg, out); err != nil {
				return err
			}
		}
		res, err := bookingsync.SyncAll(ctx, st.Cursor, nil, client.Conversations.List)
		if err != nil {
			return fmt.Errorf("round %d: %w (cursor kept)", round, err)
		}
		// Upserts first, then deletions: a record changed and then deleted
		// since the cursor must end up deleted.
		changed := make([]int64, 0, len(res.Items))
		for _, c := range res.Items {
			st.Conversations[c.ID] = c.Subject
			changed = append(changed, c.ID)
		}
		for _, id := range res.DeletedIDs {
			delete(st.Conversations, id)
		}
		// No X-Updated-Since-Request-Synced-At header: keep the old cursor.
		if !res.SyncedAt.IsZero() {
			st.Cursor = res.SyncedAt
		}
		if err := save(cfg.state, st); err != nil {
			return err
		}
		fmt.Fprintf(out, "round %d: %d changed %v, deleted %v, cursor %s, %d held locally\n",
			round, len(changed), changed, res.DeletedIDs, st.Cursor.Format(time.RFC3339), len(st.Conversations))
	}
	return nil
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

// pause waits between rounds. Against the in-memory server nobody else
// changes anything and waiting is pointless, so it moves the server's clock
// instead and makes a few changes for the next round to find.
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

// load reads the state file; a missing file is a first run.
func load(path string) (*state, error) {
	st := &state{Cursor: firstCursor, Conversations: map[int64]string{}}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, st); err != nil {
		return nil, fmt.Errorf("state file %s: %w", path, err)
	}
	return st, nil
}

// save replaces the state file atomically: write a temporary file next to
// it, then rename it over the old one.
func save(path string, st *state) error {
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
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
	// appears two seconds after the start. Round 2 then shows only the
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

// change does what guests and channels do between two syncs: a new
// conversation arrives, one is updated, one is deleted.
func (d *demo) change(out io.Writer) {
	id := d.srv.AddConversation(bookingsynctest.ConversationSeed{Subject: "Late check-in?", ApplicationID: bookingsynctest.AirbnbAppID})
	d.srv.Touch("conversations", bookingsynctest.BookingComConversationID)
	d.srv.DeleteConversation(bookingsynctest.ClosedConversationID)
	fmt.Fprintf(out, "meanwhile: conversation %d created, %d updated, %d deleted\n",
		id, bookingsynctest.BookingComConversationID, bookingsynctest.ClosedConversationID)
}
