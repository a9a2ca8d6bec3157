package bookingsync

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// Child processes are started one way across the modules (this is the
// root module's copy of inboxsync's process_helpers_test.go, reduced to
// what it uses): a child is the test binary re-executed to run only the
// helper test named in -test.run, which skips unless the environment says
// it is a child (isChild); it says how far it got with SIGNAL lines on
// stdout (signal), which the parent waits for (child.next), and ends when
// its standard input does, that is when the parent is gone.
const childEnv = "BOOKINGSYNC_CHILD"

// isChild reports whether this process is a child started for role.
func isChild(role string) bool { return os.Getenv(childEnv) == role }

// child is a re-executed test binary.
type child struct {
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	signals chan string // the text of each "SIGNAL <text>" line, in order
	copied  chan struct{}
}

// startChild runs the helper test helper as role, with env added; its
// stderr is the parent's.
func startChild(tb testing.TB, helper, role string, env ...string) *child {
	tb.Helper()
	c := &child{signals: make(chan string, 16), copied: make(chan struct{})}
	c.cmd = exec.Command(os.Args[0], "-test.run=^"+helper+"$", "-test.count=1", "-test.v=false", "-test.bench=^$")
	c.cmd.Env = append(os.Environ(), append([]string{childEnv + "=" + role}, env...)...)
	c.cmd.Stderr = os.Stderr
	var err error
	if c.stdin, err = c.cmd.StdinPipe(); err != nil {
		tb.Fatal(err)
	}
	stdout, err := c.cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := c.cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	go func() {
		defer close(c.copied)
		defer close(c.signals)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if text, ok := strings.CutPrefix(sc.Text(), "SIGNAL "); ok {
				c.signals <- text
			}
		}
	}()
	tb.Cleanup(c.kill)
	return c
}

// next waits for the child's next signal and returns its text. It fails
// tb when the child ends first, or after a minute: the bound only ends a
// broken test.
func (c *child) next(tb testing.TB) string {
	tb.Helper()
	select {
	case text, ok := <-c.signals:
		if ok {
			return text
		}
	case <-time.After(time.Minute):
	}
	c.kill()
	tb.Fatalf("child %d gave no signal", c.cmd.Process.Pid)
	return ""
}

// kill ends the child at once (SIGKILL) unless it has ended.
func (c *child) kill() {
	if c.cmd.ProcessState == nil {
		c.cmd.Process.Kill()
		<-c.copied
		c.cmd.Wait()
	}
}

// signal tells the parent, in a child, how far it got (child.next).
func signal(text string) { fmt.Printf("SIGNAL %s\n", text) }

// untilParentGone blocks, in a child, until its standard input ends.
func untilParentGone() { io.Copy(io.Discard, os.Stdin) }
