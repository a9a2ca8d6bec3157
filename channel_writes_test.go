package bookingsync_test

import (
	"context"
	"strings"
	"testing"

	"github.com/go-bookingsync/bookingsync"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A channel's writes around its bookings: the guest, the source.
func TestFakeChannelWrites(t *testing.T) {
	t.Parallel()
	srv, reader := fakeClient(t)
	ctx := context.Background()
	c, err := bookingsync.NewClient(bookingsync.WithBaseURL(srv.URL),
		bookingsync.WithToken(srv.IssueToken("clients_read", "clients_write", "bookings_read", "bookings_write")))
	require.NoError(t, err)

	g, _, err := c.Clients.Create(ctx, &bookingsync.NewGuest{Fullname: "Ana Lopes", PreferredLocale: "pt",
		Emails: []bookingsync.GuestEmailInput{{Label: "default", Email: "ana@example.com"}},
		Phones: []bookingsync.GuestPhoneInput{{Label: "mobile", Number: "+351 912 345 678"}}})
	require.NoError(t, err)
	assert.Equal(t, "Ana Lopes", g.Name())
	require.Len(t, g.Emails, 1)
	assert.Equal(t, "ana@example.com", g.Emails[0].Email)
	g, _, err = c.Clients.Update(ctx, g.ID, &bookingsync.GuestUpdate{Company: bookingsync.Ptr("Lopes Lda"),
		Emails: []bookingsync.GuestEmailInput{{Label: "work", Email: "ana@lopes.example"}}})
	require.NoError(t, err)
	assert.Equal(t, "Lopes Lda", g.Company)
	require.Len(t, g.Emails, 1, "a list replaces the guest's")
	assert.Equal(t, "work", g.Emails[0].Label)
	assert.Len(t, g.Phones, 1, "an absent list is kept")

	src, _, err := c.Sources.Create(ctx, &bookingsync.NewSource{Name: "My Channel"})
	require.NoError(t, err)
	assert.Equal(t, 3, src.Position, "last")
	src, _, err = c.Sources.Update(ctx, src.ID, &bookingsync.SourceUpdate{Position: bookingsync.Ptr(1)})
	require.NoError(t, err)
	assert.Equal(t, "My Channel", src.Name)
	assert.Equal(t, 1, src.Position)

	// The default token reads but does not write them.
	_, _, err = reader.Clients.Create(ctx, &bookingsync.NewGuest{Firstname: "A", Lastname: "B"})
	assert.ErrorIs(t, err, bookingsync.ErrForbidden)
	_, _, err = reader.Sources.Create(ctx, &bookingsync.NewSource{Name: "X"})
	assert.ErrorIs(t, err, bookingsync.ErrForbidden)

	// What the reference's constraints rule out is refused before any
	// request.
	before := srv.RequestCount("", "")
	for name, call := range map[string]func() error{
		"no name": func() error { _, _, err := c.Clients.Create(ctx, &bookingsync.NewGuest{Firstname: "Ana"}); return err },
		"long name": func() error {
			_, _, err := c.Clients.Create(ctx, &bookingsync.NewGuest{Fullname: strings.Repeat("a", 151)})
			return err
		},
		"email": func() error {
			_, _, err := c.Clients.Update(ctx, g.ID, &bookingsync.GuestUpdate{Emails: []bookingsync.GuestEmailInput{{Label: "x", Email: "nope"}}})
			return err
		},
		"phone label": func() error {
			_, _, err := c.Clients.Update(ctx, g.ID, &bookingsync.GuestUpdate{Phones: []bookingsync.GuestPhoneInput{{Number: "1"}}})
			return err
		},
		"address label": func() error {
			_, _, err := c.Clients.Update(ctx, g.ID, &bookingsync.GuestUpdate{Addresses: []bookingsync.GuestAddressInput{{City: "Porto"}}})
			return err
		},
		"nil guest":   func() error { _, _, err := c.Clients.Create(ctx, nil); return err },
		"source name": func() error { _, _, err := c.Sources.Create(ctx, &bookingsync.NewSource{}); return err },
		"long source": func() error {
			_, _, err := c.Sources.Update(ctx, src.ID, &bookingsync.SourceUpdate{Name: bookingsync.Ptr(strings.Repeat("s", 51))})
			return err
		},
		"nil source edit": func() error { _, _, err := c.Sources.Update(ctx, src.ID, nil); return err },
	} {
		assert.ErrorIs(t, call(), bookingsync.ErrInvalidRequest, name)
	}
	assert.Equal(t, before, srv.RequestCount("", ""), "nothing sent")
}
