package main

import "context"

var syncCommand = &command{name: "sync", summary: "Sync (to come).", run: func(context.Context, *cli, *command, []string) error { return usageError("sync: not yet") }}
