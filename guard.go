package bookingsync

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
)

// guard applies the Inbox rules to every request the client sends, the
// services' and a caller's own, and to every redirect it follows: a
// conversation created through the API would not reach the guest's
// channel, and Client participants belong to the channel.
//
// It judges the request as the API's Rails stack would route it, and fails
// closed: what it cannot read with certainty is refused. It reads the body
// that will be sent and puts those very bytes back (see snapshotBody), so
// that what is judged is what is sent, and resent.
func guard(req *http.Request) error {
	if rt := routeOf(req.URL); rt != routeConversations && rt != routeParticipants {
		return nil
	}
	body, err := snapshotBody(req)
	if err != nil {
		return fmt.Errorf("bookingsync: %s %s: reading request body: %w", req.Method, req.URL.Path, err)
	}
	return judge(req.Method, req.URL, req.Header, body)
}

// canonicalHeader copies h with every key in its canonical form: net/http
// writes a key set as h["content-type"] as it is and the server reads it
// as Content-Type, so Do sends, and the Inbox checks read, this copy.
func canonicalHeader(h http.Header) http.Header {
	c := make(http.Header, len(h))
	for k, vs := range h {
		for _, v := range vs {
			c.Add(k, v)
		}
	}
	return c
}

// writeMethod reports whether a request with this method and these
// headers may act as a write: its method is not GET, HEAD or OPTIONS, or
// it asks for its method to be overridden (X-HTTP-Method-Override and the
// like), whatever to.
func writeMethod(method string, h http.Header) bool {
	switch strings.ToUpper(strings.TrimSpace(method)) {
	case "", http.MethodGet, http.MethodHead, http.MethodOptions:
	default:
		return true
	}
	for _, k := range []string{"X-Http-Method-Override", "X-Http-Method", "X-Method-Override"} {
		for _, v := range h.Values(k) {
			if strings.TrimSpace(v) != "" {
				return true
			}
		}
	}
	return false
}

// route is what the guard knows of where a request lands.
type route int

const (
	routeOther         route = iota
	routeConversations       // the conversations collection: a write creates one
	routeParticipants        // anything under participants
	routeMessages            // anything under messages (see refuseNonHostSender)
)

// routeOf reads the path as it goes on the wire (an Opaque URL included)
// and as any layer before the application might normalize it: percent-
// decoded (again and again), backslashes as slashes, matrix parameters
// (;x) dropped, dot segments and repeated slashes resolved, case folded,
// and the format extension (.json, .xml, …) of each segment dropped.
func routeOf(u *url.URL) route {
	if u == nil {
		return routeOther
	}
	p, _, _ := strings.Cut(wireURI(u), "?")
	for range 4 {
		d, err := url.PathUnescape(p)
		if err != nil || d == p {
			break
		}
		p = d
	}
	// The segments, dot segments and empty ones resolved as path.Clean
	// would, after the matrix parameters are dropped ("..;/" is "..").
	var buf [16]string
	segs := buf[:0]
	for _, s := range strings.Split(strings.ToLower(strings.ReplaceAll(p, `\`, "/")), "/") {
		s, _, _ = strings.Cut(s, ";")
		switch s = strings.Trim(s, " \t\r\n\x00"); s {
		case "", ".":
		case "..":
			segs = segs[:max(len(segs)-1, 0)]
		default:
			segs = append(segs, s)
		}
	}
	r := routeOther
	for i, s := range segs {
		if j := strings.IndexByte(s, '.'); j > 0 {
			s = s[:j]
		}
		switch {
		case strings.Contains(s, "participants"):
			return routeParticipants
		case s == "conversations" && i == len(segs)-1:
			r = routeConversations
		case strings.Contains(s, "messages") && r == routeOther:
			r = routeMessages
		}
	}
	return r
}

// wireURI is the request target net/http writes for u, without the scheme
// and host an Opaque "//host/path" carries.
func wireURI(u *url.URL) string {
	s := u.RequestURI()
	if u.Opaque != "" && strings.HasPrefix(u.Opaque, "//") {
		s = strings.TrimPrefix(s, u.Scheme+":")
		s = strings.TrimPrefix(s, "//")
		if i := strings.IndexAny(s, "/?"); i >= 0 {
			s = s[i:]
		} else {
			s = ""
		}
	}
	return s
}

// judge decides on a request to a guarded route, given the exact body
// bytes that will be sent. It returns a *RefusedError, or nil.
func judge(method string, u *url.URL, h http.Header, body []byte) error {
	rt := routeOf(u)
	if rt != routeConversations && rt != routeParticipants {
		return nil
	}
	_, rawQuery, _ := strings.Cut(wireURI(u), "?")
	query, queryOK := formParams(rawQuery)
	params, why := bodyParams(h, body)
	if !queryOK && why == "" {
		why = "a query string it cannot parse"
	}
	params = append(params, query...)
	// The raw bytes too, however they parse: a server that reads them
	// otherwise (Rack's multipart boundaries, a query split on ";") finds
	// no word in them that is not there.
	params = append(params, param{key: "body", val: string(body), str: true}, param{key: "query", val: rawQuery, str: true})

	// A write, or a request that asks for its method to be overridden
	// (Rack::MethodOverride reads _method from a POST's form; other stacks
	// read headers, or the query), whatever to.
	writes := writeMethod(method, h)
	for _, p := range params {
		writes = writes || strings.Contains(strings.ToLower(p.key+" "+p.val), "_method")
	}

	refuse := func(reason, instead string) error {
		return &RefusedError{Method: method, Path: u.Path, Reason: reason, Instead: instead}
	}
	if rt == routeConversations {
		const reason = "a conversation created through the API would not reach the guest's channel (Airbnb, Booking.com, …)"
		const instead = "fetch the conversation the channel created for the booking (Bookings.Conversations or Bookings.WaitForConversations) and reply in it"
		switch {
		case writes:
			return refuse(reason, instead)
		case why != "": // it might carry a method override
			return refuse("the guard cannot read "+why+" with certainty, and such a request could create a conversation: "+reason, instead)
		}
		return nil
	}
	const hostInstead = "add a Host participant (Participants.AddHost or Participants.EnsureHost) and send as that host"
	if why != "" {
		return refuse("the guard cannot read "+why+" with certainty, and such a request could add a Client participant (the guests are created and managed by the channel only)",
			"send participants as JSON without Content-Encoding, as Participants.Create does; "+hostInstead)
	}
	if !writes && len(body) == 0 {
		return nil
	}
	for _, p := range params {
		if mentionsClient(p.key) || mentionsClient(p.val) {
			return refuse("Client participants (the guests) are created and managed by the channel only", hostInstead)
		}
		if strings.Contains(strings.ToLower(p.key), "type") && !(p.str && isHostType(p.val)) {
			return refuse(fmt.Sprintf("only Host participants may be added; Client participants (the guests) are created and managed by the channel only, and %s is not Host", p.describe()), hostInstead)
		}
	}
	return nil
}

// param is one parameter as the server would see it: a key (a JSON
// member name, a form or multipart name) and its value. str is false for a
// JSON number, boolean, null, object or array, and for an uploaded file.
type param struct {
	key, val string
	str      bool
}

func (p param) describe() string {
	if !p.str {
		return fmt.Sprintf("%.40q (not a string)", p.key)
	}
	return fmt.Sprintf("%.40q = %.40q", p.key, p.val)
}

// bodyParams reads body as the server would, by its Content-Type (a body
// without one is a form to Rack). why is non-empty when the guard cannot
// read it with certainty: an unknown type or encoding, a charset other
// than UTF-8, or content that does not parse.
func bodyParams(h http.Header, body []byte) (ps []param, why string) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, ""
	}
	enc := h.Values("Content-Encoding")
	if len(enc) > 1 || (len(enc) == 1 && strings.TrimSpace(enc[0]) != "" && !strings.EqualFold(strings.TrimSpace(enc[0]), "identity")) {
		return nil, "a body with Content-Encoding " + fmt.Sprintf("%.40q", strings.Join(enc, ", "))
	}
	cts := h.Values("Content-Type")
	if len(cts) > 1 {
		return nil, "a body with several Content-Types"
	}
	if len(cts) == 0 || strings.TrimSpace(cts[0]) == "" {
		ps, ok := formParams(string(body))
		if js, jsOK := jsonParams(body); jsOK {
			ps = append(ps, js...)
		}
		if !ok {
			return nil, "a body without Content-Type that is not a form"
		}
		return ps, ""
	}
	mt, mp, err := mime.ParseMediaType(cts[0])
	if err != nil {
		return nil, "a body whose Content-Type does not parse"
	}
	if cs, ok := mp["charset"]; ok && !strings.EqualFold(cs, "utf-8") && !strings.EqualFold(cs, "utf8") && !strings.EqualFold(cs, "us-ascii") {
		return nil, "a body in charset " + fmt.Sprintf("%.40q", cs)
	}
	var ok bool
	switch {
	case mt == "application/x-www-form-urlencoded":
		ps, ok = formParams(string(body))
	case mt == "multipart/form-data":
		ps, ok = multipartParams(body, mp["boundary"])
	case strings.HasSuffix(mt, "json") || mt == "application/jsonrequest":
		ps, ok = jsonParams(body)
	default:
		return nil, "a body of type " + fmt.Sprintf("%.40q", mt)
	}
	if !ok {
		return nil, "a " + mt + " body that does not parse"
	}
	return ps, ""
}

// formParams reads a query string or a form body. Anything url.ParseQuery
// rejects (a bad escape, a semicolon) fails: Rack may read it otherwise.
func formParams(s string) ([]param, bool) {
	var ps []param
	for s != "" {
		var kv string
		kv, s, _ = strings.Cut(s, "&")
		if strings.Contains(kv, ";") {
			return nil, false
		}
		k, v, _ := strings.Cut(kv, "=")
		k, err1 := url.QueryUnescape(k)
		v, err2 := url.QueryUnescape(v)
		if err1 != nil || err2 != nil {
			return nil, false
		}
		ps = append(ps, param{key: k, val: v, str: true})
	}
	return ps, true
}

// multipartParams reads a multipart/form-data body. A part the guard cannot
// name for certain, or one with a Content-Transfer-Encoding (Go would decode
// it, Rack would not), fails; a file part is not a string.
func multipartParams(body []byte, boundary string) ([]param, bool) {
	if boundary == "" {
		return nil, false
	}
	var ps []param
	mr := multipart.NewReader(bytes.NewReader(body), boundary)
	for {
		p, err := mr.NextRawPart()
		if err == io.EOF {
			// Go also ends a body cut short with io.EOF; Rack does not.
			return ps, bytes.Contains(body, []byte("--"+boundary+"--"))
		}
		if err != nil || p.Header.Get("Content-Transfer-Encoding") != "" || p.FormName() == "" {
			return nil, false
		}
		v, err := io.ReadAll(p)
		if err != nil {
			return nil, false
		}
		ps = append(ps, param{key: p.FormName(), val: string(v), str: p.FileName() == ""})
	}
}

// maxJSONDepth bounds the nesting the guard reads (Ruby's parser stops at
// 100 by default); no participant body nests more than a few levels.
const maxJSONDepth = 512

// jsonParams reads one JSON value, every member of every object (a
// duplicated key is seen each time), an array's items under the key that
// holds the array. Whatever encoding/json rejects fails, although Ruby's
// parser may accept it (comments, NaN, trailing commas, a second value).
func jsonParams(body []byte) ([]param, bool) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	type frame struct {
		obj     bool
		key     string // the member being read, or the key holding the array
		wantKey bool
	}
	var (
		ps     []param
		stack  []*frame
		values int // top-level values
	)
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return ps, values == 1 && len(stack) == 0 // Token ends a cut-off value with io.EOF too
		}
		if err != nil {
			return nil, false
		}
		var f *frame
		if len(stack) > 0 {
			f = stack[len(stack)-1]
		}
		if d, ok := tok.(json.Delim); ok && (d == '}' || d == ']') {
			stack = stack[:len(stack)-1]
			if len(stack) > 0 && stack[len(stack)-1].obj {
				stack[len(stack)-1].wantKey = true
			}
			continue
		}
		if f != nil && f.obj && f.wantKey {
			f.key, f.wantKey = tok.(string), false
			continue
		}
		if f == nil {
			if values++; values > 1 {
				return nil, false
			}
		}
		if len(stack) >= maxJSONDepth {
			return nil, false
		}
		key := ""
		if f != nil {
			key = f.key
		}
		switch t := tok.(type) {
		case json.Delim: // '{' or '['
			ps = append(ps, param{key: key})
			stack = append(stack, &frame{obj: t == '{', key: key, wantKey: t == '{'})
			continue
		case string:
			ps = append(ps, param{key: key, val: t, str: true})
		default:
			ps = append(ps, param{key: key, val: fmt.Sprint(t)})
		}
		if f != nil && f.obj {
			f.wantKey = true
		}
	}
}

// snapshotBody reads the body that will be sent and puts back the very
// same bytes: req.Body, req.GetBody and req.ContentLength agree from now
// on, whatever a caller set them to after NewRequest. A request without
// GetBody keeps none: the client never resends a body its caller made
// unreplayable, and net/http follows no 307 with it.
func snapshotBody(req *http.Request) ([]byte, error) {
	replayable := req.GetBody != nil
	var b []byte
	if req.Body != nil && req.Body != http.NoBody {
		var err error
		b, err = io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
	}
	req.Body, req.ContentLength, req.GetBody = http.NoBody, int64(len(b)), nil
	if len(b) > 0 {
		req.Body = io.NopCloser(bytes.NewReader(b))
	}
	if replayable {
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	}
	return b, nil
}

// mentionsClient reports whether s, or s percent-decoded once or more,
// says "client" in any case: no parameter of a Host participant does.
func mentionsClient(s string) bool {
	for range 4 {
		if strings.Contains(strings.ToLower(s), "client") {
			return true
		}
		d, err := url.QueryUnescape(s)
		if err != nil || d == s {
			return false
		}
		s = d
	}
	return strings.Contains(strings.ToLower(s), "client")
}

// isClientType matches "Client", "client", " CLIENT ", "Client::Traveller".
func isClientType(s string) bool {
	s = strings.ToLower(strings.TrimSpace(s))
	return s == "client" || strings.HasPrefix(s, "client:") || strings.HasSuffix(s, "::client")
}

// isHostType matches "Host", "host", " HOST ", "::Host": the one member type
// the SDK lets through.
func isHostType(s string) bool {
	return strings.EqualFold(strings.TrimPrefix(strings.TrimSpace(s), "::"), string(MemberTypeHost))
}
