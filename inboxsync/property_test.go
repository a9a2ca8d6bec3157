package inboxsync_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/go-bookingsync/bookingsync"
	"github.com/go-bookingsync/bookingsync/bookingsynctest"
	"github.com/go-bookingsync/bookingsync/inboxsync"
	"github.com/go-bookingsync/bookingsync/inboxsync/internal/dbtest"
)

// world tracks what exists on the fake, to pick the targets of random
// changes.
type world struct {
	convs, parts, msgs, hosts []int64
}

func pick(rng *rand.Rand, l []int64) (int64, bool) {
	if len(l) == 0 {
		return 0, false
	}
	return l[rng.IntN(len(l))], true
}

func without(l []int64, id int64) []int64 {
	out := l[:0:0]
	for _, v := range l {
		if v != id {
			out = append(out, v)
		}
	}
	return out
}

// event is a webhook the API would send for a change.
func event(kind string, id int64, n int) *bookingsync.WebhookEvent {
	key := "conversation"
	if kind == bookingsync.EventInboxMessageCreated || kind == bookingsync.EventInboxMessageUpdated {
		key = "message"
	}
	res, _ := json.Marshal(map[string]any{key: map[string]any{"id": id, "change": n}})
	return &bookingsync.WebhookEvent{AccountID: acct, Event: kind, Resource: res}
}

var faultKinds = []bookingsynctest.FaultKind{bookingsynctest.FaultStatus, bookingsynctest.FaultReset,
	bookingsynctest.FaultTruncate, bookingsynctest.Fault429, bookingsynctest.FaultStatusAfterProcessing}

var faultPaths = []string{"/api/v3/hosts", "/api/v3/inbox/conversations", "/api/v3/inbox/participants",
	"/api/v3/inbox/messages", "/api/v3/inbox/attachments", "/api/v3/applications"}

// Random server changes interleaved with passes by two replicas, webhooks
// dropped, duplicated, reordered and delivered during passes, faults on
// listings and re-reads: after a final complete pass the local copy equals
// the server's, record for record.
func TestPropertyConverges(t *testing.T) {
	t.Parallel()
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("INBOXSYNC_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	t.Logf("seed %d (INBOXSYNC_SEED reproduces)", seed)
	dbtest.Each(t, func(t *testing.T, dsn string) {
		rng := rand.New(rand.NewPCG(seed, 1))
		f := setup(t, dsn, bookingsynctest.WithPageSizeCap(3), bookingsynctest.WithConversationDelay(300*time.Millisecond))
		// A second replica: its own store handle and client on the same
		// database and account.
		st2, err := inboxsync.Open(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer st2.Close()
		// Its API answers carry poison in the conversations' pages (ids of
		// 0 and below, deleted ids that name nothing): set aside, never
		// stopping its passes nor spoiling the copy.
		hc := f.srv.Client()
		hc.Transport = poisoner(hc.Transport)
		s2 := inboxsync.New(st2, acct, newClient(t, f.srv, bookingsync.WithRetry(bookingsync.RetryPolicy{MaxAttempts: 1}),
			bookingsync.WithHTTPClient(hc)))
		ctx := context.Background()

		w := &world{convs: []int64{11, 12, 13}, parts: []int64{1, 2, 3, 4, 5}, msgs: []int64{1, 2, 3, 4, 5, 6, 7}, hosts: []int64{1, 2, 3}}
		n := 0
		for round := 0; round < 12; round++ {
			var events []*bookingsync.WebhookEvent
			for range 1 + rng.IntN(6) {
				n++
				switch op := rng.IntN(9); op {
				case 0:
					subject := fmt.Sprint("c", n)
					if rng.IntN(3) == 0 {
						subject += "\x00 a guest's NUL" // Postgres text cannot hold it; the copy must
					}
					id := f.srv.AddConversation(bookingsynctest.ConversationSeed{Subject: subject, ClientID: int64(500 + n)})
					w.convs = append(w.convs, id)
					events = append(events, event(bookingsync.EventInboxConversationCreated, id, n))
				case 1:
					if c, ok := pick(rng, w.convs); ok {
						w.parts = append(w.parts, f.srv.AddParticipant(c, "Host", bookingsynctest.HostJanID))
					}
				case 2, 3:
					if p, ok := pick(rng, w.parts); ok {
						c, _ := pick(rng, w.convs) // the fake does not check the sender belongs
						id := f.srv.AddMessage(bookingsynctest.MessageSeed{ConversationID: c, SenderID: p, Content: fmt.Sprint("m\x00", n)})
						w.msgs = append(w.msgs, id)
						events = append(events, event(bookingsync.EventInboxMessageCreated, id, n))
					}
				case 4:
					if c, ok := pick(rng, w.convs); ok {
						f.srv.Touch("conversations", c)
						events = append(events, event(bookingsync.EventInboxConversationUpdated, c, n))
					}
				case 5:
					if m, ok := pick(rng, w.msgs); ok {
						f.srv.Touch("messages", m)
						events = append(events, event(bookingsync.EventInboxMessageUpdated, m, n))
					}
				case 6:
					if m, ok := pick(rng, w.msgs); ok {
						f.srv.Delete("messages", m)
						w.msgs = without(w.msgs, m)
						events = append(events, event(bookingsync.EventInboxMessageUpdated, m, n)) // a late cue for a gone record
					}
				case 7:
					if c, ok := pick(rng, w.convs); ok && rng.IntN(3) == 0 {
						f.srv.DeleteConversation(c)
						w.convs = without(w.convs, c)
					}
				case 8:
					if rng.IntN(2) == 0 {
						w.hosts = append(w.hosts, f.srv.AddHost("H", fmt.Sprint(n), ""))
					} else if h, ok := pick(rng, w.hosts); ok {
						f.srv.Touch("hosts", h)
					}
				}
			}
			// Webhooks: some dropped, some twice, in random order.
			var deliver []*bookingsync.WebhookEvent
			for _, e := range events {
				switch rng.IntN(4) {
				case 0: // dropped
				case 1:
					deliver = append(deliver, e, e)
				default:
					deliver = append(deliver, e)
				}
			}
			rng.Shuffle(len(deliver), func(i, j int) { deliver[i], deliver[j] = deliver[j], deliver[i] })
			if rng.IntN(2) == 0 {
				f.srv.AddFault(bookingsynctest.Fault{Method: "GET", PathPrefix: faultPaths[rng.IntN(len(faultPaths))],
					Kind: faultKinds[rng.IntN(len(faultKinds))], Count: 1 + rng.IntN(3), Status: 503,
					Reset: strconv.FormatInt(time.Now().Add(time.Second).Unix(), 10)}) // a 429's budget returns in a second
			}
			var wg sync.WaitGroup
			wg.Add(3)
			go func() {
				defer wg.Done()
				for _, e := range deliver {
					f.s.HandleEvent(ctx, e) // errors (faults) leave it to the passes
				}
			}()
			go func() { defer wg.Done(); f.s.Sync(ctx) }()
			go func() {
				defer wg.Done()
				if rng.IntN(2) == 0 {
					s2.Sync(ctx)
				}
			}()
			wg.Wait()
			f.srv.ClearFaults()
		}
		mustSync(t, f.s)
		if d := diff(serverState(t, f.c), localState(t, f.st)); d != "" {
			t.Fatalf("after the final pass, the copy differs from the server:\n%s", d)
		}
	})
}
