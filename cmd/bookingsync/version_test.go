package main

import (
	"regexp"
	"runtime"
	"strings"
	"testing"
)

// A binary built from the working tree, as the tests build it, has no
// recorded versions of the client and inboxsync: their lines say (devel);
// the tool's own is (devel) too, or what -buildvcs stamps. The release check
// (.ci/release-check) installs a release through a module proxy and checks
// that the same command prints its versions.
func TestVersionPrintsTheRecordedVersions(t *testing.T) {
	t.Parallel()
	r := run(t, nil, "", "version")
	wantCode(t, r, exitOK)
	want := regexp.MustCompile(`^bookingsync (\(devel\)|v\S+) \(` + regexp.QuoteMeta(runtime.Version()+" "+runtime.GOOS+"/"+runtime.GOARCH) + `\)\n` +
		`github\.com/go-bookingsync/bookingsync \(devel\)\n` +
		`github\.com/go-bookingsync/bookingsync/inboxsync \(devel\)\n$`)
	if !want.MatchString(r.stdout) {
		t.Errorf("stdout:\n%s\nwant it to match %s", r.stdout, want)
	}
	wantCode(t, run(t, nil, "", "version", "extra"), exitUsage)
}

func TestRequestsNameTheToolAndItsVersion(t *testing.T) {
	t.Parallel()
	srv, e := fake(t)
	wantCode(t, run(t, e, "", "conversations"), exitOK)
	for _, req := range srv.Requests() {
		if ua := req.Header.Get("User-Agent"); ua != "bookingsync-cli (devel)" && !strings.HasPrefix(ua, "bookingsync-cli/v") {
			t.Fatalf("%s %s: User-Agent %q, want the tool's name and version", req.Method, req.Path, ua)
		}
	}
	if !strings.Contains(run(t, nil, "", "help").stdout, "version ") {
		t.Error("help does not list the version command")
	}
}
