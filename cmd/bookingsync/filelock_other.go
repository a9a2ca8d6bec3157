//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package main

import "github.com/go-bookingsync/bookingsync"

// fileLocker is nil where bookingsync.FileLocker is not available: there,
// run one command at a time with a stored token that needs refreshing.
func fileLocker(string) bookingsync.Locker { return nil }
