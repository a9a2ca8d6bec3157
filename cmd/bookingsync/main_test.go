package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/go-bookingsync/bookingsync/bookingsynctest"
)

// The tests drive the built binary, as a script or a person would.

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the output")

// binary is the path of the bookingsync command built by TestMain.
var binary string

func TestMain(m *testing.M) {
	flag.Parse()
	dir, err := os.MkdirTemp("", "bookingsync-cli-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "bookingsync")
	args := []string{"build", "-o", binary}
	if raceEnabled {
		args = append(args, "-race")
	}
	if out, err := exec.Command("go", append(args, ".")...).CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	reportPostgresSkips()
	os.Exit(code)
}

// result is what one run of the binary printed and returned.
type result struct {
	stdout, stderr string
	code           int
}

// env is a run's environment on top of a clean one: a private config
// directory (so `login` and the token file stay in the test), UTC times.
type env map[string]string

// run runs the binary with args and the given environment.
func run(t *testing.T, e env, stdin string, args ...string) result {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = baseEnv(t, e)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("running bookingsync %s: %v", strings.Join(args, " "), err)
	}
	return result{stdout: out.String(), stderr: errb.String(), code: cmd.ProcessState.ExitCode()}
}

func baseEnv(t *testing.T, e env) []string {
	cfg := e["XDG_CONFIG_HOME"]
	if cfg == "" {
		cfg = t.TempDir()
	}
	out := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + cfg, "XDG_CONFIG_HOME=" + cfg, "TZ=UTC"}
	for k, v := range e {
		if k != "XDG_CONFIG_HOME" {
			out = append(out, k+"="+v)
		}
	}
	return out
}

// fake starts an in-process fake whose delayed conversation is visible at
// once, and returns it with the environment pointing the binary at it.
func fake(t *testing.T, opts ...bookingsynctest.Option) (*bookingsynctest.Server, env) {
	t.Helper()
	srv := bookingsynctest.NewServer(append([]bookingsynctest.Option{bookingsynctest.WithConversationDelay(0)}, opts...)...)
	t.Cleanup(srv.Close)
	return srv, env{"BOOKINGSYNC_BASE_URL": srv.URL, "BOOKINGSYNC_TOKEN": srv.Token()}
}

// wantCode fails the test unless r exited with code.
func wantCode(t *testing.T, r result, code int) {
	t.Helper()
	if r.code != code {
		t.Fatalf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, code, r.stdout, r.stderr)
	}
}

// stamps are the absolute times of a thread, which move with the clock.
var stamps = regexp.MustCompile(`\d{4}-\d\d-\d\d \d\d:\d\d`)

// golden compares got with testdata/<name>.golden, or rewrites it with
// -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	got = stamps.ReplaceAllString(got, "YYYY-MM-DD hh:mm")
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (go test -update rewrites it)\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}

// decodeJSON parses a --json output strictly into v.
func decodeJSON(t *testing.T, r result, v any) {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(r.stdout))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("--json output does not parse: %v\n%s", err, r.stdout)
	}
}

// proc is the binary running in the background.
type proc struct {
	cmd    *exec.Cmd
	stdout *bufio.Scanner
	stderr *bufio.Scanner
	done   chan struct{}
}

// start runs the binary in the background; the test's end interrupts it
// and fails the test unless it then exits cleanly.
func start(t *testing.T, e env, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = baseEnv(t, e)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	errp, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, stdout: bufio.NewScanner(out), stderr: bufio.NewScanner(errp), done: make(chan struct{})}
	t.Cleanup(func() {
		select {
		case <-p.done: // the test waited for it
			return
		default:
		}
		_ = cmd.Process.Signal(os.Interrupt)
		exited := make(chan struct{})
		go func() { _ = cmd.Wait(); close(exited) }()
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			t.Errorf("bookingsync %s did not stop on interrupt", args[0])
		}
	})
	return p
}

// wait reads what is left of stdout and stderr and waits for the exit.
func (p *proc) wait(t *testing.T) result {
	t.Helper()
	var r result
	for p.stdout.Scan() {
		r.stdout += p.stdout.Text() + "\n"
	}
	for p.stderr.Scan() {
		r.stderr += p.stderr.Text() + "\n"
	}
	err := p.cmd.Wait()
	close(p.done)
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatal(err)
	}
	r.code = p.cmd.ProcessState.ExitCode()
	return r
}

// line returns the next line of s, failing the test at its end.
func line(t *testing.T, s *bufio.Scanner) string {
	t.Helper()
	if !s.Scan() {
		t.Fatalf("output ended early (%v)", s.Err())
	}
	return s.Text()
}

// startFake runs `bookingsync fake` as another language's test suite would:
// spawn it, read the first line for the URL and the second for the token,
// interrupt it at the end.
func startFake(t *testing.T, args ...string) (url, token string) {
	t.Helper()
	_, url, token = startFakeProc(t, args...)
	return url, token
}

// startFakeProc is startFake that also returns the process, whose stdout
// has the lines of further accounts next.
func startFakeProc(t *testing.T, args ...string) (p *proc, url, token string) {
	t.Helper()
	p = start(t, nil, append([]string{"fake"}, args...)...)
	t.Cleanup(func() {
		// Runs before start's cleanup: interrupt, then check the exit.
		_ = p.cmd.Process.Signal(os.Interrupt)
		if r := p.wait(t); r.code != 0 {
			t.Errorf("fake exited with %d on interrupt; stderr:\n%s", r.code, r.stderr)
		}
	})
	l1, l2 := line(t, p.stdout), line(t, p.stdout)
	var ok1, ok2 bool
	url, ok1 = strings.CutPrefix(l1, "listening on ")
	token, ok2 = strings.CutPrefix(l2, "token ")
	if !ok1 || !ok2 || token == "" {
		t.Fatalf("fake's first lines are %q, %q", l1, l2)
	}
	return p, url, token
}
