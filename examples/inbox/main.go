// Command inbox walks through what a property manager's backend does with
// the guest conversations that channel bookings create:
//
//  1. list the open conversations, with their participants and messages
//     sideloaded, and print each as "guest name — rental — channel — last
//     message" (client.Directory reads the guests, bookings, rentals and
//     channel applications of them all, one GetMany per resource);
//  2. add one of the account's hosts to each of them (reusing the Host
//     participant when there is one already);
//  3. reply, as that host, in every conversation whose guest spoke last;
//  4. mark each of those read;
//  5. print a short report, with the requests it took.
//
// Without BOOKINGSYNC_TOKEN it starts the in-memory BookingSync server from
// bookingsynctest and runs against it. With BOOKINGSYNC_TOKEN (and
// optionally BOOKINGSYNC_BASE_URL) it runs against a real or sandbox
// account, and then only reads unless -write is given: the reply reaches a
// real guest.
//
//	go run ./examples/inbox
//	BOOKINGSYNC_TOKEN=… go run ./examples/inbox -host 123 -write
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-bookingsync/bookingsync"
	"github.com/go-bookingsync/bookingsync/bookingsynctest"
)

// config is what the walkthrough needs besides the client.
type config struct {
	hostID int64  // the host to add and reply as; 0 picks the account's first
	write  bool   // add hosts, reply and mark read; otherwise only say what would be done
	reply  string // the reply's text
}

func main() {
	hostID := flag.Int64("host", 0, "id of the host to add and reply as (default: the account's first host)")
	write := flag.Bool("write", false, "with a real account: add hosts, reply and mark read (the reply reaches the guest)")
	reply := flag.String("reply", "Thank you for your message! We look forward to welcoming you.", "the reply's text")
	flag.Parse()

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cfg := config{hostID: *hostID, write: *write, reply: *reply}
	if err := start(ctx, os.Stdout, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "inbox:", err)
		os.Exit(1)
	}
}

// start picks the account: the in-memory server, or the one the
// environment names.
func start(ctx context.Context, out io.Writer, cfg config) error {
	counter := &countingTransport{next: http.DefaultTransport}
	opts := []bookingsync.Option{bookingsync.WithHTTPClient(&http.Client{Transport: counter, Timeout: 30 * time.Second})}

	if token := os.Getenv("BOOKINGSYNC_TOKEN"); token != "" {
		base := os.Getenv("BOOKINGSYNC_BASE_URL")
		if base == "" {
			base = bookingsync.DefaultBaseURL
		}
		fmt.Fprintf(out, "Running against %s (writes %s).\n", base, map[bool]string{true: "on", false: "off: pass -write to add hosts and reply"}[cfg.write])
		opts = append(opts, bookingsync.WithBaseURL(base), bookingsync.WithToken(token))
	} else {
		srv := bookingsynctest.NewServer()
		defer srv.Close()
		fmt.Fprintln(out, "No BOOKINGSYNC_TOKEN: running against the in-memory BookingSync server (bookingsynctest).")
		opts = append(opts, bookingsync.WithBaseURL(srv.URL), bookingsync.WithToken(srv.Token()))
		cfg.write = true
	}
	client, err := bookingsync.NewClient(opts...)
	if err != nil {
		return err
	}
	return run(ctx, out, client, cfg, counter)
}

// row is one open conversation and the host participant chosen for it.
type row struct {
	conv  *bookingsync.Conversation
	host  *bookingsync.Participant // the chosen host's participant, once ensured
	added bool
}

func run(ctx context.Context, out io.Writer, client *bookingsync.Client, cfg config, counter *countingTransport) error {
	// 1. The open conversations, with their participants and messages
	// sideloaded: one request per page, and no request later for either.
	// (Where conversations have long histories, leave "messages" out:
	// Directory then reads the last messages in one GetMany.)
	var rows []*row
	var convs []*bookingsync.Conversation
	opts := &bookingsync.ConversationListOptions{Include: []string{"participants", "messages"}}
	for conv, err := range client.Conversations.All(ctx, opts) {
		if err != nil {
			return fmt.Errorf("listing conversations: %w", err)
		}
		if conv.IsClosed() {
			continue
		}
		rows = append(rows, &row{conv: conv})
		convs = append(convs, conv)
	}

	// Who and where: the guests, bookings, rentals and channel
	// applications of all of them, one GetMany per resource whatever the
	// number of conversations.
	dir, err := client.Directory(ctx, convs)
	switch {
	case errors.Is(err, bookingsync.ErrForbidden):
		// The token lacks a scope (the error names it): show what it may
		// read, with a dash for the rest.
		fmt.Fprintf(out, "\nSome names are missing: %v\n", err)
	case err != nil:
		return fmt.Errorf("resolving guests, rentals and channels: %w", err)
	}

	fmt.Fprintf(out, "\nOpen conversations: %d\n", len(rows))
	for _, r := range rows {
		// guest name — rental — channel — last message
		fmt.Fprintf(out, "  #%-4d %s — %s — %s — %s\n", r.conv.ID,
			orDash(dir.Guest(r.conv).Name()), orDash(rentalName(dir.Rental(r.conv))),
			orDash(string(dir.Channel(r.conv))), lastLine(dir, r.conv))
	}
	if len(rows) == 0 {
		fmt.Fprintln(out, "Nothing to do.")
		return nil
	}

	// 2. The host to add: the one asked for, or the account's first.
	host, err := pickHost(ctx, client, cfg.hostID)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "\nHost: #%d %s %s\n", host.ID, host.Firstname, host.Lastname)
	waiting := 0
	for _, r := range rows {
		if dir.GuestSpokeLast(r.conv) {
			waiting++
		}
	}
	if !cfg.write {
		fmt.Fprintf(out, "Writes are off: would add host #%d to %d conversation(s) and reply in the %d where the guest spoke last.\n", host.ID, len(rows), waiting)
		return report(out, client, dir, rows, 0, 0, counter)
	}
	added := 0
	for _, r := range rows {
		had := hasHost(r.conv, host.ID)
		// The participants came sideloaded with the listing, so this reads
		// nothing and only adds the host where it is missing.
		p, err := client.Participants.EnsureHostFor(ctx, r.conv, host.ID)
		if err != nil {
			return fmt.Errorf("adding host to conversation %d: %w", r.conv.ID, err)
		}
		r.host, r.added = p, !had
		if r.added {
			added++
		}
		fmt.Fprintf(out, "  #%-4d host participant #%d %s\n", r.conv.ID, p.ID, map[bool]string{true: "added", false: "already there"}[r.added])
	}

	// 3. Reply in every conversation whose guest spoke last, as that host,
	// and 4. mark it read. The host's participant is known, so
	// Messages.Create sends without another read.
	replied := 0
	for _, r := range rows {
		if !dir.GuestSpokeLast(r.conv) {
			continue
		}
		msg, _, err := client.Messages.Create(ctx, &bookingsync.NewMessage{
			ConversationID: r.conv.ID,
			SenderID:       r.host.ID,
			Content:        cfg.reply,
			Origin:         bookingsync.OriginBookingSyncInbox,
			Visibility:     bookingsync.VisibilityExternal,
		})
		if err != nil {
			return fmt.Errorf("replying in conversation %d: %w", r.conv.ID, err)
		}
		replied++
		fmt.Fprintf(out, "\nReplied in #%d to %s as host #%d: message #%d %q\n", r.conv.ID, orDash(dir.Guest(r.conv).Name()), host.ID, msg.ID, shorten(msg.Content, 60))
		p, _, err := client.Participants.MarkRead(ctx, r.host.ID)
		if err != nil {
			return fmt.Errorf("marking conversation %d read: %w", r.conv.ID, err)
		}
		fmt.Fprintf(out, "Marked #%d read for host #%d (read at %s)\n", r.conv.ID, host.ID, formatTime(p.ReadAt))
	}
	if replied == 0 {
		fmt.Fprintln(out, "\nNo guest is waiting for a reply.")
	}
	return report(out, client, dir, rows, added, replied, counter)
}

// report prints the summary: conversations by channel, what was written,
// and the requests spent of the hour's budget.
func report(out io.Writer, client *bookingsync.Client, dir *bookingsync.Directory, rows []*row, added, replied int, counter *countingTransport) error {
	byChannel := map[string]int{}
	for _, r := range rows {
		byChannel[orDash(string(dir.Channel(r.conv)))]++
	}
	channels := make([]string, 0, len(byChannel))
	for ch, n := range byChannel {
		channels = append(channels, fmt.Sprintf("%s %d", ch, n))
	}
	sort.Strings(channels)
	rate := client.Rate()
	fmt.Fprintf(out, "\nReport: %d open conversation(s) (%s); %d host participant(s) added; %d repl(ies) sent; %d request(s) made; rate budget %d of %d left.\n",
		len(rows), strings.Join(channels, ", "), added, replied, counter.n.Load(), rate.Remaining, rate.Limit)
	return nil
}

// lastLine is the conversation's last message as "guest: “text”".
func lastLine(dir *bookingsync.Directory, c *bookingsync.Conversation) string {
	m := dir.LastMessage(c)
	if m == nil {
		return "no message yet"
	}
	who := "host"
	if p := dir.Sender(c, m); p != nil && p.IsClient() {
		who = "guest"
	}
	return fmt.Sprintf("%s: %q", who, shorten(m.Content, 60))
}

func rentalName(r *bookingsync.Rental) string {
	if r == nil {
		return ""
	}
	return r.Name
}

func pickHost(ctx context.Context, client *bookingsync.Client, id int64) (*bookingsync.Host, error) {
	if id != 0 {
		h, _, err := client.Hosts.Get(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("host %d: %w", id, err)
		}
		return h, nil
	}
	hosts, _, err := client.Hosts.List(ctx, &bookingsync.ListOptions{PerPage: 1})
	if err != nil {
		return nil, fmt.Errorf("listing hosts: %w", err)
	}
	if len(hosts) == 0 {
		return nil, errors.New("the account has no hosts: create one with client.Hosts.Create")
	}
	return hosts[0], nil
}

func hasHost(c *bookingsync.Conversation, hostID int64) bool {
	for _, p := range c.Participants {
		if p.IsHost() && p.Links.Member.ID == hostID {
			return true
		}
	}
	return false
}

func shorten(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func formatTime(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

// countingTransport counts the requests that reach the network.
type countingTransport struct {
	next http.RoundTripper
	n    atomic.Int64
}

func (t *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	t.n.Add(1)
	return t.next.RoundTrip(r)
}
