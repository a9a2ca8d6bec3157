package bookingsync

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

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

const convOK = `{"links":{},"conversations":[{"id":5,"subject":"Hi","links":{"account":1}}],"meta":{}}`

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
