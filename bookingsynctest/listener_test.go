package bookingsynctest

import (
	"net"
	"net/http"
	"testing"
)

func TestWithListenerServesOnTheGivenAddress(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := NewServer(WithListener(ln))
	defer s.Close()
	if want := "http://" + ln.Addr().String(); s.URL != want {
		t.Fatalf("URL = %q, want %q", s.URL, want)
	}
	if r := call(t, s, http.MethodGet, "inbox/conversations", s.Token(), nil); r.StatusCode != http.StatusOK {
		t.Fatalf("status %d", r.StatusCode)
	}
}
