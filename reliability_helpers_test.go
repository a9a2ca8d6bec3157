package bookingsync

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeClock is the client's clock and sleep in tests: sleeping advances
// it at once, records the duration and calls onSleep (which may, say,
// cancel a context).
type fakeClock struct {
	mu      sync.Mutex
	t       time.Time
	sleeps  []time.Duration
	onSleep func(n int)
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Now().Truncate(time.Second).UTC()}
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	c.sleeps = append(c.sleeps, d)
	c.t = c.t.Add(d)
	n, hook := len(c.sleeps), c.onSleep
	c.mu.Unlock()
	if hook != nil {
		hook(n)
	}
	return ctx.Err()
}

func (c *fakeClock) slept() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.sleeps...)
}

// install makes c the client's clock.
func (c *fakeClock) install(cl *Client) {
	cl.now, cl.sleep = c.now, c.sleep
}

// faultServer is a local API whose answer to the n-th request (from 1) is
// chosen by a script, and which counts what it received.
type faultServer struct {
	*httptest.Server
	script func(n int, w http.ResponseWriter, r *http.Request)

	mu       sync.Mutex
	received map[string]int // by method: requests whose headers arrived
	accepts  atomic.Int64   // TCP connections accepted
	n        atomic.Int64
}

// resetFirst > 0 makes the listener reset that many connections as soon
// as their first byte arrives, before the server reads the request: the
// client has begun writing, so the request may, as far as it can know,
// have been processed.
func newFaultServer(t *testing.T, resetFirst int, script func(n int, w http.ResponseWriter, r *http.Request)) *faultServer {
	t.Helper()
	fs := &faultServer{script: script, received: map[string]int{}}
	fs.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fs.mu.Lock()
		fs.received[r.Method]++
		fs.mu.Unlock()
		fs.script(int(fs.n.Add(1)), w, r)
	}))
	fs.Listener = &resettingListener{Listener: fs.Listener, fs: fs, reset: int64(resetFirst)}
	fs.Start()
	t.Cleanup(fs.Close)
	return fs
}

func (fs *faultServer) count(method string) int {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return fs.received[method]
}

type resettingListener struct {
	net.Listener
	fs    *faultServer
	reset int64
}

func (l *resettingListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.fs.accepts.Add(1) > l.reset {
			return c, nil
		}
		go func() {
			c.Read(make([]byte, 1))
			rst(c)
		}()
	}
}

// rst closes c with a TCP reset rather than an orderly FIN.
func rst(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	c.Close()
}

// hijackReset reads the request body, then resets the connection without
// answering: the request may well have been processed.
func hijackReset(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	c, _, err := w.(http.Hijacker).Hijack()
	if err != nil {
		panic(err)
	}
	rst(c)
}

// truncated answers 200 with a Content-Length it does not honour.
func truncated(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	c, buf, err := w.(http.Hijacker).Hijack()
	if err != nil {
		panic(err)
	}
	fmt.Fprintf(buf, "HTTP/1.1 200 OK\r\nContent-Type: %s\r\nContent-Length: 1000\r\n\r\n{\"conversations\":[{\"id\":", mediaType)
	buf.Flush()
	c.Close()
}

// slowBody sends the headers and a little of the body, then stalls until
// the client gives up.
func slowBody(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", mediaType)
	w.WriteHeader(http.StatusOK)
	io.WriteString(w, `{"conversations":[`)
	w.(http.Flusher).Flush()
	select {
	case <-r.Context().Done():
	case <-time.After(10 * time.Second): // a safety net, never reached when the client works
	}
}

// answer writes a JSON body with status and headers (key, value pairs).
func answer(w http.ResponseWriter, status int, body string, kv ...string) {
	for i := 0; i+1 < len(kv); i += 2 {
		w.Header().Set(kv[i], kv[i+1])
	}
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", mediaType+"; charset=utf-8")
	}
	w.Header().Set("X-Request-Id", "req-"+strconv.Itoa(status))
	w.WriteHeader(status)
	io.WriteString(w, body)
}

const convOK = `{"links":{},"conversations":[{"id":5,"subject":"Hi","links":{"account":1}}],"meta":{}}`

// newRelClient is a client of srv with a fake clock; its http.Client has a
// transport of its own so that tests do not share connections.
func newRelClient(t *testing.T, srv *httptest.Server, opts ...Option) (*Client, *fakeClock) {
	t.Helper()
	base := []Option{WithBaseURL(srv.URL), WithToken(testToken), WithHTTPClient(srv.Client())}
	c, err := NewClient(append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	clk := newFakeClock()
	clk.install(c)
	return c, clk
}

// getConv and postMessage are the two shapes of request the fault tests
// make: an idempotent read and a non-idempotent write.
func getConv(ctx context.Context, c *Client) (*Conversation, *Response, error) {
	return c.Conversations.Get(ctx, 5)
}

func doMethod(ctx context.Context, c *Client, method string) (*Response, error) {
	var body any
	if method == http.MethodPost || method == http.MethodPut {
		body = map[string]any{"messages": []map[string]any{{"content": "hello", "conversation_id": 5}}}
	}
	req, err := c.NewRequest(ctx, method, "inbox/messages", body)
	if err != nil {
		return nil, err
	}
	return c.Do(req, nil)
}

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func debugLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// failingDialer fails the first n dials with a dial error, then dials for
// real, and counts dials.
type failingDialer struct {
	fail  int64
	dials atomic.Int64
}

func (d *failingDialer) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	if d.dials.Add(1) <= d.fail {
		return nil, &net.OpError{Op: "dial", Net: network, Err: fmt.Errorf("connection refused (injected)")}
	}
	var nd net.Dialer
	return nd.DialContext(ctx, network, addr)
}

func (d *failingDialer) client() *http.Client {
	return &http.Client{Transport: &http.Transport{DialContext: d.dial}}
}
