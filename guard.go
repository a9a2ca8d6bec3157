package bookingsync

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"strings"
)

// guard applies the Inbox rules to every outgoing request, the services'
// and a caller's own: a conversation created through the API would not
// reach the guest's channel, and Client participants belong to the channel.
func guard(req *http.Request) error {
	p := resourcePath(req.URL)
	switch {
	case strings.EqualFold(req.Method, http.MethodPost) && p == "inbox/conversations":
		return &RefusedError{
			Method: req.Method, Path: req.URL.Path,
			Reason:  "a conversation created through the API would not reach the guest's channel (Airbnb, Booking.com, …)",
			Instead: "fetch the conversation the channel created for the booking (Bookings.Conversations or Bookings.WaitForConversations) and reply in it",
		}
	case strings.HasPrefix(p, "inbox/participants") && req.Body != nil && req.Body != http.NoBody:
		body, err := peekBody(req)
		if err != nil {
			return fmt.Errorf("bookingsync: %s %s: reading request body: %w", req.Method, req.URL.Path, err)
		}
		if setsClientMember(body) {
			return &RefusedError{
				Method: req.Method, Path: req.URL.Path,
				Reason:  "Client participants (the guests) are created and managed by the channel only",
				Instead: "add a Host participant (Participants.AddHost or Participants.EnsureHost) and send as that host",
			}
		}
	}
	return nil
}

// resourcePath is the request path relative to the API root, cleaned and
// lower-cased, without a trailing slash or a .json format suffix.
func resourcePath(u *url.URL) string {
	p := strings.ToLower(path.Clean("/" + u.Path))
	if i := strings.Index(p, strings.TrimSuffix(apiPath, "/")+"/"); i >= 0 {
		p = p[i+len(apiPath):]
	}
	p = strings.TrimSuffix(strings.Trim(p, "/"), ".json")
	return p
}

// peekBody reads the request body and puts it back, leaving req as it was:
// a body without GetBody stays one the client will not resend.
func peekBody(req *http.Request) ([]byte, error) {
	if req.GetBody != nil {
		rc, err := req.GetBody()
		if err != nil {
			return nil, err
		}
		defer rc.Close()
		return io.ReadAll(rc)
	}
	b, err := io.ReadAll(req.Body)
	req.Body.Close()
	if err != nil {
		return nil, err
	}
	req.Body = io.NopCloser(bytes.NewReader(b))
	return b, nil
}

// setsClientMember reports whether a JSON or form body sets member_type to
// Client, in any spelling, at any depth.
func setsClientMember(body []byte) bool {
	var v any
	if json.Unmarshal(body, &v) == nil {
		return jsonSetsClient(v)
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return bytes.Contains(bytes.ToLower(body), []byte("client"))
	}
	for k, vs := range form {
		k = strings.ToLower(k)
		if k == "member_type" || strings.HasSuffix(k, "[member_type]") {
			for _, v := range vs {
				if isClientType(v) {
					return true
				}
			}
		}
	}
	return false
}

func jsonSetsClient(v any) bool {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if s, ok := x.(string); ok && strings.EqualFold(strings.TrimSpace(k), "member_type") && isClientType(s) {
				return true
			}
			if m, ok := x.(map[string]any); ok && strings.EqualFold(k, "member") {
				if s, ok := m["type"].(string); ok && isClientType(s) {
					return true
				}
			}
			if jsonSetsClient(x) {
				return true
			}
		}
	case []any:
		for _, x := range v {
			if jsonSetsClient(x) {
				return true
			}
		}
	}
	return false
}

// isClientType matches "Client", "client", " CLIENT ", "Client::Traveller".
func isClientType(s string) bool {
	s = strings.ToLower(strings.TrimSpace(s))
	return s == "client" || strings.HasPrefix(s, "client:") || strings.HasSuffix(s, "::client")
}
