package bookingsync

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
)

func hostMessage(sender int64) *NewMessage {
	return &NewMessage{ConversationID: 7, SenderID: sender, Content: "Hello", Origin: OriginBookingSyncInbox, Visibility: VisibilityExternal}
}

func TestMessagesCreateRefusesClientSender(t *testing.T) {
	c, _, s := setup(t)
	handleParticipant(s, MemberTypeClient)
	handleMessageEcho(s)
	for i := range 3 {
		_, _, err := c.Messages.Create(inboxCtx, hostMessage(30))
		var re *RefusedError
		if !errors.Is(err, ErrRefused) || !errors.As(err, &re) {
			t.Fatalf("call %d: err = %v, want a *RefusedError", i, err)
		}
		for _, want := range []string{"Client", "only Host participants send", "SendAsHost", "EnsureHost"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("refusal %q does not say %q", err, want)
			}
		}
	}
	if n := s.count("POST", "inbox/messages"); n != 0 {
		t.Errorf("%d messages POSTed, want 0", n)
	}
	if n := s.count("GET", "inbox/participants/30"); n != 1 {
		t.Errorf("sender read %d times, want once", n)
	}
}

func TestMessagesCreateReadsEachSenderOnce(t *testing.T) {
	c, _, s := setup(t)
	handleParticipant(s, MemberTypeHost)
	handleMessageEcho(s)
	for _, sender := range []int64{31, 32, 31, 32, 31} {
		if _, _, err := c.Messages.Create(inboxCtx, hostMessage(sender)); err != nil {
			t.Fatal(err)
		}
	}
	if n := s.count("GET", "inbox/participants/"); n != 2 {
		t.Errorf("%d participant reads for 2 senders, want 2", n)
	}
	if n := s.count("POST", "inbox/messages"); n != 5 {
		t.Errorf("%d messages sent, want 5", n)
	}
}

// Concurrent first sends by the same participant share one read; the
// client's refusal holds for every one of them.
func TestMessagesCreateConcurrentSendersShareOneRead(t *testing.T) {
	c, _, s := setup(t)
	s.mux.HandleFunc("GET /inbox/participants/{id}", func(w http.ResponseWriter, r *http.Request) {
		typ := MemberTypeHost
		if r.PathValue("id") == "30" {
			typ = MemberTypeClient
		}
		id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
		answer(w, 200, inboxEnvelope("participants", inboxMember{ID: id, MemberID: 1, MemberType: typ}.json(7)))
	})
	handleMessageEcho(s)
	var wg sync.WaitGroup
	var mu sync.Mutex
	refused := 0
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sender := int64(30 + i%2) // 30 the guest, 31 a host
			_, _, err := c.Messages.Create(context.Background(), hostMessage(sender))
			switch {
			case sender == 30 && errors.Is(err, ErrRefused):
				mu.Lock()
				refused++
				mu.Unlock()
			case err != nil:
				t.Errorf("sender %d: %v", sender, err)
			}
		}()
	}
	wg.Wait()
	if refused != 20 {
		t.Errorf("%d guest sends refused, want 20", refused)
	}
	if n := s.count("GET", "inbox/participants/"); n != 2 {
		t.Errorf("%d participant reads, want 2 (one per participant)", n)
	}
	for _, r := range s.requests() {
		if r.Method == "POST" && strings.Contains(string(r.Body), `"sender_id":30`) {
			t.Fatalf("a guest's message was sent: %s", r.Body)
		}
	}
}

// The rule lives in Client.Do: a caller's own request is held to it, and
// what cannot be read fails closed.
func TestCallersOwnMessageRequestIsChecked(t *testing.T) {
	c, _, s := setup(t)
	handleParticipant(s, MemberTypeClient)
	handleMessageEcho(s)
	for name, body := range map[string]any{
		"client sender":           map[string]any{"messages": []any{map[string]any{"sender_id": 30, "content": "x"}}},
		"client sender as string": map[string]any{"message": map[string]any{"SENDER_ID": "30"}},
		"sender not an id":        map[string]any{"messages": []any{map[string]any{"sender_id": map[string]any{"id": 31}}}},
		"sender null":             map[string]any{"messages": []any{map[string]any{"sender_id": nil}}},
	} {
		req, err := c.NewRequest(inboxCtx, "POST", "inbox/messages", body)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Do(req, nil); !errors.Is(err, ErrRefused) {
			t.Errorf("%s: err = %v, want ErrRefused", name, err)
		}
	}
	for _, body := range []string{"messages[][sender_id]=31", `{"messages":[{"sender_id":31}]} {"messages":[{"sender_id":30}]}`} {
		raw, _ := http.NewRequest("POST", c.APIURL().String()+"inbox/messages", strings.NewReader(body))
		if _, err := c.Do(raw, nil); !errors.Is(err, ErrRefused) {
			t.Errorf("body %q: err = %v, want ErrRefused", body, err)
		}
	}
	req, _ := c.NewRequest(inboxCtx, "PUT", "inbox/messages/5", map[string]any{"messages": []any{map[string]any{"sender_id": 30}}})
	if _, err := c.Do(req, nil); !errors.Is(err, ErrRefused) {
		t.Errorf("PUT with a client sender: err = %v, want ErrRefused", err)
	}
	if n := s.count("POST", "inbox/messages") + s.count("PUT", "inbox/messages"); n != 0 {
		t.Errorf("%d message writes reached the server", n)
	}
}

func TestMessagesCreateUnknownSenderSendsNothing(t *testing.T) {
	c, _, s := setup(t)
	handleMessageEcho(s)
	_, _, err := c.Messages.Create(inboxCtx, hostMessage(999))
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "nothing was sent") {
		t.Errorf("err = %v, want ErrNotFound saying nothing was sent", err)
	}
	if n := s.count("POST", "inbox/messages"); n != 0 {
		t.Errorf("%d messages POSTed, want 0", n)
	}
}

func TestSendAsHostAfterAddingTheHostReadsNoSender(t *testing.T) {
	c, _, s := setup(t)
	conv := &inboxConversation{ID: 3, Sideload: true}
	conv.add(5, MemberTypeClient)
	conv.register(s)
	handleMessageEcho(s)
	for range 2 {
		if _, err := c.Messages.SendAsHost(inboxCtx, 3, 42, &NewMessage{Content: "Hi"}); err != nil {
			t.Fatal(err)
		}
	}
	p, err := c.Participants.EnsureHost(inboxCtx, 3, 42)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Messages.Create(inboxCtx, &NewMessage{ConversationID: 3, SenderID: p.ID, Content: "Again", Origin: OriginEmail, Visibility: VisibilityExternal}); err != nil {
		t.Fatal(err)
	}
	// The guest's participant, seen in the conversation, is known too.
	if _, _, err := c.Messages.Create(inboxCtx, hostMessage(101)); !errors.Is(err, ErrRefused) {
		t.Errorf("guest sender: err = %v, want ErrRefused", err)
	}
	if n := s.count("GET", "inbox/participants/"); n != 0 {
		t.Errorf("%d participant reads, want 0", n)
	}
}

// The cache stays bounded however many participants a process sees.
func TestSenderCacheIsBounded(t *testing.T) {
	var sc senderCache
	for id := int64(1); id <= maxKnown+500; id++ {
		sc.remember(&Participant{ID: id, Links: ParticipantLinks{Member: Polymorphic{ID: 1, Type: string(MemberTypeHost)}}})
	}
	if n := len(sc.types.m); n != maxKnown {
		t.Errorf("%d entries, want %d", n, maxKnown)
	}
	if typ, ok := sc.types.get(maxKnown + 500); !ok || typ != string(MemberTypeHost) {
		t.Errorf("newest entry lost: %q %v", typ, ok)
	}
}

// FuzzSenderIDs: reading the senders of any body never panics, and what
// it reads are ids, or the body is refused.
func FuzzSenderIDs(f *testing.F) {
	for _, seed := range []string{
		`{"messages":[{"sender_id":31,"content":"x"}]}`,
		`{"message":{"sender_id":"31"}}`,
		`{"messages":[{"sender_id":null}]}`,
		`{"messages":[{"sender_id":1e3}]}`,
		`[[[{"SENDER_ID":" 7 "}]]]`,
		`messages[][sender_id]=31`,
		``,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		ids, err := senderIDs(body)
		if err != nil {
			return
		}
		for _, id := range ids {
			if id <= 0 {
				t.Fatalf("senderIDs(%q) = %v: not an id", body, ids)
			}
		}
	})
}

// Participants the client has read, or seen sideloaded with their
// conversation, cost the sender check no read.
func TestSenderCheckUsesParticipantsAlreadyRead(t *testing.T) {
	c, _, s := setup(t)
	conv := &inboxConversation{ID: 3, Sideload: true}
	guest := conv.add(37, MemberTypeClient)
	host := conv.add(42, MemberTypeHost)
	conv.register(s)
	handleMessageEcho(s)
	if _, _, err := c.Conversations.GetWith(inboxCtx, 3, &ConversationGetOptions{Include: []string{"participants"}}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Messages.Create(inboxCtx, hostMessage(host)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Messages.Create(inboxCtx, hostMessage(guest)); !errors.Is(err, ErrRefused) {
		t.Errorf("guest sender: err = %v, want ErrRefused", err)
	}
	if n := s.count("GET", "inbox/participants"); n != 0 {
		t.Errorf("%d participant reads, want 0", n)
	}

	other := conv.add(43, MemberTypeHost)
	if _, _, err := c.Participants.GetMany(inboxCtx, []int64{other}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Messages.Create(inboxCtx, hostMessage(other)); err != nil {
		t.Fatal(err)
	}
	if n := s.count("GET", "inbox/participants"); n != 1 {
		t.Errorf("%d participant reads, want 1 (the GetMany)", n)
	}
}

// BenchmarkSenderCheck measures what the Only-Hosts-send check adds to a
// message create whose sender is known: the same POST with and without
// the check (a path the check does not cover), against a loopback server.
// Report the ratio check/baseline.
func BenchmarkSenderCheck(b *testing.B) {
	c, mux, _ := setup(b)
	created := fixture(b, "messages/inbox_write-scope-response.json")
	reply := func(w http.ResponseWriter, r *http.Request) { answer(w, 201, string(created)) }
	mux.HandleFunc("POST /inbox/messages", reply)
	mux.HandleFunc("POST /baseline/messages", reply)
	c.senders.remember(&Participant{ID: 31, Links: ParticipantLinks{Member: Polymorphic{ID: 1, Type: string(MemberTypeHost)}}})
	body := envelope{"messages", hostMessage(31)}
	for _, path := range []string{"inbox/messages", "baseline/messages"} {
		name := map[string]string{"inbox/messages": "check", "baseline/messages": "baseline"}[path]
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				req, err := c.NewRequest(context.Background(), http.MethodPost, path, body)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := c.Do(req, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
