package inboxsync

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// scanner reads the few fields a row needs from one record's JSON without
// decoding the rest: a pass writes hundreds of thousands of records, and
// decoding each through encoding/json cost as much as writing it. The
// records come from pages that encoding/json has already validated whole
// (rawPage); the scanner still fails cleanly, never panics, on anything
// malformed (see FuzzRows, which checks it against encoding/json).
// resource.row drives it, and splitArray cuts a page's records apart.
type scanner struct {
	b []byte
	i int
}

var errSyntax = errors.New("malformed JSON")

func (s *scanner) ws() {
	for s.i < len(s.b) && (s.b[s.i] == ' ' || s.b[s.i] == '\t' || s.b[s.i] == '\n' || s.b[s.i] == '\r') {
		s.i++
	}
}

// object reads an object, calling field for each key; field must consume
// the value (with skip if it does not want it). null is an empty object.
func (s *scanner) object(field func(key []byte) error) error {
	s.ws()
	if s.null() {
		return nil // as encoding/json leaves a struct
	}
	if s.i >= len(s.b) || s.b[s.i] != '{' {
		return errSyntax
	}
	s.i++
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == '}' {
		s.i++
		return nil
	}
	for {
		s.ws()
		start, end, err := s.stringSpan()
		if err != nil {
			return err
		}
		s.ws()
		if s.i >= len(s.b) || s.b[s.i] != ':' {
			return errSyntax
		}
		s.i++
		s.ws()
		if err := field(s.b[start+1 : end-1]); err != nil {
			return err
		}
		s.ws()
		if s.i >= len(s.b) {
			return errSyntax
		}
		switch s.b[s.i] {
		case ',':
			s.i++
		case '}':
			s.i++
			return nil
		default:
			return errSyntax
		}
	}
}

// stringSpan moves past a string and returns its span, quotes included.
func (s *scanner) stringSpan() (int, int, error) {
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return 0, 0, errSyntax
	}
	start := s.i
	s.i++
	for {
		// To the next quote, past any escape before it (IndexByte is
		// vectorized: the messages' contents are long).
		q := bytes.IndexByte(s.b[s.i:], '"')
		if q < 0 {
			s.i = len(s.b)
			return 0, 0, errSyntax
		}
		e := bytes.IndexByte(s.b[s.i:s.i+q], '\\')
		if e < 0 {
			s.i += q + 1
			return start, s.i, nil
		}
		s.i += e + 2
		if s.i > len(s.b) {
			return 0, 0, errSyntax
		}
	}
}

// null consumes a null and reports whether there was one.
func (s *scanner) null() bool {
	if s.i+4 <= len(s.b) && string(s.b[s.i:s.i+4]) == "null" {
		s.i += 4
		return true
	}
	return false
}

// str reads a string (null: "").
func (s *scanner) str() (string, error) {
	if s.null() {
		return "", nil
	}
	start, end, err := s.stringSpan()
	if err != nil {
		return "", err
	}
	q := s.b[start:end]
	for _, c := range q[1 : len(q)-1] {
		if c == '\\' || c < 0x20 || c >= 0x80 {
			// Escapes and non-ASCII (invalid UTF-8 is replaced): as
			// encoding/json reads them.
			var v string
			err := json.Unmarshal(q, &v)
			return v, err
		}
	}
	return string(q[1 : len(q)-1]), nil
}

// number returns the next number's text.
func (s *scanner) number() ([]byte, error) {
	start := s.i
	for s.i < len(s.b) && (s.b[s.i] == '-' || s.b[s.i] == '+' || s.b[s.i] == '.' || s.b[s.i] == 'e' || s.b[s.i] == 'E' ||
		(s.b[s.i] >= '0' && s.b[s.i] <= '9')) {
		s.i++
	}
	if s.i == start {
		return nil, errSyntax
	}
	return s.b[start:s.i], nil
}

// id reads an integer (null: 0).
func (s *scanner) id(dst *int64) error {
	if s.null() {
		*dst = 0
		return nil
	}
	n, err := s.number()
	if err != nil {
		return err
	}
	v, err := strconv.ParseInt(string(n), 10, 64)
	if err != nil {
		return fmt.Errorf("id %s: not an integer", n)
	}
	*dst = v
	return nil
}

// skip moves past any value.
func (s *scanner) skip() error {
	if s.i >= len(s.b) {
		return errSyntax
	}
	switch c := s.b[s.i]; {
	case c == '"':
		_, _, err := s.stringSpan()
		return err
	case c == '{' || c == '[':
		depth := 0
		for ; s.i < len(s.b); s.i++ {
			switch s.b[s.i] {
			case '"':
				if _, _, err := s.stringSpan(); err != nil {
					return err
				}
				s.i--
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					s.i++
					return nil
				}
			}
		}
		return errSyntax
	case c == 't' || c == 'f' || c == 'n':
		for _, lit := range []string{"true", "false", "null"} {
			if s.i+len(lit) <= len(s.b) && string(s.b[s.i:s.i+len(lit)]) == lit {
				s.i += len(lit)
				return nil
			}
		}
		return errSyntax
	}
	_, err := s.number()
	return err
}

// splitArray returns the elements of a JSON array (null: none) as
// sub-slices of b, which encoding/json has already checked is valid: a
// page's records, kept verbatim without another copy.
func splitArray(b []byte) ([][]byte, error) {
	s := &scanner{b: b}
	s.ws()
	if s.null() {
		return nil, nil
	}
	if s.i >= len(b) || b[s.i] != '[' {
		return nil, errors.New("not an array")
	}
	s.i++
	var items [][]byte
	for {
		s.ws()
		if s.i < len(b) && b[s.i] == ']' && len(items) == 0 {
			s.i++
			break
		}
		start := s.i
		if err := s.skip(); err != nil {
			return nil, err
		}
		items = append(items, b[start:s.i])
		s.ws()
		if s.i >= len(b) {
			return nil, errSyntax
		}
		s.i++
		if b[s.i-1] == ']' {
			break
		}
		if b[s.i-1] != ',' {
			return nil, errSyntax
		}
	}
	s.ws()
	if s.i != len(b) {
		return nil, errSyntax
	}
	return items, nil
}
