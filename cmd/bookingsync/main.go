package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/go-bookingsync/bookingsync"
)

// Exit codes, documented in the package doc; scripts rely on them.
const (
	exitOK       = 0
	exitError    = 1 // the API or the machine failed: network, 5xx, 429, 422, a refusal
	exitUsage    = 2 // bad flags or arguments; nothing was sent
	exitAuth     = 3 // no token, or the API answered 401/403
	exitNotFound = 4 // the API answered 404
)

// cli is one run of the program: its streams and environment.
type cli struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
	// stderrTTY reports whether stderr is a terminal (progress bars).
	stderrTTY bool
	// secrets are strings no message may show: the passwords of the
	// --db DSNs given (see noteDSN).
	secrets []string
}

// command is one subcommand.
type command struct {
	name    string
	args    string // argument synopsis for the usage line
	summary string // one line for the command list
	help    string // more, for 'help <command>'; optional
	run     func(ctx context.Context, c *cli, cmd *command, args []string) error
}

// commands lists every subcommand; help prints them in this order.
var commands = []*command{
	fakeCommand,
	loginCommand,
	conversationsCommand,
	showCommand,
	replyCommand,
	syncCommand,
	dbCommand,
	webhooksCommand,
	serveCommand,
	versionCommand,
}

func main() {
	ctx, cancel := context.WithCancelCause(context.Background())
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		sig := <-sigs
		// A second signal ends the process at once, as it would have
		// without this handler.
		signal.Reset(os.Interrupt, syscall.SIGTERM)
		cancel(&interruption{sig})
	}()
	c := &cli{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv, stderrTTY: isTerminal(os.Stderr)}
	code := c.main(ctx, os.Args[1:])
	cancel(nil)
	os.Exit(code)
}

// interruption is why the context ended: SIGINT or SIGTERM.
type interruption struct{ sig os.Signal }

func (i *interruption) Error() string { return "interrupted (" + i.name() + ")" }

// name is the signal's usual name.
func (i *interruption) name() string {
	if i.sig == syscall.SIGTERM {
		return "SIGTERM"
	}
	return "SIGINT"
}

// code is the exit code of a command the signal stopped: 128 plus its
// number, as shells report a process the signal killed (130 for SIGINT,
// 143 for SIGTERM), so that `bookingsync sync && next` does not go on.
func (i *interruption) code() int {
	if i.sig == syscall.SIGTERM {
		return 128 + 15
	}
	return 128 + 2
}

// interruptedBy returns the signal that ended ctx, or nil.
func interruptedBy(ctx context.Context) *interruption {
	var in *interruption
	if ctx.Err() != nil && errors.As(context.Cause(ctx), &in) {
		return in
	}
	return nil
}

// stopped is a command's account of what it left when a signal stopped it
// (sync: what the copy kept); fail prints it after "interrupted".
type stopped struct{ what string }

func (s *stopped) Error() string { return s.what }

// main runs the command named by args[0] and returns the exit code.
func (c *cli) main(ctx context.Context, args []string) int {
	if len(args) == 0 {
		code := c.fail(usageError("no command given"))
		fmt.Fprintln(c.stderr)
		c.usage(c.stderr)
		return code
	}
	name := args[0]
	switch name {
	case "help", "-h", "-help", "--help":
		if len(args) > 1 {
			cmd := lookup(args[1])
			if cmd == nil {
				code := c.fail(usageError("unknown command %q", args[1]))
				fmt.Fprintln(c.stderr, "Run 'bookingsync help' for the commands.")
				return code
			}
			_ = cmd.run(ctx, c, cmd, []string{"-h"}) // prints the usage
			return exitOK
		}
		c.usage(c.stdout)
		return exitOK
	}
	cmd := lookup(name)
	if cmd == nil {
		code := c.fail(usageError("unknown command %q", name))
		fmt.Fprintln(c.stderr, "Run 'bookingsync help' for the commands.")
		return code
	}
	err := cmd.run(ctx, c, cmd, args[1:])
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if in := interruptedBy(ctx); in != nil && err != nil {
		// Whatever the command was doing when the signal came, it did
		// not finish: say so, and exit as the signal's.
		msg := "bookingsync: " + in.Error()
		var st *stopped
		if errors.As(err, &st) {
			msg += ": " + st.what
		}
		fmt.Fprintln(c.stderr, c.redact(msg))
		return in.code()
	}
	code := c.fail(err)
	if code == exitUsage {
		// The command's own usage, on stderr: what it takes.
		fmt.Fprintln(c.stderr)
		c.commandHelp(ctx, cmd, c.stderr)
	}
	return code
}

// commandHelp writes cmd's usage and flags to w, as 'help CMD' does.
func (c *cli) commandHelp(ctx context.Context, cmd *command, w io.Writer) {
	cc := *c
	cc.stdout = w
	_ = cmd.run(ctx, &cc, cmd, []string{"-h"})
}

func lookup(name string) *command {
	for _, cmd := range commands {
		if cmd.name == name {
			return cmd
		}
	}
	return nil
}

func (c *cli) usage(w io.Writer) {
	fmt.Fprint(w, "bookingsync is the command-line tool of the BookingSync (Smily) Inbox API.\n\nUsage:\n\n  bookingsync <command> [flags] [arguments]\n\nCommands:\n\n")
	for _, cmd := range commands {
		fmt.Fprintf(w, "  %-14s %s\n", cmd.name, cmd.summary)
	}
	fmt.Fprint(w, "\nEnvironment: BOOKINGSYNC_TOKEN, BOOKINGSYNC_BASE_URL, BOOKINGSYNC_CLIENT_ID, BOOKINGSYNC_CLIENT_SECRET.\n")
	fmt.Fprint(w, "Exit codes: 0 ok, 1 API or runtime error, 2 usage, 3 auth, 4 not found, 130/143 interrupted (SIGINT/SIGTERM).\n")
	fmt.Fprint(w, "Run 'bookingsync help <command>' for a command's flags.\n")
}

func commandUsage(w io.Writer, cmd *command, fs *flag.FlagSet) {
	fmt.Fprintf(w, "Usage: bookingsync %s %s\n\n%s\n", cmd.name, cmd.args, cmd.summary)
	if cmd.help != "" {
		fmt.Fprintf(w, "\n%s\n", cmd.help)
	}
	hasFlags := false
	fs.VisitAll(func(*flag.Flag) { hasFlags = true })
	if hasFlags {
		fmt.Fprint(w, "\nFlags:\n")
		fs.SetOutput(w)
		fs.PrintDefaults()
	}
}

// exitErr carries an exit code and the kind of failure printed on stderr.
type exitErr struct {
	code int
	kind string
	err  error
}

func (e *exitErr) Error() string { return e.err.Error() }
func (e *exitErr) Unwrap() error { return e.err }

// usageError is a mistake in the command line: exit 2, nothing was sent.
func usageError(format string, a ...any) error {
	return &exitErr{code: exitUsage, kind: "usage", err: fmt.Errorf(format, a...)}
}

// authError is a missing or rejected credential: exit 3.
func authError(format string, a ...any) error {
	return &exitErr{code: exitAuth, kind: "auth", err: fmt.Errorf(format, a...)}
}

// classify maps an error to its exit code and the kind word of its stderr
// line: "usage", "auth", "not found" or "error".
func classify(err error) (int, string) {
	var e *exitErr
	switch {
	case errors.As(err, &e):
		return e.code, e.kind
	case errors.Is(err, bookingsync.ErrUnauthorized), errors.Is(err, bookingsync.ErrForbidden), errors.Is(err, bookingsync.ErrNoToken):
		return exitAuth, "auth"
	case errors.Is(err, bookingsync.ErrNotFound):
		return exitNotFound, "not found"
	}
	return exitError, "error"
}

// fail prints err as one line, "bookingsync: <kind>: <message>", and
// returns its exit code. The SDK's errors carry no token or secret; the
// messages here name none either.
func (c *cli) fail(err error) int {
	if err == nil {
		return exitOK
	}
	if errors.Is(err, context.Canceled) {
		fmt.Fprintln(c.stderr, "bookingsync: error: interrupted")
		return exitError
	}
	code, kind := classify(err)
	// The SDK's messages start with "bookingsync: " too; say it once.
	msg := strings.Join(strings.Fields(err.Error()), " ") // one line
	msg = strings.ReplaceAll(strings.TrimPrefix(msg, "bookingsync: "), ": bookingsync: ", ": ")
	fmt.Fprintf(c.stderr, "bookingsync: %s: %s\n", kind, c.redact(msg))
	return code
}

// flags returns a flag set for cmd; parse reports its errors.
func flags(cmd *command) *flag.FlagSet {
	fs := flag.NewFlagSet(cmd.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// parse parses args with fs, allowing flags after positional arguments
// (`reply 11 --host 2 "text"`); "--" ends the flags. It wants between min
// and max positional arguments (max < 0: any number). -h prints the
// command's usage to stdout and returns flag.ErrHelp.
func (c *cli) parse(cmd *command, fs *flag.FlagSet, args []string, min, max int) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				commandUsage(c.stdout, cmd, fs)
				return nil, err
			}
			return nil, usageError("%s: %v", cmd.name, err)
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		if i := len(args) - len(rest) - 1; i >= 0 && args[i] == "--" {
			pos = append(pos, rest...)
			break
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
	if len(pos) < min || (max >= 0 && len(pos) > max) {
		return nil, usageError("%s: want %s", cmd.name, strings.TrimSpace("bookingsync "+cmd.name+" "+cmd.args))
	}
	return pos, nil
}

// durationValue is a flag's Go duration (flag.Duration's, with an error
// that says what it wants rather than "parse error").
type durationValue time.Duration

func (d *durationValue) Set(s string) error {
	v, err := time.ParseDuration(s)
	if err != nil {
		return errors.New("want a Go duration such as 30s, 5m or 1h30m (a unit is required)")
	}
	*d = durationValue(v)
	return nil
}

func (d *durationValue) String() string { return time.Duration(*d).String() }

// durationFlag defines a duration flag on fs, as fs.Duration does.
func durationFlag(fs *flag.FlagSet, name string, value time.Duration, usage string) *time.Duration {
	p := &value
	fs.Var((*durationValue)(p), name, usage)
	return p
}
