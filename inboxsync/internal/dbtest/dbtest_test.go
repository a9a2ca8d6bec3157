package dbtest

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

func TestMain(m *testing.M) { os.Exit(Main(m, nil)) }

// Child processes are started as in inboxsync's process_helpers_test.go,
// reduced to what this package uses: the test binary re-executed to run
// only a helper test, which skips unless isChild.
const childEnv = "DBTEST_CHILD"

// isChild reports whether this process is a child started for role.
func isChild(role string) bool { return os.Getenv(childEnv) == role }

// runChild runs the helper test helper as role, with the environment
// stripped of the Postgres variables, and returns its stderr. Role ""
// runs it as no child: it skips.
func runChild(t *testing.T, helper, role string) string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+helper+"$", "-test.count=1", "-test.v=false")
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, PostgresEnv+"=") && !strings.HasPrefix(kv, RequireEnv+"=") && !strings.HasPrefix(kv, childEnv+"=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	if role != "" {
		cmd.Env = append(cmd.Env, childEnv+"="+role)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("child: %v\n%s", err, stderr.String())
	}
	return stderr.String()
}

// TestPostgresSkippedChild asks for a Postgres database, in the child run
// only, where no server is configured.
func TestPostgresSkippedChild(t *testing.T) {
	if !isChild("skip") {
		t.Skip("a child process of TestSkipsAreReported")
	}
	Postgres(t)
	t.Fatal("Postgres did not skip without a server")
}

// A run that skipped Postgres tests says so on stderr without -v, in one
// line; a run that skipped none says nothing.
func TestSkipsAreReported(t *testing.T) {
	t.Parallel()
	if got := runChild(t, "TestPostgresSkippedChild", "skip"); got != "inboxsync: Postgres tests skipped: 1 (set "+PostgresEnv+" to a server DSN to run them)\n" {
		t.Errorf("stderr of a run that skipped: %q", got)
	}
	if got := runChild(t, "TestPostgresSkippedChild", ""); got != "" {
		t.Errorf("stderr of a run that skipped nothing: %q", got)
	}
}
