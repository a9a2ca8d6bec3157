// Command inbox is the inbox walkthrough. This first version lists the
// account's conversations when BOOKINGSYNC_TOKEN is set; the in-memory
// server it falls back to lands with bookingsynctest.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/go-bookingsync/bookingsync"
)

func main() {
	token := os.Getenv("BOOKINGSYNC_TOKEN")
	if token == "" {
		fmt.Println("inbox: set BOOKINGSYNC_TOKEN (and optionally BOOKINGSYNC_BASE_URL) to run against an account")
		return
	}
	opts := []bookingsync.Option{bookingsync.WithToken(token)}
	if u := os.Getenv("BOOKINGSYNC_BASE_URL"); u != "" {
		opts = append(opts, bookingsync.WithBaseURL(u))
	}
	c, err := bookingsync.NewClient(opts...)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	convs, _, err := c.Conversations.List(context.Background(), nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for _, conv := range convs {
		fmt.Println(conv.ID, conv.Subject)
	}
}
