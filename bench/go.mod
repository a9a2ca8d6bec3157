module github.com/go-bookingsync/bookingsync/bench

go 1.24.0

require github.com/go-bookingsync/bookingsync v0.1.0

require (
	github.com/google/go-querystring v1.2.0 // indirect
	golang.org/x/oauth2 v0.34.0 // indirect
)
