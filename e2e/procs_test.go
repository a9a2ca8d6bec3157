package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// binary is the bookingsync command built by TestMain.
var binary string

// buildBinary builds cmd/bookingsync into dir.
func buildBinary(dir string) error {
	binary = filepath.Join(dir, "bookingsync")
	cmd := exec.Command("go", "build", "-o", binary, ".")
	cmd.Dir = filepath.Join("..", "cmd", "bookingsync")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build: %v\n%s", err, out)
	}
	return nil
}

// proc is the binary running for a test: its stdout lines as they come,
// its stderr kept (JSON logs, for serve) and searchable.
type proc struct {
	t     *testing.T
	name  string
	cmd   *exec.Cmd
	lines chan string

	mu     sync.Mutex
	logs   []string
	logged chan struct{} // closed and replaced at each stderr line
	done   chan struct{}
}

// startProc runs the binary with args and env; the test's end stops it
// with SIGTERM and expects exit 0.
func startProc(t *testing.T, env []string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), env...)
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
	p := &proc{t: t, name: args[0], cmd: cmd, lines: make(chan string, 100), logged: make(chan struct{}), done: make(chan struct{})}
	go func() {
		s := bufio.NewScanner(out)
		for s.Scan() {
			p.lines <- s.Text()
		}
		close(p.lines)
	}()
	go p.readLogs(errp)
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-p.done:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			t.Errorf("bookingsync %s did not stop", p.name)
			<-p.done
		}
		if code := cmd.ProcessState.ExitCode(); code != 0 {
			t.Errorf("bookingsync %s exited %d; stderr:\n%s", p.name, code, p.stderr())
		}
	})
	return p
}

func (p *proc) readLogs(r io.Reader) {
	s := bufio.NewScanner(r)
	s.Buffer(make([]byte, 64<<10), 1<<20)
	for s.Scan() {
		p.mu.Lock()
		p.logs = append(p.logs, s.Text())
		close(p.logged)
		p.logged = make(chan struct{})
		p.mu.Unlock()
	}
	_ = p.cmd.Wait()
	close(p.done)
}

func (p *proc) stderr() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.logs, "\n")
}

// line returns the next stdout line.
func (p *proc) line() string {
	p.t.Helper()
	select {
	case l, ok := <-p.lines:
		if !ok {
			p.t.Fatalf("bookingsync %s ended its output early; stderr:\n%s", p.name, p.stderr())
		}
		return l
	case <-time.After(30 * time.Second):
		p.t.Fatalf("bookingsync %s printed nothing for 30s", p.name)
	}
	return ""
}

// waitLog waits for a JSON log line for which match is true, from the
// from-th line on, and returns the index after it.
func (p *proc) waitLog(what string, from int, match func(map[string]any) bool) int {
	p.t.Helper()
	deadline := time.After(60 * time.Second)
	for i := from; ; {
		p.mu.Lock()
		logs, next := p.logs, p.logged
		p.mu.Unlock()
		for ; i < len(logs); i++ {
			var m map[string]any
			if json.Unmarshal([]byte(logs[i]), &m) == nil && match(m) {
				return i + 1
			}
		}
		select {
		case <-next:
		case <-p.done:
			p.t.Fatalf("bookingsync %s exited before %s; stderr:\n%s", p.name, what, p.stderr())
		case <-deadline:
			p.t.Fatalf("no %s in the log of bookingsync %s within 60s", what, p.name)
		}
	}
}

// logCount is how many log lines there are so far.
func (p *proc) logCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.logs)
}

// freeAddr returns a loopback address with a port free a moment ago: the
// fake needs serve's address (redirect URI, webhook URL) before serve
// starts.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
