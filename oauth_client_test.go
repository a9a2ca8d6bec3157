package bookingsync

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
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
	assert.Equal(t, "Jan", h.Firstname)
	require.Equal(t, 2, apiCalls, "api calls")
	require.Equal(t, 1, f.srv.refreshCount(), "refreshes")
	got := store.stored()
	require.NotNil(t, got, "store holds no token")
	require.Equal(t, "rt-2", got.RefreshToken, "store does not hold the rotated refresh token")
	// The next request uses the fresh token directly.
	_, _, err = c.Hosts.Get(context.Background(), 2)
	require.NoError(t, err)
	assert.Equal(t, 3, apiCalls, "api calls")
	assert.Equal(t, 1, f.srv.refreshCount(), "refreshes")
}
