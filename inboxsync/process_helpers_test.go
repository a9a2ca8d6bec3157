package inboxsync_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// The multi-process tests re-execute the test binary (the one way child
// processes are started across the modules; the root module and dbtest
// have reduced copies): a child runs only the helper test named in
// -test.run, which skips unless isChild, reads its orders from the
// environment, says how far it got with SIGNAL lines on stdout (signal),
// may wait for the parent's word on stdin (await), and prints one RESULT
// line of results (report). The parent waits for signals, never for a
// time.
const childEnv = "INBOXSYNC_CHILD"

// isChild reports whether this process is a child started for role.
func isChild(role string) bool { return os.Getenv(childEnv) == role }

// child is a re-executed test binary.
type child struct {
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	out     bytes.Buffer // stdout, complete once wait returns
	err     bytes.Buffer
	signals chan string // the text of each "SIGNAL <text>" line, in order
	copied  chan struct{}
}

// startChild runs the helper test helper as role, with env added.
func startChild(t *testing.T, helper, role string, env ...string) *child {
	t.Helper()
	c := &child{signals: make(chan string, 16), copied: make(chan struct{})}
	c.cmd = exec.Command(os.Args[0], "-test.run=^"+helper+"$", "-test.count=1", "-test.v=false")
	c.cmd.Env = append(os.Environ(), append([]string{childEnv + "=" + role}, env...)...)
	c.cmd.Stderr = &c.err
	var err error
	if c.stdin, err = c.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := c.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(c.copied)
		defer close(c.signals)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			line := sc.Text()
			if text, ok := strings.CutPrefix(line, "SIGNAL "); ok {
				c.signals <- text
			}
			c.out.WriteString(line + "\n")
		}
	}()
	t.Cleanup(c.kill)
	return c
}

// next waits for the child's next signal and returns its text. It fails
// t when the child ends first, or after a minute: the bound only ends a
// broken test.
func (c *child) next(t *testing.T) string {
	t.Helper()
	select {
	case text, ok := <-c.signals:
		if ok {
			return text
		}
	case <-time.After(time.Minute):
	}
	c.kill() // then its output is complete
	t.Fatalf("child %d gave no signal:\nstdout:\n%s\nstderr:\n%s", c.cmd.Process.Pid, c.out.String(), c.err.String())
	return ""
}

// tell sends the child a line, which it reads with await.
func (c *child) tell(t *testing.T, line string) {
	t.Helper()
	if _, err := io.WriteString(c.stdin, line+"\n"); err != nil {
		t.Fatalf("telling child %d %q: %v", c.cmd.Process.Pid, line, err)
	}
}

// kill ends the child at once (SIGKILL) unless it has ended.
func (c *child) kill() {
	if c.cmd.ProcessState == nil {
		c.cmd.Process.Kill()
		<-c.copied
		c.cmd.Wait()
	}
}

// wait waits for the child and decodes its result line into v.
func (c *child) wait(t *testing.T, v any) {
	t.Helper()
	<-c.copied
	if err := c.cmd.Wait(); err != nil {
		t.Fatalf("child %d: %v\nstdout:\n%s\nstderr:\n%s", c.cmd.Process.Pid, err, c.out.String(), c.err.String())
	}
	sc := bufio.NewScanner(&c.out)
	for sc.Scan() {
		if line := sc.Bytes(); bytes.HasPrefix(line, []byte("RESULT ")) {
			if err := json.Unmarshal(line[len("RESULT "):], v); err != nil {
				t.Fatalf("child result: %v", err)
			}
			return
		}
	}
	t.Fatalf("child %d printed no result:\n%s\n%s", c.cmd.Process.Pid, c.out.String(), c.err.String())
}

// signal tells the parent, in a child, how far it got (child.next).
func signal(text string) { fmt.Printf("SIGNAL %s\n", text) }

// parentSays is the parent's lines to a child (child.tell), read once.
var parentSays = sync.OnceValue(func() <-chan string {
	ch := make(chan string)
	go func() {
		sc := bufio.NewScanner(os.Stdin)
		for sc.Scan() {
			ch <- sc.Text()
		}
		close(ch)
	}()
	return ch
})

// await waits, in a child, until the parent tells it line. A parent gone
// ends the child.
func await(line string) {
	for got := range parentSays() {
		if got == line {
			return
		}
	}
	os.Exit(2)
}

// stall signals text, in a child, and blocks until the parent, which
// kills it, is gone.
func stall(text string) {
	signal(text)
	for range parentSays() {
	}
	os.Exit(2)
}

// report prints a child's result line.
func report(v any) {
	b, _ := json.Marshal(v)
	fmt.Printf("RESULT %s\n", b)
}

// rotatingServer is a token endpoint and a tiny API for several accounts,
// shared by every process of a test. Each refresh rotates the account's
// refresh token and kills the old one together with its access token; a
// spent refresh token is refused with invalid_grant and counted. It also
// counts refreshes of a token that had more than its due life left (a
// process that did not re-read the store under the lock).
type rotatingServer struct {
	*httptest.Server
	lifetime time.Duration // access token life (expires_in)
	early    time.Duration // a refresh sooner than this after issue is premature

	mu        sync.Mutex
	n         int
	accounts  map[int64]*rotatingAccount
	byAccess  map[string]int64
	byRefresh map[string]int64 // every refresh token ever issued
}

type rotatingAccount struct {
	access, refresh string
	issued          time.Time
	refreshes       int
	spent           int // spent refresh tokens presented
	premature       int
	served          int
}

func newRotatingServer(t *testing.T, lifetime, early time.Duration) *rotatingServer {
	s := &rotatingServer{lifetime: lifetime, early: early, accounts: map[int64]*rotatingAccount{},
		byAccess: map[string]int64{}, byRefresh: map[string]int64{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /oauth/token", s.token)
	mux.HandleFunc("GET /api/v3/me", s.me)
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

func (s *rotatingServer) config() *oauth2.Config {
	return &oauth2.Config{ClientID: "app", ClientSecret: "app-secret",
		Endpoint: oauth2.Endpoint{TokenURL: s.URL + "/oauth/token", AuthStyle: oauth2.AuthStyleInParams}}
}

// install issues an account's first token pair.
func (s *rotatingServer) install(id int64) *oauth2.Token {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := &rotatingAccount{}
	s.accounts[id] = a
	s.issueLocked(id, a)
	return &oauth2.Token{AccessToken: a.access, RefreshToken: a.refresh, TokenType: "Bearer", Expiry: a.issued.Add(s.lifetime)}
}

func (s *rotatingServer) issueLocked(id int64, a *rotatingAccount) {
	s.n++
	delete(s.byAccess, a.access)
	a.access, a.refresh, a.issued = fmt.Sprintf("at-%d-%d", id, s.n), fmt.Sprintf("rt-%d-%d", id, s.n), time.Now()
	s.byAccess[a.access] = id
	s.byRefresh[a.refresh] = id
}

func (s *rotatingServer) token(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	rt := r.PostForm.Get("refresh_token")
	s.mu.Lock()
	defer s.mu.Unlock()
	id, known := s.byRefresh[rt]
	a := s.accounts[id]
	if !known || a == nil || r.PostForm.Get("grant_type") != "refresh_token" {
		oauthFail(w)
		return
	}
	if a.refresh != rt {
		a.spent++
		oauthFail(w)
		return
	}
	if time.Since(a.issued) < s.early {
		a.premature++
	}
	a.refreshes++
	s.issueLocked(id, a)
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"access_token": a.access, "refresh_token": a.refresh,
		"token_type": "Bearer", "expires_in": int(s.lifetime / time.Second)})
}

func oauthFail(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusUnauthorized)
	w.Write([]byte(`{"error":"invalid_grant","error_description":"The provided authorization grant is invalid."}`))
}

func (s *rotatingServer) me(w http.ResponseWriter, r *http.Request) {
	tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	s.mu.Lock()
	id, ok := s.byAccess[tok]
	a := s.accounts[id]
	if ok && time.Since(a.issued) < s.lifetime {
		a.served++
	} else {
		ok = false
	}
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/vnd.api+json")
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer realm="Doorkeeper", error="invalid_token", error_description="The access token is invalid"`)
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"error":"Not authorized"}`))
		return
	}
	fmt.Fprintf(w, `{"links":{"accounts_applications.account":"https://www.bookingsync.com/api/v3/accounts/{accounts_applications.account}"},"accounts_applications":[{"links":{"account":%d},"id":%d}],"meta":{}}`, id, id)
}

// stats returns a copy of the account's counters.
func (s *rotatingServer) stats(id int64) rotatingAccount {
	s.mu.Lock()
	defer s.mu.Unlock()
	return *s.accounts[id]
}

// envInt64s parses a comma list of ids.
func envInt64s(name string) []int64 {
	var out []int64
	for _, f := range strings.Split(os.Getenv(name), ",") {
		if n, err := strconv.ParseInt(f, 10, 64); err == nil {
			out = append(out, n)
		}
	}
	return out
}

func envDuration(name string) time.Duration {
	d, _ := time.ParseDuration(os.Getenv(name))
	return d
}

// joinInt64s writes ids as a comma list.
func joinInt64s(ids []int64) string {
	var parts []string
	for _, id := range ids {
		parts = append(parts, strconv.FormatInt(id, 10))
	}
	return strings.Join(parts, ",")
}

// getenv is os.Getenv, for the children's orders.
func getenv(name string) string { return os.Getenv(name) }

// rotatingConfig is the OAuth configuration of a rotatingServer at url, as
// a child rebuilds it.
func rotatingConfig(url string) *oauth2.Config {
	return (&rotatingServer{Server: &httptest.Server{URL: url}}).config()
}
