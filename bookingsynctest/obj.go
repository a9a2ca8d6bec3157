package bookingsynctest

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// obj is a rendered JSON object whose keys keep the order they were
// written in. Rendering records into maps and letting encoding/json sort
// their keys by reflection was most of the CPU the fake spent on a page;
// appendJSON writes an obj directly.
type obj []field

type field struct {
	k string
	v any
}

// stamp is a wire time kept as Unix seconds until it is encoded, so that
// rendering does not format (and allocate) every timestamp.
type stamp int64

// MarshalJSON lets an obj sit inside values handed to encoding/json.
func (o obj) MarshalJSON() ([]byte, error) { return appendJSON(nil, o) }

// appendJSON appends v encoded as encoding/json would encode it. The types
// the renders use are written directly; anything else goes through
// json.Marshal.
func appendJSON(b []byte, v any) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case string:
		return appendString(b, v)
	case int64:
		return strconv.AppendInt(b, v, 10), nil
	case int:
		return strconv.AppendInt(b, int64(v), 10), nil
	case bool:
		return strconv.AppendBool(b, v), nil
	case stamp:
		return appendStamp(b, v), nil
	case []int64:
		if v == nil {
			return append(b, "null"...), nil
		}
		return appendList(b, v, func(b []byte, n int64) ([]byte, error) { return strconv.AppendInt(b, n, 10), nil })
	case obj:
		return appendObj(b, v)
	case json.RawMessage:
		return append(b, v...), nil
	case []json.RawMessage:
		return appendList(b, v, func(b []byte, r json.RawMessage) ([]byte, error) { return append(b, r...), nil })
	case []obj:
		if v == nil {
			return append(b, "null"...), nil
		}
		return appendList(b, v, appendObj)
	}
	j, err := json.Marshal(v)
	return append(b, j...), err
}

// appendList writes xs as a JSON array, each element by each.
func appendList[T any](b []byte, xs []T, each func([]byte, T) ([]byte, error)) ([]byte, error) {
	b = append(b, '[')
	for i, x := range xs {
		if i > 0 {
			b = append(b, ',')
		}
		var err error
		if b, err = each(b, x); err != nil {
			return b, err
		}
	}
	return append(b, ']'), nil
}

func appendObj(b []byte, o obj) ([]byte, error) {
	b = append(b, '{')
	for i, f := range o {
		if i > 0 {
			b = append(b, ',')
		}
		var err error
		if b, err = appendString(b, f.k); err != nil {
			return b, err
		}
		b = append(b, ':')
		if b, err = appendJSON(b, f.v); err != nil {
			return b, err
		}
	}
	return append(b, '}'), nil
}

// appendStamp writes the wireTime layout by hand: time.AppendFormat
// interprets the layout on every call.
func appendStamp(b []byte, v stamp) []byte {
	t := time.Unix(int64(v), 0).UTC()
	y, mo, d := t.Date()
	if y < 0 || y > 9999 {
		b = append(b, '"')
		return append(t.AppendFormat(b, wireTime), '"')
	}
	h, mi, s := t.Clock()
	b = append(b, '"', byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-')
	for i, n := range [5]int{int(mo), d, h, mi, s} {
		b = append(b, byte('0'+n/10), byte('0'+n%10), "-T::Z"[i])
	}
	return append(b, '"')
}

// appendString writes plain ASCII strings as they are and leaves escaping
// (HTML characters, control characters, invalid UTF-8) to encoding/json.
func appendString(b []byte, s string) ([]byte, error) {
	for i := 0; i < len(s); i++ {
		if !plain[s[i]] {
			j, err := json.Marshal(s)
			return append(b, j...), err
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"'), nil
}

// plain marks the bytes a JSON string can hold unescaped as encoding/json
// writes it: printable ASCII except '"', '\' and the HTML characters.
var plain = func() (p [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		p[c] = !strings.ContainsRune(`"\<>&`, rune(c))
	}
	return p
}()

// toMap converts an obj to the maps and values rendering used to produce,
// for Resource, whose callers get plain Go values.
func (o obj) toMap() map[string]any {
	m := make(map[string]any, len(o))
	for _, f := range o {
		switch v := f.v.(type) {
		case obj:
			m[f.k] = v.toMap()
		case []obj:
			l := make([]map[string]any, len(v))
			for i, e := range v {
				l[i] = e.toMap()
			}
			m[f.k] = l
		case stamp:
			m[f.k] = time.Unix(int64(v), 0).UTC().Format(wireTime)
		default:
			m[f.k] = v
		}
	}
	return m
}
