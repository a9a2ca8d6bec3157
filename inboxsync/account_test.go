package inboxsync_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/go-bookingsync/bookingsync"
	"github.com/go-bookingsync/bookingsync/bookingsynctest"
	"github.com/go-bookingsync/bookingsync/inboxsync"
	"github.com/go-bookingsync/bookingsync/inboxsync/internal/dbtest"
)

// countMe counts the GET /me requests that go through it.
type countMe struct {
	rt http.RoundTripper
	n  atomic.Int64
}

func (c *countMe) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.HasSuffix(r.URL.Path, "/me") {
		c.n.Add(1)
	}
	return c.rt.RoundTrip(r)
}

// A syncer whose token acts for another account refuses, before any
// write, with both accounts named; GET /me is asked once per syncer.
func TestSyncRefusesAnotherAccountsToken(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		f := setup(t, dsn)
		other := f.srv.AddAccount(bookingsynctest.AccountSeed{})
		hc := f.srv.Client()
		me := &countMe{rt: hc.Transport}
		hc.Transport = me
		// The default account's token, filed under the other account.
		s := inboxsync.New(f.st, other.ID(), newClient(t, f.srv, bookingsync.WithHTTPClient(hc)))
		for range 2 {
			rep, err := s.Sync(ctx)
			var mm *inboxsync.AccountMismatchError
			if !errors.Is(err, inboxsync.ErrAccountMismatch) || !errors.As(err, &mm) ||
				mm.AccountID != other.ID() || mm.TokenAccountID != acct {
				t.Fatalf("Sync with account %d's token as account %d: %v", acct, other.ID(), err)
			}
			if rep.Changed() != 0 {
				t.Fatalf("the refused pass changed %d records", rep.Changed())
			}
		}
		if n := me.n.Load(); n != 1 {
			t.Errorf("GET /me asked %d times; want once", n)
		}
		for _, a := range []int64{acct, other.ID()} {
			if got := accountState(t, f.st, a); got["conversations"] == nil || len(got["conversations"]) != 0 {
				t.Errorf("account %d: %d conversations stored; want none", a, len(got["conversations"]))
			}
		}
		// A webhook's re-read is a write too.
		err := s.HandleEvent(ctx, &bookingsync.WebhookEvent{AccountID: other.ID(), Event: bookingsync.EventInboxConversationUpdated,
			Resource: []byte(`{"id": 11}`)})
		if !errors.Is(err, inboxsync.ErrAccountMismatch) {
			t.Errorf("HandleEvent: %v; want ErrAccountMismatch", err)
		}

		// A queued reply is not sent with the other account's token.
		if _, err := f.st.Enqueue(ctx, other.ID(), inboxsync.Outgoing{ConversationID: 11, HostID: 1, Content: "hi"}); err != nil {
			t.Fatal(err)
		}
		if sent, err := s.Deliver(ctx); sent != 0 || !errors.Is(err, inboxsync.ErrAccountMismatch) {
			t.Errorf("Deliver: %d sent, %v; want none and ErrAccountMismatch", sent, err)
		}

		// The right account syncs, asking /me once for both passes.
		me.n.Store(0)
		s = inboxsync.New(f.st, acct, newClient(t, f.srv, bookingsync.WithHTTPClient(hc)))
		mustSync(t, s)
		mustSync(t, s)
		if n := me.n.Load(); n != 1 {
			t.Errorf("GET /me asked %d times over two passes; want once", n)
		}

		// An account the caller learned from GET /me is not asked again,
		// and still compared.
		me.n.Store(0)
		c := newClient(t, f.srv, bookingsync.WithHTTPClient(hc))
		mustSync(t, inboxsync.New(f.st, acct, c, inboxsync.WithTokenAccount(acct)))
		_, err = inboxsync.New(f.st, other.ID(), c, inboxsync.WithTokenAccount(acct)).Sync(ctx)
		if n := me.n.Load(); n != 0 || !errors.Is(err, inboxsync.ErrAccountMismatch) {
			t.Errorf("WithTokenAccount: GET /me asked %d times, mismatch %v; want none, and ErrAccountMismatch", n, err)
		}
	})
}

// A syncer without a client fails with an error, not a panic.
func TestSyncNilClient(t *testing.T) {
	t.Parallel()
	st := openStore(t, dbtestSQLite(t))
	s := inboxsync.New(st, acct, nil)
	if _, err := s.Sync(context.Background()); !errors.Is(err, inboxsync.ErrNilClient) {
		t.Errorf("Sync: %v; want ErrNilClient", err)
	}
	err := s.HandleEvent(context.Background(), &bookingsync.WebhookEvent{AccountID: acct, Event: bookingsync.EventInboxConversationUpdated,
		Resource: []byte(`{"id": 11}`)})
	if !errors.Is(err, inboxsync.ErrNilClient) {
		t.Errorf("HandleEvent: %v; want ErrNilClient", err)
	}
	if _, err := inboxsync.New(nil, acct, nil).Sync(context.Background()); !errors.Is(err, inboxsync.ErrNilClient) {
		t.Errorf("Sync without a store: %v; want ErrNilClient", err)
	}
}
