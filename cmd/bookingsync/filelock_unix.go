//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package main

import "github.com/go-bookingsync/bookingsync"

// fileLocker is the lock the commands take around a refresh of the token
// file: flock(2) on path, so that two commands refreshing at once (a
// `sync --watch` and a `reply`, say) never spend one refresh token twice.
func fileLocker(path string) bookingsync.Locker { return bookingsync.NewFileLocker(path) }
