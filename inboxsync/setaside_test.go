package inboxsync_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/go-bookingsync/bookingsync"
	"github.com/go-bookingsync/bookingsync/bookingsynctest"
	"github.com/go-bookingsync/bookingsync/inboxsync"
	"github.com/go-bookingsync/bookingsync/inboxsync/internal/dbtest"
)

// Garbage deleted_ids (a string, a float, null, an object) and a record
// that cannot be stored (its updated_at is no time) are set aside while
// the rest of the page, the resource and the pass go on: each is kept in
// the store with its reason and its bytes as the API sent them, and
// counted again by each pass that meets it. A later pass that applies the
// record clears its row; one that moves the cursor clears the rest.
func TestSetAsideRecordsAreKeptUntilApplied(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		fx := setup(t, dsn)
		a := fx.srv.Accounts()[0]
		conv, _ := a.AddConversationWithClient(bookingsynctest.ConversationSeed{Subject: "hello"})
		var garbage, badRecord atomic.Bool
		garbage.Store(true)
		badRecord.Store(true)
		var badRaw atomic.Value // the record as last sent, spoilt
		hc := fx.srv.Client()
		hc.Transport = &pageRewriter{next: hc.Transport, path: "/inbox/conversations", key: "conversations",
			edit: func(items []json.RawMessage, meta map[string]json.RawMessage) []json.RawMessage {
				if garbage.Load() {
					meta["deleted_ids"] = json.RawMessage(`["abc", 1.5, null, {"id": 3}]`)
				}
				for i, it := range items {
					var rec map[string]json.RawMessage
					if json.Unmarshal(it, &rec) != nil || string(rec["id"]) != jsonInt(conv) || !badRecord.Load() {
						continue
					}
					rec["updated_at"] = json.RawMessage(`"yesterday"`)
					items[i], _ = json.Marshal(rec)
					badRaw.Store(string(items[i]))
				}
				return items
			}}
		s := inboxsync.New(fx.st, acct, newClient(t, fx.srv, bookingsync.WithHTTPClient(hc)))

		pass := func(wantAside int) {
			t.Helper()
			rep, err := s.Sync(ctx)
			if err != nil {
				t.Fatalf("Sync: %v", err)
			}
			onlyConversationsSetAside(t, rep, func(int) int { return wantAside })
		}
		kept := func(wantAttempts int, wantRecord bool) {
			t.Helper()
			recs, err := fx.st.SetAsideRecords(ctx, acct)
			if err != nil {
				t.Fatal(err)
			}
			var raws []string
			for _, r := range recs {
				if r.Resource != "conversations" || r.Attempts != wantAttempts || r.Reason == "" || r.LastSeen.Before(r.FirstSeen) || r.FirstSeen.IsZero() {
					t.Errorf("set aside: %s %d %q %s %v..%v %d; want conversations, %d attempts", r.Resource, r.ID, r.Reason, r.Raw, r.FirstSeen, r.LastSeen, r.Attempts, wantAttempts)
				}
				if r.ID == conv {
					if string(r.Raw) != badRaw.Load().(string) || !strings.Contains(r.Reason, "updated_at") {
						t.Errorf("the spoilt record kept as %s (%s); sent as %s", r.Raw, r.Reason, badRaw.Load())
					}
					continue
				}
				if r.ID != 0 || !strings.Contains(r.Reason, "deleted_ids") {
					t.Errorf("a garbage deleted id kept as %d %q %s", r.ID, r.Reason, r.Raw)
				}
				raws = append(raws, string(r.Raw))
			}
			slices.Sort(raws)
			if want := []string{`"abc"`, `1.5`, `null`, `{"id":3}`}; !slices.Equal(raws, want) {
				t.Errorf("garbage deleted ids kept: %q; want %q", raws, want)
			}
			if n := len(recs) - len(raws); n != map[bool]int{true: 1, false: 0}[wantRecord] {
				t.Errorf("%d rows of the spoilt record; want it kept: %v", n, wantRecord)
			}
		}

		pass(5)
		kept(1, true)
		pass(5)
		kept(2, true)

		// The record mends: the next pass applies it and clears its row;
		// the garbage stays, and so does the cursor.
		badRecord.Store(false)
		pass(4)
		kept(3, false)
		if at, err := fx.st.Cursor(ctx, acct, "conversations"); err != nil || !at.IsZero() {
			t.Fatalf("conversations cursor %v, %v; want none", at, err)
		}
		if got, err := fx.st.Conversation(ctx, acct, conv); err != nil || got.Subject != "hello" {
			t.Fatalf("the mended record: %+v, %v", got, err)
		}

		// The garbage goes: the cursor moves, and nothing is left aside.
		garbage.Store(false)
		pass(0)
		if recs, err := fx.st.SetAsideRecords(ctx, acct); err != nil || len(recs) != 0 {
			t.Fatalf("set aside after a settled pass: %+v, %v", recs, err)
		}
		if d := diff(serverState(t, fx.c), localState(t, fx.st)); d != "" {
			t.Fatalf("copy differs:\n%s", d)
		}
	})
}

// jsonInt is id as JSON writes it.
func jsonInt(id int64) string { b, _ := json.Marshal(id); return string(b) }
