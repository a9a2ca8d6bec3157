module github.com/go-bookingsync/bookingsync/cmd/bookingsync

go 1.26.0

require (
	github.com/go-bookingsync/bookingsync v0.0.0
	golang.org/x/oauth2 v0.34.0
)

require github.com/google/go-querystring v1.2.0 // indirect

// The client is resolved from this repository: through go.work at the root,
// and through this replace when the module is built on its own (GOWORK=off).
replace github.com/go-bookingsync/bookingsync => ../../
