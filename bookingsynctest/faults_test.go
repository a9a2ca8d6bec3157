package bookingsynctest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// rawDo sends a request and returns the response with its body fully read
// (or the error reading it); transport errors are returned as err.
func rawDo(s *Server, method, path, body string) (*http.Response, []byte, error, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, s.APIURL()+path, rd)
	req.Header.Set("Authorization", "Bearer "+s.Token())
	if body != "" {
		req.Header.Set("Content-Type", "application/vnd.api+json")
	}
	// A fresh transport: a closed connection must not be retried silently.
	hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, nil, nil, err
	}
	defer resp.Body.Close()
	b, rerr := io.ReadAll(resp.Body)
	return resp, b, rerr, nil
}

func hostCount(t *testing.T, s *Server) int {
	t.Helper()
	return len(get(t, s, "hosts").objects(t, "hosts"))
}

const newHost = `{"hosts":[{"firstname":"F","lastname":"L"}]}`

func TestFaults(t *testing.T) {
	s := NewServer()
	defer s.Close()

	s.AddFault(Fault{Method: "GET", PathPrefix: "/api/v3/hosts", Kind: FaultStatus, Count: 1})
	resp, body, _, err := rawDo(s, "GET", "hosts", "")
	if err != nil || resp.StatusCode != 502 || resp.Header.Get("Content-Type") != "text/html" || !bytes.Contains(body, []byte("<h1>502 Bad Gateway</h1>")) {
		t.Fatalf("FaultStatus: %v %v %s", err, resp, body)
	}
	if resp.Header.Get("X-Request-Id") == "" {
		t.Error("no X-Request-Id on the 502")
	}
	if resp, _, _, _ := rawDo(s, "GET", "hosts", ""); resp.StatusCode != 200 {
		t.Fatalf("Count 1 fault fired twice: %d", resp.StatusCode)
	}

	s.AddFault(Fault{Method: "POST", PathPrefix: "/api/v3/hosts", Kind: FaultStatus, Status: 503, Count: 1})
	if resp, _, _, _ := rawDo(s, "POST", "hosts", newHost); resp.StatusCode != 503 || hostCount(t, s) != 2 {
		t.Errorf("FaultStatus 503 processed the POST or wrong status %d", resp.StatusCode)
	}

	s.AddFault(Fault{Method: "POST", PathPrefix: "/api/v3/hosts", Kind: FaultStatusAfterProcessing, Count: 1})
	if resp, _, _, _ := rawDo(s, "POST", "hosts", newHost); resp.StatusCode != 502 || hostCount(t, s) != 3 {
		t.Errorf("FaultStatusAfterProcessing: %d, %d hosts", resp.StatusCode, hostCount(t, s))
	}

	s.AddFault(Fault{Method: "POST", PathPrefix: "/api/v3/hosts", Kind: FaultReset, Count: 1})
	if _, _, _, err := rawDo(s, "POST", "hosts", newHost); err == nil || hostCount(t, s) != 3 {
		t.Errorf("FaultReset: err %v, %d hosts", err, hostCount(t, s))
	}

	s.AddFault(Fault{Method: "POST", PathPrefix: "/api/v3/hosts", Kind: FaultResetBeforeRead, Count: 1})
	if _, _, _, err := rawDo(s, "POST", "hosts", newHost); err == nil || hostCount(t, s) != 3 {
		t.Errorf("FaultResetBeforeRead: err %v, %d hosts", err, hostCount(t, s))
	}

	s.AddFault(Fault{PathPrefix: "/api/v3/inbox/conversations", Kind: FaultTruncate, Count: 1})
	resp, body, rerr, err := rawDo(s, "GET", "inbox/conversations", "")
	if err != nil || resp.StatusCode != 200 || !errors.Is(rerr, io.ErrUnexpectedEOF) || json.Valid(body) {
		t.Errorf("FaultTruncate: %v %v %q", err, rerr, body)
	}

	for _, reset := range []string{"", "1000", "garbage"} {
		s.AddFault(Fault{PathPrefix: "/api/v3/", Kind: Fault429, Count: 1, Reset: reset, RetryAfter: 2 * time.Second})
		resp, body, _, _ := rawDo(s, "GET", "hosts", "")
		if resp.StatusCode != 429 || resp.Header.Get("X-RateLimit-Remaining") != "0" || resp.Header.Get("Retry-After") != "2" || !bytes.Contains(body, []byte("rate limit exceeded")) {
			t.Errorf("Fault429: %d %v %s", resp.StatusCode, resp.Header, body)
		}
		if reset != "" && resp.Header.Get("X-RateLimit-Reset") != reset {
			t.Errorf("reset %q, want %q", resp.Header.Get("X-RateLimit-Reset"), reset)
		}
	}

	s.AddFault(Fault{PathPrefix: "/api/v3/hosts", Kind: FaultSlowBody, Count: 1, Delay: 20 * time.Millisecond})
	resp, body, rerr, err = rawDo(s, "GET", "hosts", "")
	if err != nil || rerr != nil || resp.StatusCode != 200 || !json.Valid(body) {
		t.Errorf("FaultSlowBody: %v %v %s", err, rerr, body)
	}

	// Count 0 is forever until cleared; faults are logged requests.
	s.ResetRequests()
	s.AddFault(Fault{PathPrefix: "/api/v3/applications", Kind: FaultStatus, Status: 504})
	for i := 0; i < 3; i++ {
		if resp, _, _, _ := rawDo(s, "GET", "applications", ""); resp.StatusCode != 504 {
			t.Fatalf("forever fault stopped at %d", i)
		}
	}
	s.ClearFaults()
	if resp, _, _, _ := rawDo(s, "GET", "applications", ""); resp.StatusCode != 200 {
		t.Errorf("after ClearFaults: %d", resp.StatusCode)
	}
	if n := s.RequestCount("GET", "applications"); n != 4 {
		t.Errorf("RequestCount %d, want 4", n)
	}
}

func TestLatencyHonoursCancel(t *testing.T) {
	s := NewServer(WithLatency(time.Hour))
	defer s.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "POST", s.APIURL()+"hosts", strings.NewReader(newHost))
	req.Header.Set("Authorization", "Bearer "+s.Token())
	req.Header.Set("Content-Type", "application/json")
	done := make(chan error, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	// Cancel once the server has the request (it is logged before the delay).
	for i := 0; s.RequestCount("POST", "hosts") == 0; i++ {
		if i > 5000 {
			t.Fatal("request never arrived")
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v", err)
	}
	s.SetLatency(time.Millisecond)
	if hostCount(t, s) != 2 {
		t.Error("the canceled request was processed")
	}
	if s.RequestCount("POST", "hosts") != 1 {
		t.Error("the canceled request was not logged")
	}
	for _, r := range s.Requests() {
		if r.Header.Get("Authorization") != "REDACTED" {
			t.Errorf("Authorization logged as %q", r.Header.Get("Authorization"))
		}
	}
}

func TestConcurrent(t *testing.T) {
	s := NewServer(WithRateLimit(100000))
	defer s.Close()
	s.GenerateConversations(500, AirbnbAppID, BookingComAppID)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := 0; g < 64; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 5; i++ {
				var resp *http.Response
				var err error
				if g%2 == 0 {
					body := fmt.Sprintf(`{"messages":[{"conversation_id":11,"sender_id":2,"content":"m%d-%d","origin":"bookingsync_inbox","visibility":"external","sent_at":"2024-05-10T12:00:00Z"}]}`, g, i)
					req, _ := http.NewRequest("POST", s.APIURL()+"inbox/messages", strings.NewReader(body))
					req.Header.Set("Content-Type", "application/vnd.api+json")
					req.Header.Set("Authorization", "Bearer "+s.Token())
					resp, err = http.DefaultClient.Do(req)
				} else {
					req, _ := http.NewRequest("GET", fmt.Sprintf("%sinbox/conversations?page=%d&include=participants", s.APIURL(), i+1), nil)
					req.Header.Set("Authorization", "Bearer "+s.Token())
					resp, err = http.DefaultClient.Do(req)
				}
				if err != nil {
					errs <- err
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode/100 != 2 {
					errs <- fmt.Errorf("status %d", resp.StatusCode)
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	c := get(t, s, "inbox/conversations/11").objects(t, "conversations")[0]
	if n := len(c["links"].(map[string]any)["messages"].([]any)); n != 3+32*5 {
		t.Errorf("conversation 11 has %d messages, want %d", n, 3+32*5)
	}
	if n := s.RequestCount("POST", "inbox/messages"); n != 160 {
		t.Errorf("logged %d POSTs", n)
	}
}

func BenchmarkListGenerated(b *testing.B) {
	s := NewServer(WithoutSeed(), WithRateLimit(1<<30))
	defer s.Close()
	s.GenerateConversations(100000, s.AddApplication("Airbnb"))
	req, _ := http.NewRequest("GET", s.APIURL()+"inbox/conversations?page=700&per_page=100", nil)
	req.Header.Set("Authorization", "Bearer "+s.Token())
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}

// BenchmarkListPage measures the fake's own CPU for one 100-conversation
// page of 10,000: the handler is called directly, without a network.
func BenchmarkListPage(b *testing.B) {
	s := NewServer(WithoutSeed(), WithRateLimit(1<<30))
	defer s.Close()
	s.GenerateConversations(10000, s.AddApplication("Airbnb"))
	req := httptest.NewRequest("GET", s.APIURL()+"inbox/conversations?page=50&per_page=100", nil)
	req.Header.Set("Authorization", "Bearer "+s.Token())
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		w := httptest.NewRecorder()
		s.serveHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatal(w.Code)
		}
	}
}

// BenchmarkGenerateInbox measures seeding the inboxsync benchmarks' size:
// 10,000 conversations and 50,000 messages.
func BenchmarkGenerateInbox(b *testing.B) {
	for i := 0; i < b.N; i++ {
		s := NewServer(WithoutSeed())
		s.GenerateInbox(10000, 50000)
		s.Close()
	}
}

// TestWritesRaceDeletes: writes, reads and deletes of the same records at
// once; each write holds the lock from its read to its render, so every
// answer is whole: a 2xx, a 404 or a 422, never a 500 or a torn body.
func TestWritesRaceDeletes(t *testing.T) {
	t.Parallel()
	s := NewServer(WithRateLimit(1 << 20))
	defer s.Close()
	ids := s.GenerateInbox(40, 80)
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	do := func(method, path, body string) {
		req, _ := http.NewRequest(method, s.APIURL()+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/vnd.api+json")
		req.Header.Set("Authorization", "Bearer "+s.Token())
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			errs <- err
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode >= 500 || !json.Valid(b) {
			errs <- fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, b)
		}
	}
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for _, id := range ids {
				switch g {
				case 0:
					s.DeleteConversation(id)
				case 1:
					do("PUT", fmt.Sprintf("inbox/conversations/%d", id), `{"conversations":[{"closed":true}]}`)
				case 2:
					do("POST", "inbox/participants", fmt.Sprintf(`{"participants":[{"conversation_id":%d,"member_id":%d,"member_type":"Host"}]}`, id, HostJanID))
				default:
					do("GET", fmt.Sprintf("inbox/conversations/%d?include=participants,messages", id), "")
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestParseFault(t *testing.T) {
	f, err := ParseFault("status:status=503,method=get,path=/api/v3/inbox,account=7,count=2,rate=0.25,retry-after=2s")
	want := Fault{Kind: FaultStatus, Status: 503, Method: "GET", PathPrefix: "/api/v3/inbox", AccountID: 7, Count: 2, Rate: 0.25, RetryAfter: 2 * time.Second}
	if err != nil || f != want {
		t.Errorf("got %+v, %v", f, err)
	}
	if f, err := ParseFault("429:reset=garbage"); err != nil || f.Kind != Fault429 || f.Reset != "garbage" {
		t.Errorf("429: %+v %v", f, err)
	}
	// The command line's form: a comma after the kind, and the long names.
	if f, err := ParseFault("status-after-processing,status=502,count=1"); err != nil || f.Kind != FaultStatusAfterProcessing || f.Status != 502 || f.Count != 1 {
		t.Errorf("comma form: %+v %v", f, err)
	}
	if f, err := ParseFault("slow-body"); err != nil || f.Kind != FaultSlowBody {
		t.Errorf("slow-body: %+v %v", f, err)
	}
	for _, bad := range []string{"", "boom", "status:status=x", "slow:delay=soon", "reset:colour=red", "melt,count=1"} {
		if _, err := ParseFault(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestFaultKindNamesParse: every name FaultKindNames lists (what the
// errors and the CLI's help name) parses to its kind, in FaultKind order.
func TestFaultKindNamesParse(t *testing.T) {
	t.Parallel()
	for i, name := range FaultKindNames() {
		f, err := ParseFault(name)
		if err != nil || f.Kind != FaultKind(i) {
			t.Errorf("ParseFault(%q) = %v, %v; want kind %d", name, f.Kind, err, i)
		}
	}
	if _, err := ParseFault("melt"); err == nil || !strings.Contains(err.Error(), "status, status-after-processing, reset, reset-before-read, truncate, 429 or slow-body") {
		t.Errorf("unknown kind: %v", err)
	}
}
