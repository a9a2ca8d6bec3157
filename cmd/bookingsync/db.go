package main

import (
	"context"

	"golang.org/x/oauth2"
)

// dbTokenSaver saves the token in an inboxsync database.
func (c *cli) dbTokenSaver(context.Context, string) (func(context.Context, *oauth2.Token) error, string, error) {
	return nil, "", usageError("login: --db needs the inboxsync store, not in this build yet")
}
