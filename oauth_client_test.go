package bookingsync

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestClientRefreshesARevokedTokenOnce: the API rejects a token the local
// clock still thinks valid; the client refreshes through the stored source
// once, saves the rotated token, and resends once.
func TestClientRefreshesARevokedTokenOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	store := &memStore{}
	f.seed(store)
	var apiCalls int
	f.srv.Config.Handler.(*http.ServeMux).HandleFunc("GET /api/v3/hosts/2", func(w http.ResponseWriter, r *http.Request) {
		apiCalls++
		if r.Header.Get("Authorization") != "Bearer at-2" {
			unauthorized(w)
			return
		}
		serveJSON(w, 200, fixture(t, "hosts/inbox_write-scope-response.json"))
	})
	c, err := NewClient(WithBaseURL(f.srv.URL), WithTokenSource(f.source(store)))
	require.NoError(t, err)
	h, _, err := c.Hosts.Get(context.Background(), 2)
	require.NoError(t, err)
	require.False(t, h.Firstname != "Jan" || apiCalls != 2 || f.srv.refreshCount() != 1, "host %q, api calls %d, refreshes %d; want Jan, 2, 1", h.Firstname, apiCalls, f.srv.refreshCount())
	got := store.stored()
	require.False(t, got == nil || got.RefreshToken != "rt-2", "store holds %v, want the rotated refresh token", got)
	// The next request uses the fresh token directly.
	_, _, err = c.Hosts.Get(context.Background(), 2)
	require.False(t, err != nil || apiCalls != 3 || f.srv.refreshCount() != 1, "err %v, api calls %d, refreshes %d", err, apiCalls, f.srv.refreshCount())
}
