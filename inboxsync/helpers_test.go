package inboxsync_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"sort"
	"strconv"
	"testing"

	"github.com/go-bookingsync/bookingsync"
	"github.com/go-bookingsync/bookingsync/bookingsynctest"
	"github.com/go-bookingsync/bookingsync/inboxsync"
	"github.com/go-bookingsync/bookingsync/inboxsync/internal/dbtest"
)

// acct is the fake's account.
const acct = bookingsynctest.AccountID

// fixture is one test's fake server, client, store and syncer.
type fixture struct {
	srv *bookingsynctest.Server
	c   *bookingsync.Client
	st  *inboxsync.Store
	s   *inboxsync.Syncer
}

// setup starts a fake (with a budget tests cannot exhaust unless they set
// one), opens a store at dsn and returns a syncer over both.
func setup(t testing.TB, dsn string, opts ...bookingsynctest.Option) *fixture {
	t.Helper()
	srv := bookingsynctest.NewServer(append([]bookingsynctest.Option{bookingsynctest.WithRateLimit(1 << 30), bookingsynctest.WithConversationDelay(0)}, opts...)...)
	t.Cleanup(srv.Close)
	c := newClient(t, srv)
	st, err := inboxsync.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return &fixture{srv: srv, c: c, st: st, s: inboxsync.New(st, acct, c)}
}

func newClient(t testing.TB, srv *bookingsynctest.Server, opts ...bookingsync.Option) *bookingsync.Client {
	t.Helper()
	c, err := bookingsync.NewClient(append([]bookingsync.Option{bookingsync.WithBaseURL(srv.URL),
		bookingsync.WithToken(srv.Token()), bookingsync.WithHTTPClient(srv.Client())}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// mirrored are the tables a pass fills from listings, with their API paths.
var mirrored = []struct{ table, path string }{
	{"hosts", "hosts"}, {"conversations", "inbox/conversations"}, {"participants", "inbox/participants"},
	{"messages", "inbox/messages"}, {"attachments", "inbox/attachments"},
	{"bookings", "bookings"}, {"clients", "clients"}, {"rentals", "rentals"},
}

// state is every record by table and id, decoded to plain values, less
// the association id arrays that the API changes without touching
// updated_at (the child tables hold the same facts).
type state map[string]map[int64]any

// lagging are the link arrays an updated_since listing cannot be relied
// on to refresh: adding a participant or message changes them on the
// parent without moving its updated_at.
var lagging = map[string][]string{
	"conversations": {"participants", "messages"},
	"hosts":         {"participants"},
	"attachments":   {"messages"},
	"bookings":      {"conversations"},
}

func normalize(table string, raw []byte) (int64, any, error) {
	var v map[string]any
	if err := json.Unmarshal(raw, &v); err != nil {
		return 0, nil, err
	}
	if links, ok := v["links"].(map[string]any); ok {
		for _, k := range lagging[table] {
			delete(links, k)
		}
	}
	id, _ := v["id"].(float64)
	return int64(id), v, nil
}

// serverState lists every mirrored record through the API, whole.
func serverState(t testing.TB, c *bookingsync.Client) state {
	t.Helper()
	ctx := context.Background()
	out := state{}
	for _, m := range mirrored {
		out[m.table] = map[int64]any{}
		for page := 1; page > 0; {
			// updated_since from an early date: every record, bookings of
			// every status and date included.
			q := url.Values{"page": {strconv.Itoa(page)}, "per_page": {"100"}, "updated_since": {"2010-01-01T00:00:00Z"}}
			req, err := c.NewRequest(ctx, "GET", m.path+"?"+q.Encode(), nil)
			if err != nil {
				t.Fatal(err)
			}
			var env map[string]json.RawMessage
			resp, err := c.Do(req, &env)
			if err != nil {
				t.Fatalf("listing %s: %v", m.table, err)
			}
			var items []json.RawMessage
			if err := json.Unmarshal(env[m.table], &items); err != nil {
				t.Fatal(err)
			}
			for _, it := range items {
				id, v, err := normalize(m.table, it)
				if err != nil {
					t.Fatal(err)
				}
				out[m.table][id] = v
			}
			page = resp.NextPage
		}
	}
	return out
}

// localState reads every mirrored record of the account from the store.
func localState(t testing.TB, st *inboxsync.Store) state {
	t.Helper()
	return accountState(t, st, acct)
}

// accountState reads every mirrored record of one account from the store.
func accountState(t testing.TB, st *inboxsync.Store, acct int64) state {
	t.Helper()
	out := state{}
	for _, m := range mirrored {
		out[m.table] = map[int64]any{}
		rows, err := st.DB().Query(fmt.Sprintf("SELECT raw FROM %s WHERE account_id = %d", m.table, acct))
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var raw []byte
			if err := rows.Scan(&raw); err != nil {
				t.Fatal(err)
			}
			id, v, err := normalize(m.table, raw)
			if err != nil {
				t.Fatal(err)
			}
			out[m.table][id] = v
		}
		rows.Close()
	}
	return out
}

// diff describes how local differs from server, or "" when equal.
func diff(server, local state) string {
	var out []string
	for table, recs := range server {
		for id, v := range recs {
			lv, ok := local[table][id]
			switch {
			case !ok:
				out = append(out, fmt.Sprintf("%s %d missing locally", table, id))
			case !reflect.DeepEqual(v, lv):
				a, _ := json.Marshal(v)
				b, _ := json.Marshal(lv)
				out = append(out, fmt.Sprintf("%s %d differs:\n  server %s\n  local  %s", table, id, a, b))
			}
		}
		for id := range local[table] {
			if _, ok := recs[id]; !ok {
				out = append(out, fmt.Sprintf("%s %d deleted on the server, still local", table, id))
			}
		}
	}
	sort.Strings(out)
	if len(out) > 10 {
		out = append(out[:10], fmt.Sprintf("… and %d more", len(out)-10))
	}
	s := ""
	for _, l := range out {
		s += l + "\n"
	}
	return s
}

// mustSync runs one pass and fails t on error.
func mustSync(t testing.TB, s *inboxsync.Syncer) *inboxsync.Report {
	t.Helper()
	rep, err := s.Sync(context.Background())
	if err != nil {
		t.Fatalf("Sync: %v", err)
	}
	return rep
}

func dbtestSQLite(t testing.TB) string { return dbtest.SQLite(t) }

// roundTripFunc is an http.RoundTripper (leases_test.go has the internal
// tests' twin).
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
