package bookingsync_test

import (
	"context"
	"testing"
	"time"

	"github.com/go-bookingsync/bookingsync"
	"github.com/go-bookingsync/bookingsync/bookingsynctest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The sync walk against the fake: what Settled promises.

// TestSyncSettledOnlyWhenNothingShifted walks the fake's conversations two
// a page. Undisturbed, the walk is settled. A conversation of page 1
// deleted while page 1 is applied shifts the later pages left: the walk
// misses a record that was there all along, and says so by not being
// settled, so that its cursor is not persisted and the next walk from the
// old one sees the record.
func TestSyncSettledOnlyWhenNothingShifted(t *testing.T) {
	t.Parallel()
	srv, c := fakeClient(t, bookingsynctest.WithConversationDelay(0))
	ctx := context.Background()
	since := time.Date(2010, 1, 1, 0, 0, 0, 0, time.UTC)
	opts := &bookingsync.ConversationListOptions{ListOptions: bookingsync.ListOptions{PerPage: 2}}
	res, err := bookingsync.SyncAll(ctx, since, opts, c.Conversations.List)
	require.NoError(t, err)
	require.Len(t, res.Items, 4)
	assert.True(t, res.Settled, "an undisturbed walk is settled")
	assert.False(t, res.SyncedAt.IsZero())
	first := res.Items[0].ID

	var seen []int64
	sum, err := bookingsync.SyncEach(ctx, since, opts, c.Conversations.List, func(cv *bookingsync.Conversation) error {
		seen = append(seen, cv.ID)
		if cv.ID == first {
			require.True(t, srv.DeleteConversation(first))
		}
		return nil
	})
	require.NoError(t, err)
	assert.Len(t, seen, 3, "the shifted walk missed a record: %v", seen)
	assert.False(t, sum.Settled, "settled although a deletion shifted the pages")
	assert.Equal(t, []int64{first}, sum.DeletedIDs)
}

// TestSyncPagesHandsOverPagesInOrderWithPrefetch: SyncPages under
// WithPrefetch fetches ahead yet hands the pages over in order, the last
// one marked, each with the deleted ids it adds.
func TestSyncPagesHandsOverPagesInOrderWithPrefetch(t *testing.T) {
	t.Parallel()
	srv := bookingsynctest.NewServer(bookingsynctest.WithoutSeed())
	t.Cleanup(srv.Close)
	c, err := bookingsync.NewClient(bookingsync.WithBaseURL(srv.URL), bookingsync.WithToken(srv.Token()), bookingsync.WithPrefetch(3))
	require.NoError(t, err)
	ids := srv.GenerateConversations(23)
	require.True(t, srv.DeleteConversation(ids[0]))
	since := srv.Now().Add(-time.Hour)
	var numbers []int
	var got []int64
	var lastSeen []bool
	opts := &bookingsync.ConversationListOptions{ListOptions: bookingsync.ListOptions{PerPage: 5}}
	sum, err := bookingsync.SyncPages(context.Background(), c, since, opts, c.Conversations.List, func(p *bookingsync.SyncPage[*bookingsync.Conversation]) error {
		numbers = append(numbers, p.Number)
		lastSeen = append(lastSeen, p.Last)
		for _, cv := range p.Items {
			got = append(got, cv.ID)
		}
		if p.Number == 1 {
			assert.Equal(t, []int64{ids[0]}, p.DeletedIDs, "page 1's deleted ids")
		} else {
			assert.Empty(t, p.DeletedIDs, "page %d adds no deleted id", p.Number)
		}
		assert.True(t, p.Settled, "page %d", p.Number)
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, []int{1, 2, 3, 4, 5}, numbers)
	assert.Equal(t, []bool{false, false, false, false, true}, lastSeen)
	assert.Equal(t, ids[1:], got)
	assert.True(t, sum.Settled)
	assert.Equal(t, 5, sum.Pages)
}
