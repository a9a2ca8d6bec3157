package inboxsync

import (
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
// resource.row drives it.
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
	for s.i++; s.i < len(s.b); s.i++ {
		switch s.b[s.i] {
		case '\\':
			s.i++
		case '"':
			s.i++
			return start, s.i, nil
		}
	}
	return 0, 0, errSyntax
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
func (s *scanner) str(dst *string) error {
	if s.null() {
		*dst = ""
		return nil
	}
	start, end, err := s.stringSpan()
	if err != nil {
		return err
	}
	q := s.b[start:end]
	for _, c := range q[1 : len(q)-1] {
		if c == '\\' || c < 0x20 || c >= 0x80 {
			// Escapes and non-ASCII (invalid UTF-8 is replaced): as
			// encoding/json reads them.
			return json.Unmarshal(q, dst)
		}
	}
	*dst = string(q[1 : len(q)-1])
	return nil
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

// value reads a field's value as k says: an int64 or a non-empty string,
// or nil for null (and for "").
func (s *scanner) value(k kind) (any, error) {
	if s.null() {
		return nil, nil
	}
	if k == kindInt {
		var v int64
		if err := s.id(&v); err != nil {
			return nil, err
		}
		return v, nil
	}
	var v string
	if err := s.str(&v); err != nil {
		return nil, err
	}
	if v == "" {
		return nil, nil
	}
	return v, nil
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
