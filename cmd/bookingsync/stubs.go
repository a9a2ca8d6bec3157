package main

import "context"

var loginCommand = &command{name: "login", summary: "Log in (to come).", run: func(context.Context, *cli, *command, []string) error { return usageError("login: not yet") }}
var syncCommand = &command{name: "sync", summary: "Sync (to come).", run: func(context.Context, *cli, *command, []string) error { return usageError("sync: not yet") }}
