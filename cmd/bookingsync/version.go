package main

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/go-bookingsync/bookingsync"
)

// The modules whose versions `version` prints: this tool's and the two it
// is built with.
const (
	cliModule       = "github.com/go-bookingsync/bookingsync/cmd/bookingsync"
	clientModule    = "github.com/go-bookingsync/bookingsync"
	inboxsyncModule = "github.com/go-bookingsync/bookingsync/inboxsync"
)

var versionCommand = &command{
	name:    "version",
	summary: "print the versions of the tool and of the modules it was built with",
	help: `The versions are those the go command recorded in the binary: "v0.1.0" for
a release ("go install …/cmd/bookingsync@v0.1.0"), a pseudo-version for a
commit, "(devel)" for a build from a working tree. The first line is the
tool's, with the Go version and platform; then the client's and inboxsync's.`,
	run: runVersion,
}

func runVersion(_ context.Context, c *cli, cmd *command, args []string) error {
	if _, err := c.parse(cmd, flags(cmd), args, 0, 0); err != nil {
		return err
	}
	info := buildInfo()
	fmt.Fprintf(c.stdout, "bookingsync %s (%s %s/%s)\n", bookingsync.ModuleVersion(info, cliModule), runtime.Version(), runtime.GOOS, runtime.GOARCH)
	for _, path := range []string{clientModule, inboxsyncModule} {
		fmt.Fprintf(c.stdout, "%s %s\n", path, bookingsync.ModuleVersion(info, path))
	}
	return nil
}

// userAgent names the tool and its version in every request:
// "bookingsync-cli/v0.1.0", or "bookingsync-cli (devel)" for a build from a
// working tree.
func userAgent() string {
	if v := bookingsync.ModuleVersion(buildInfo(), cliModule); v != bookingsync.DevelVersion {
		return "bookingsync-cli/" + v
	}
	return "bookingsync-cli " + bookingsync.DevelVersion
}

// buildInfo is the binary's build information, empty if it has none.
func buildInfo() *debug.BuildInfo {
	if info, ok := debug.ReadBuildInfo(); ok {
		return info
	}
	return &debug.BuildInfo{}
}
