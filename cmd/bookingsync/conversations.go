package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-bookingsync/bookingsync"
)

var conversationsCommand = &command{
	name:    "conversations",
	args:    "[--all] [--json]",
	summary: "List the open conversations, most recent message first",
	help:    "Columns: id, channel (where it came from), guest, rental, last message,\nawaiting reply (open, and the guest wrote last).",
	run:     runConversations,
}

var showCommand = &command{
	name:    "show",
	args:    "[--json] ID",
	summary: "Show a conversation and its thread, oldest message first",
	run:     runShow,
}

var replyCommand = &command{
	name:    "reply",
	args:    "--host HOST [--internal] [--json] ID TEXT|-",
	summary: "Reply in a conversation as a host",
	help:    "Sends TEXT through Messages.SendAsHost: the host gets a participant in the\nconversation when it has none. TEXT '-' reads the message from stdin.",
	run:     runReply,
}

func runConversations(ctx context.Context, c *cli, cmd *command, args []string) error {
	fs := flags(cmd)
	all := fs.Bool("all", false, "closed conversations too")
	asJSON := fs.Bool("json", false, "write JSON for scripts")
	if _, err := c.parse(cmd, fs, args, 0, 0); err != nil {
		return err
	}
	cl, err := c.client(ctx)
	if err != nil {
		return err
	}
	var convs []*bookingsync.Conversation
	for conv, err := range cl.Conversations.All(ctx, &bookingsync.ConversationListOptions{Include: []string{"participants"}}) {
		if err != nil {
			return err
		}
		if *all || !conv.IsClosed() {
			convs = append(convs, conv)
		}
	}
	in := &inbox{cl: cl, c: c}
	views, err := in.views(ctx, convs, false)
	if err != nil {
		return err
	}
	// Most recent message first, as an inbox reads.
	slices.SortStableFunc(views, func(a, b *conversationView) int {
		return cmp.Or(lastAt(b).Compare(lastAt(a)), cmp.Compare(b.ID, a.ID))
	})
	if *asJSON {
		return writeJSON(c.stdout, views)
	}
	now := time.Now()
	rows := make([][]string, 0, len(views))
	for _, v := range views {
		last := "-"
		if m := v.LastMessage; m != nil {
			last = ago(now, *m.SentAt) + "  " + oneLine(m.Content, 40)
		}
		awaiting := "no"
		if v.AwaitingReply {
			awaiting = "yes"
		}
		rows = append(rows, []string{strconv.FormatInt(v.ID, 10), cmp.Or(v.Channel, "-"), v.Guest.label("client"), v.Rental.label("rental"), last, awaiting})
	}
	return table(c.stdout, []string{"ID", "CHANNEL", "GUEST", "RENTAL", "LAST MESSAGE", "AWAITING REPLY"}, rows)
}

func lastAt(v *conversationView) time.Time {
	if v.LastMessage == nil {
		return time.Time{}
	}
	return *v.LastMessage.SentAt
}

// conversationID parses a conversation id argument.
func conversationID(cmd *command, s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, usageError("%s: %q is not a conversation id", cmd.name, s)
	}
	return id, nil
}

func runShow(ctx context.Context, c *cli, cmd *command, args []string) error {
	fs := flags(cmd)
	asJSON := fs.Bool("json", false, "write JSON for scripts")
	pos, err := c.parse(cmd, fs, args, 1, 1)
	if err != nil {
		return err
	}
	id, err := conversationID(cmd, pos[0])
	if err != nil {
		return err
	}
	cl, err := c.client(ctx)
	if err != nil {
		return err
	}
	conv, _, err := cl.Conversations.GetWith(ctx, id, &bookingsync.ConversationGetOptions{Include: []string{"participants", "messages"}})
	if err != nil {
		return fmt.Errorf("conversation %d: %w", id, err)
	}
	in := &inbox{cl: cl, c: c}
	views, err := in.views(ctx, []*bookingsync.Conversation{conv}, true)
	if err != nil {
		return err
	}
	v := views[0]
	if *asJSON {
		return writeJSON(c.stdout, v)
	}
	return printThread(c.stdout, v)
}

// printThread writes a conversation's header and its messages.
func printThread(w io.Writer, v *conversationView) error {
	status := "open"
	switch {
	case v.Closed:
		status = "closed"
	case v.AwaitingReply:
		status = "open, awaiting reply"
	}
	booking := "-"
	if v.BookingID != nil {
		booking = strconv.FormatInt(*v.BookingID, 10)
	}
	fmt.Fprintf(w, "Conversation %d: %s\n", v.ID, v.Subject)
	if err := table(w, nil, [][]string{
		{"Channel:", cmp.Or(v.Channel, "-")},
		{"Guest:", v.Guest.label("client")},
		{"Rental:", v.Rental.label("rental")},
		{"Booking:", booking},
		{"Status:", status},
	}); err != nil {
		return err
	}
	for _, m := range v.Messages {
		who := m.From
		if m.Sender != nil {
			kind := map[string]string{"guest": "client", "host": "host"}[m.From]
			who = m.From + " (" + m.Sender.label(kind) + ")"
		}
		if m.Visibility == string(bookingsync.VisibilityInternal) {
			who += ", internal note"
		}
		fmt.Fprintf(w, "\n%s  %s\n", stamp(*m.SentAt), who)
		for _, line := range strings.Split(strings.TrimRight(m.Content, "\n"), "\n") {
			fmt.Fprintf(w, "  %s\n", line)
		}
	}
	return nil
}

func runReply(ctx context.Context, c *cli, cmd *command, args []string) error {
	fs := flags(cmd)
	host := fs.Int64("host", 0, "the host replying (a host id; required)")
	internal := fs.Bool("internal", false, "an internal note the guest does not see")
	asJSON := fs.Bool("json", false, "write the sent message as JSON")
	pos, err := c.parse(cmd, fs, args, 2, 2)
	if err != nil {
		return err
	}
	id, err := conversationID(cmd, pos[0])
	if err != nil {
		return err
	}
	if *host <= 0 {
		return usageError("reply: --host HOST is required (a host id)")
	}
	text := pos[1]
	if text == "-" {
		// One byte past the limit tells a text over it from one at it.
		b, err := io.ReadAll(io.LimitReader(c.stdin, maxReply+1))
		if err != nil {
			return fmt.Errorf("reply: reading the message from stdin: %w", err)
		}
		// Only the newline that ends the last line of a file or a heredoc
		// is not the guest's to read; the rest is sent as it is.
		text = strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
	}
	switch {
	case len(text) > maxReply:
		return usageError("reply: the message is over %d bytes (1 MiB); nothing was sent", maxReply)
	case !utf8.ValidString(text):
		return usageError("reply: the message is not UTF-8 text (convert it first, e.g. iconv -f latin1 -t utf-8); nothing was sent")
	case strings.TrimSpace(text) == "":
		return usageError("reply: the message is empty")
	}
	cl, err := c.client(ctx)
	if err != nil {
		return err
	}
	m := &bookingsync.NewMessage{Content: text}
	if *internal {
		m.Visibility = bookingsync.VisibilityInternal
	}
	msg, err := cl.Messages.SendAsHost(ctx, id, *host, m)
	if err != nil {
		return fmt.Errorf("conversation %d: %w", id, err)
	}
	if *asJSON {
		t := sentAt(msg)
		return writeJSON(c.stdout, &replyView{ConversationID: id, messageView: messageView{ID: msg.ID, SentAt: &t, From: "host",
			Sender: &ref{ID: *host}, Content: msg.Content, Visibility: string(msg.Visibility), Channel: string(msg.Channel)}})
	}
	fmt.Fprintf(c.stdout, "sent message %d in conversation %d\n", msg.ID, id)
	return nil
}

// maxReply is the longest text reply sends: longer is refused, not cut.
const maxReply = 1 << 20

// replyView is what reply --json writes: the message as show writes one,
// and its conversation.
type replyView struct {
	ConversationID int64 `json:"conversation_id"`
	messageView
}
