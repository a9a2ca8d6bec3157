package dbtest

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

func TestMain(m *testing.M) { os.Exit(Main(m, nil)) }

// skipChild is set in the environment of the child run of
// TestSkipsAreReported.
const skipChild = "DBTEST_SKIP_CHILD"

// TestPostgresSkipped asks for a Postgres database, in the child run only,
// where no server is configured.
func TestPostgresSkipped(t *testing.T) {
	if os.Getenv(skipChild) != "1" {
		t.Skip("run by TestSkipsAreReported")
	}
	Postgres(t)
	t.Fatal("Postgres did not skip without a server")
}

// A run that skipped Postgres tests says so on stderr without -v, in one
// line; a run that skipped none says nothing.
func TestSkipsAreReported(t *testing.T) {
	t.Parallel()
	run := func(env ...string) string {
		cmd := exec.Command(os.Args[0], "-test.run=^TestPostgresSkipped$")
		for _, kv := range os.Environ() {
			if !strings.HasPrefix(kv, PostgresEnv+"=") && !strings.HasPrefix(kv, RequireEnv+"=") && !strings.HasPrefix(kv, skipChild+"=") {
				cmd.Env = append(cmd.Env, kv)
			}
		}
		cmd.Env = append(cmd.Env, env...)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("child: %v\n%s", err, stderr.String())
		}
		return stderr.String()
	}
	if got := run(skipChild + "=1"); got != "inboxsync: Postgres tests skipped: 1 (set "+PostgresEnv+" to a server DSN to run them)\n" {
		t.Errorf("stderr of a run that skipped: %q", got)
	}
	if got := run(); got != "" {
		t.Errorf("stderr of a run that skipped nothing: %q", got)
	}
}
