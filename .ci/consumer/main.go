// Command consumer is what a user of this repository writes: .ci/release-check
// copies it into a new module outside the repository, gets the modules as
// a release serves them, and builds and runs it. It uses the client,
// inboxsync and bookingsynctest together: it syncs the fake's seeded
// account into SQLite, reads the copy back, and prints what the check
// looks at: the conversations copied and the User-Agent the client sent,
// which carries the client module's version.
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/go-bookingsync/bookingsync"
	"github.com/go-bookingsync/bookingsync/bookingsynctest"
	"github.com/go-bookingsync/bookingsync/inboxsync"
)

func main() {
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "consumer:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	srv := bookingsynctest.NewServer()
	defer srv.Close()
	client, err := bookingsync.NewClient(bookingsync.WithBaseURL(srv.URL), bookingsync.WithToken(srv.Token()))
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "consumer")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	st, err := inboxsync.Open(ctx, "sqlite:"+filepath.Join(dir, "inbox.db"))
	if err != nil {
		return err
	}
	defer st.Close()
	if _, err := inboxsync.New(st, bookingsynctest.AccountID, client).Sync(ctx); err != nil {
		return err
	}
	convs, err := st.Conversations(ctx, bookingsynctest.AccountID, inboxsync.ConversationQuery{})
	if err != nil {
		return err
	}
	fmt.Println("conversations", len(convs))
	fmt.Println("user-agent", srv.Requests()[0].Header.Get("User-Agent"))
	return nil
}
