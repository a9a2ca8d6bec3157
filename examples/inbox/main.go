// Command inbox walks through what a property manager's backend does with
// the guest conversations that channel bookings create:
//
//  1. list the open conversations, with their participants sideloaded, the
//     channel each came from, and its last message;
//  2. add one of the account's hosts to each of them (reusing the Host
//     participant when there is one already);
//  3. reply, as that host, in the conversation whose guest spoke last;
//  4. mark it read;
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

// row is what the walkthrough learns about one open conversation.
type row struct {
	conv   *bookingsync.Conversation
	origin *bookingsync.Origin
	last   *bookingsync.Message
	host   *bookingsync.Participant // the chosen host's participant, once ensured
	added  bool
}

func run(ctx context.Context, out io.Writer, client *bookingsync.Client, cfg config, counter *countingTransport) error {
	// 1. Open conversations, participants sideloaded in the same requests.
	var rows []*row
	opts := &bookingsync.ConversationListOptions{Include: []string{"participants"}}
	for conv, err := range client.Conversations.All(ctx, opts) {
		if err != nil {
			return fmt.Errorf("listing conversations: %w", err)
		}
		if conv.IsClosed() {
			continue
		}
		// The channel the conversation came from: one request per distinct
		// application, whatever the number of conversations.
		origin, err := client.Conversations.Origin(ctx, conv)
		if err != nil {
			return fmt.Errorf("origin of conversation %d: %w", conv.ID, err)
		}
		rows = append(rows, &row{conv: conv, origin: origin})
	}

	// Their last messages, all in one request.
	var lastIDs []int64
	for _, r := range rows {
		if n := len(r.conv.Links.Messages); n > 0 {
			lastIDs = append(lastIDs, maxID(r.conv.Links.Messages))
		}
	}
	msgs, _, err := client.Messages.GetMany(ctx, lastIDs)
	if err != nil {
		return fmt.Errorf("reading last messages: %w", err)
	}
	byConv := map[int64]*bookingsync.Message{}
	for _, m := range msgs {
		byConv[m.Links.Conversation] = m
	}

	fmt.Fprintf(out, "\nOpen conversations: %d\n", len(rows))
	for _, r := range rows {
		r.last = byConv[r.conv.ID]
		clients, hosts := 0, 0
		for _, p := range r.conv.Participants {
			if p.IsClient() {
				clients++
			} else if p.IsHost() {
				hosts++
			}
		}
		fmt.Fprintf(out, "  #%-4d %-12s %-34q %d guest(s), %d host(s)\n", r.conv.ID, orDash(string(r.origin.Channel)), r.conv.Subject, clients, hosts)
		if r.last != nil {
			fmt.Fprintf(out, "         last: %s %q\n", who(r.conv, r.last), shorten(r.last.Content, 60))
		}
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
	if !cfg.write {
		fmt.Fprintf(out, "Writes are off: would add host #%d to %d conversation(s) and reply where the guest spoke last.\n", host.ID, len(rows))
		return report(out, client, rows, 0, counter)
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

	// 3. Reply where the guest spoke last, most recent first. The host's
	// participant is known, so Messages.Create sends without another read.
	target := awaitingReply(rows)
	if target == nil {
		fmt.Fprintln(out, "\nNo guest is waiting for a reply.")
		return report(out, client, rows, 0, counter)
	}
	msg, _, err := client.Messages.Create(ctx, &bookingsync.NewMessage{
		ConversationID: target.conv.ID,
		SenderID:       target.host.ID,
		Content:        cfg.reply,
		Origin:         bookingsync.OriginBookingSyncInbox,
		Visibility:     bookingsync.VisibilityExternal,
	})
	if err != nil {
		return fmt.Errorf("replying in conversation %d: %w", target.conv.ID, err)
	}
	fmt.Fprintf(out, "\nReplied in #%d as host #%d: message #%d %q\n", target.conv.ID, host.ID, msg.ID, shorten(msg.Content, 60))

	// 4. Mark the conversation read for the host.
	p, _, err := client.Participants.MarkRead(ctx, target.host.ID)
	if err != nil {
		return fmt.Errorf("marking read: %w", err)
	}
	fmt.Fprintf(out, "Marked #%d read for host #%d (read at %s)\n", target.conv.ID, host.ID, formatTime(p.ReadAt))
	return report(out, client, rows, added, counter)
}

// report prints the summary: conversations by channel, what was written,
// and the requests spent of the hour's budget.
func report(out io.Writer, client *bookingsync.Client, rows []*row, added int, counter *countingTransport) error {
	byChannel := map[string]int{}
	for _, r := range rows {
		byChannel[orDash(string(r.origin.Channel))]++
	}
	channels := make([]string, 0, len(byChannel))
	for ch, n := range byChannel {
		channels = append(channels, fmt.Sprintf("%s %d", ch, n))
	}
	sort.Strings(channels)
	rate := client.Rate()
	fmt.Fprintf(out, "\nReport: %d open conversation(s) (%s); %d host participant(s) added; %d request(s) made; rate budget %d of %d left.\n",
		len(rows), strings.Join(channels, ", "), added, counter.n.Load(), rate.Remaining, rate.Limit)
	return nil
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

// awaitingReply is the conversation, most recent first, whose last message
// came from the guest.
func awaitingReply(rows []*row) *row {
	var best *row
	for _, r := range rows {
		if r.last == nil || r.last.Links.Sender == nil || !isClient(r.conv, *r.last.Links.Sender) {
			continue
		}
		if best == nil || r.last.CreatedAt.After(best.last.CreatedAt) {
			best = r
		}
	}
	return best
}

func isClient(c *bookingsync.Conversation, participantID int64) bool {
	for _, p := range c.Participants {
		if p.ID == participantID {
			return p.IsClient()
		}
	}
	return false
}

func hasHost(c *bookingsync.Conversation, hostID int64) bool {
	for _, p := range c.Participants {
		if p.IsHost() && p.Links.Member.ID == hostID {
			return true
		}
	}
	return false
}

func who(c *bookingsync.Conversation, m *bookingsync.Message) string {
	if m.Links.Sender != nil && isClient(c, *m.Links.Sender) {
		return "guest"
	}
	return "host"
}

func maxID(ids []int64) int64 {
	m := ids[0]
	for _, id := range ids[1:] {
		m = max(m, id)
	}
	return m
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
