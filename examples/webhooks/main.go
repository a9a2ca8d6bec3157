// Command webhooks receives BookingSync webhooks: for every new Inbox
// conversation it re-reads the conversation, tells on which channel it
// lives and makes sure a host takes part in it.
//
// Without BOOKINGSYNC_TOKEN it runs against an in-memory BookingSync server
// (bookingsynctest), which delivers a signed inbox_conversation_created
// event twice (BookingSync may deliver an event more than once) and a forged
// one, then exits. With a token it listens until interrupted; the
// deliveries are signed with the application's client secret, given as
// BOOKINGSYNC_WEBHOOK_SECRET:
//
//	go run ./examples/webhooks                         # no account needed
//	BOOKINGSYNC_TOKEN=... BOOKINGSYNC_WEBHOOK_SECRET=... \
//	    go run ./examples/webhooks -addr 127.0.0.1:8080 -host 123
package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"time"

	"github.com/go-bookingsync/bookingsync"
	"github.com/go-bookingsync/bookingsync/bookingsynctest"
)

// config is what main reads from the environment and the flags.
type config struct {
	token   string                  // BOOKINGSYNC_TOKEN; never printed
	baseURL string                  // BOOKINGSYNC_BASE_URL, default bookingsync.DefaultBaseURL
	secret  string                  // BOOKINGSYNC_WEBHOOK_SECRET; never printed
	demo    *bookingsynctest.Server // the in-memory server, when there is no token

	addr      string        // where to listen for deliveries
	host      int64         // the host to add to new conversations
	listenFor time.Duration // stop after this long; 0: until interrupted
}

func main() {
	cfg := config{
		token:   os.Getenv("BOOKINGSYNC_TOKEN"),
		baseURL: cmp.Or(os.Getenv("BOOKINGSYNC_BASE_URL"), bookingsync.DefaultBaseURL),
		secret:  os.Getenv("BOOKINGSYNC_WEBHOOK_SECRET"),
	}
	flag.StringVar(&cfg.addr, "addr", "127.0.0.1:8080", "listen address (with an account)")
	flag.Int64Var(&cfg.host, "host", 0, fmt.Sprintf("host id to add to new conversations (required with an account; default %d, the in-memory server's host)", bookingsynctest.HostJanID))
	flag.DurationVar(&cfg.listenFor, "for", 0, "stop listening after this long (default: until interrupted)")
	flag.Parse()
	if cfg.token == "" {
		cfg.demo = bookingsynctest.NewServer()
		defer cfg.demo.Close()
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Stdout, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "webhooks:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, out io.Writer, cfg config) error {
	out = &lockedWriter{w: out} // deliveries may arrive concurrently
	client, err := connect(out, &cfg)
	if err != nil {
		return err
	}
	if cfg.secret == "" {
		return errors.New("set BOOKINGSYNC_WEBHOOK_SECRET to the application's client secret")
	}
	if cfg.host <= 0 {
		return errors.New("set -host to the id of the host to add to new conversations")
	}

	// The receiver: NewWebhookHandler checks the signature, then calls
	// handle; an error from handle answers 500 and BookingSync delivers
	// again later.
	r := &receiver{client: client, host: cfg.host, out: out}
	mux := http.NewServeMux()
	mux.Handle("POST /webhooks", bookingsync.NewWebhookHandler(cfg.secret, r.handle))
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(ln)
	defer hs.Close()
	url := "http://" + ln.Addr().String() + "/webhooks"

	if cfg.demo != nil {
		return deliverDemo(ctx, out, cfg.demo, url)
	}
	fmt.Fprintf(out, "Listening on %s (point the application's webhook URL there through a tunnel)\n", url)
	if cfg.listenFor > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, cfg.listenFor)
		defer cancel()
	}
	<-ctx.Done()
	return hs.Shutdown(context.Background()) // let deliveries in progress finish
}

// receiver handles verified deliveries.
type receiver struct {
	client *bookingsync.Client
	host   int64
	out    io.Writer
}

func (r *receiver) handle(ctx context.Context, ev *bookingsync.WebhookEvent) error {
	if ev.Event != bookingsync.EventInboxConversationCreated {
		fmt.Fprintf(r.out, "%s: ignored\n", ev.Event)
		return nil
	}
	c, err := ev.Conversation()
	if err != nil {
		return err
	}
	// A webhook is a cue, not the record: deliveries come late, twice or
	// out of order. Re-read the conversation before acting on it.
	conv, _, err := r.client.Conversations.Get(ctx, c.ID)
	if err != nil {
		fmt.Fprintf(r.out, "conversation %d: %v\n", c.ID, err)
		return err
	}
	// Who created it, and on which channel replies will go (one request
	// per application at most: the client caches them).
	origin, err := r.client.Conversations.Origin(ctx, conv)
	if err != nil {
		return err
	}
	// EnsureHost adds the host only when absent, so a second delivery of
	// the same event adds no second participant.
	p, err := r.client.Participants.EnsureHost(ctx, conv.ID, r.host)
	if err != nil {
		fmt.Fprintf(r.out, "conversation %d: adding host %d: %v\n", conv.ID, r.host, err)
		return err
	}
	fmt.Fprintf(r.out, "%s: conversation %d %q, channel %q: host %d is participant %d\n",
		ev.Event, conv.ID, conv.Subject, cmp.Or(string(origin.Channel), "none"), r.host, p.ID)
	return nil
}

// deliverDemo has the in-memory server deliver a new Booking.com
// conversation twice, then sends a forged delivery.
func deliverDemo(ctx context.Context, out io.Writer, srv *bookingsynctest.Server, url string) error {
	resource := srv.ConversationResource(bookingsynctest.BookingComConversationID)
	for range 2 {
		if err := srv.SendWebhook(ctx, url, bookingsync.EventInboxConversationCreated, resource); err != nil {
			return err
		}
	}

	// Anyone can POST to a webhook URL: a body signed with another secret
	// is refused with 401 before the handler sees it.
	body, err := json.Marshal(map[string]any{"account_id": bookingsynctest.AccountID,
		"event": bookingsync.EventInboxConversationCreated, "resource": resource})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set(bookingsync.SignatureHeader, bookingsync.SignWebhook(body, "not-the-secret"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	fmt.Fprintf(out, "forged delivery (bad signature): %s\n", resp.Status)
	return nil
}

// connect builds the client and says, on the first line, what it talks to.
func connect(out io.Writer, cfg *config) (*bookingsync.Client, error) {
	token, base := cfg.token, cfg.baseURL
	if cfg.demo != nil {
		fmt.Fprintln(out, "No BOOKINGSYNC_TOKEN: running against the in-memory BookingSync server (bookingsynctest).")
		token, base = cfg.demo.Token(), cfg.demo.URL
		// The in-memory server signs with its application's client secret.
		cfg.secret = cmp.Or(cfg.secret, bookingsynctest.DefaultClientSecret)
		cfg.host = cmp.Or(cfg.host, bookingsynctest.HostJanID)
		cfg.addr = "127.0.0.1:0"
	} else {
		fmt.Fprintf(out, "Running against %s\n", base)
	}
	return bookingsync.NewClient(bookingsync.WithToken(token), bookingsync.WithBaseURL(base))
}

// lockedWriter serializes writes from concurrent deliveries.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
