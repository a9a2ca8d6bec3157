module github.com/go-bookingsync/bookingsync/examples/sync

go 1.26.0

require github.com/go-bookingsync/bookingsync v0.0.0

require (
	github.com/google/go-querystring v1.2.0 // indirect
	golang.org/x/oauth2 v0.34.0 // indirect
)

// Resolved from this repository: through go.work at the root, and through
// these replaces when built on its own (GOWORK=off).
replace (
	github.com/go-bookingsync/bookingsync => ../../
	github.com/go-bookingsync/bookingsync/inboxsync => ../../inboxsync
)
