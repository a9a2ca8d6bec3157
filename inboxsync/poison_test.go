package inboxsync_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/go-bookingsync/bookingsync"
	"github.com/go-bookingsync/bookingsync/bookingsynctest"
	"github.com/go-bookingsync/bookingsync/inboxsync"
	"github.com/go-bookingsync/bookingsync/inboxsync/internal/dbtest"
)

// pageRewriter passes the fake's answers through, handing the listing
// pages of one resource to edit first: their records (what edit returns
// replaces them) and their meta, as a hostile or broken API might answer.
type pageRewriter struct {
	next http.RoundTripper
	path string // e.g. "/inbox/conversations"
	key  string // the envelope key
	edit func(items []json.RawMessage, meta map[string]json.RawMessage) []json.RawMessage
}

func (p *pageRewriter) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := p.next.RoundTrip(req)
	if err != nil || req.Method != "GET" || !strings.HasSuffix(req.URL.Path, p.path) || resp.StatusCode != 200 {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	var env map[string]json.RawMessage
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, err
	}
	var items []json.RawMessage
	json.Unmarshal(env[p.key], &items)
	var meta map[string]json.RawMessage
	json.Unmarshal(env["meta"], &meta)
	if meta == nil {
		meta = map[string]json.RawMessage{}
	}
	env[p.key], _ = json.Marshal(p.edit(items, meta))
	env["meta"], _ = json.Marshal(meta)
	body, _ = json.Marshal(env)
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	resp.Header.Del("Content-Length")
	return resp, nil
}

// poisoner adds to the conversations' listing pages records with ids of
// 0 and below and deleted_ids that name no record.
func poisoner(next http.RoundTripper) http.RoundTripper {
	return &pageRewriter{next: next, path: "/inbox/conversations", key: "conversations",
		edit: func(items []json.RawMessage, meta map[string]json.RawMessage) []json.RawMessage {
			meta["deleted_ids"] = json.RawMessage(`[0, -1]`)
			return append(items, json.RawMessage(`{"id":0,"subject":"zero"}`), json.RawMessage(`{"id":-5,"subject":"negative"}`))
		}}
}

// onlyConversationsSetAside fails t unless the pass set aside
// want(pages) conversations, keeping that cursor, and nothing else, every
// other resource advancing.
func onlyConversationsSetAside(t *testing.T, rep *inboxsync.Report, want func(pages int) int) {
	t.Helper()
	for _, rr := range rep.Resources {
		switch {
		case rr.Resource == "conversations":
			if n := want(rr.Pages); rr.SetAside != n || rr.Advanced != (n == 0) {
				t.Fatalf("conversations: %+v; want %d set aside, the cursor moved only with none", rr, n)
			}
		case rr.SetAside != 0 || !rr.Advanced && !rr.Forbidden:
			t.Fatalf("%s: %+v", rr.Resource, rr)
		}
	}
}

// A record the copy cannot store (an id of 0 or below, a deleted id that
// names no record) is set aside and counted while the rest of the page,
// the resource and the pass go on, and the cursor stays before it; every
// string the API sends is stored, NUL included.
func TestPoisonRecordsAreSetAside(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		fx := setup(t, dsn)
		a := fx.srv.Accounts()[0]
		nul := "before\x00after"
		conv, guest := a.AddConversationWithClient(bookingsynctest.ConversationSeed{Subject: nul})
		msg := a.AddMessage(bookingsynctest.MessageSeed{ConversationID: conv, SenderID: guest, Content: nul})
		hc := fx.srv.Client()
		hc.Transport = poisoner(hc.Transport)
		c := newClient(t, fx.srv, bookingsync.WithHTTPClient(hc))
		s := inboxsync.New(fx.st, acct, c)

		rep, err := s.Sync(ctx)
		if err != nil {
			t.Fatalf("Sync: %v", err)
		}
		onlyConversationsSetAside(t, rep, func(pages int) int { return 4 * pages })
		// Each is kept, by its bytes: the two records and the two ids.
		if recs, err := fx.st.SetAsideRecords(ctx, acct); err != nil || len(recs) != 4 {
			t.Fatalf("set-aside records: %+v, %v; want 4", recs, err)
		}
		if at, err := fx.st.Cursor(ctx, acct, "conversations"); err != nil || !at.IsZero() {
			t.Fatalf("conversations cursor %v, %v; want none", at, err)
		}
		got, err := fx.st.Conversation(ctx, acct, conv)
		if err != nil || got.Subject != nul {
			t.Fatalf("the NUL subject: %q, %v", got.Subject, err)
		}
		msgs, err := fx.st.Messages(ctx, acct, conv)
		if err != nil || len(msgs) != 1 || msgs[0].ID != msg || msgs[0].Content != nul {
			t.Fatalf("the NUL message: %+v, %v", msgs, err)
		}
		// Everything else is the server's.
		if d := diff(serverState(t, fx.c), localState(t, fx.st)); d != "" {
			t.Fatalf("copy differs:\n%s", d)
		}
	})
}
