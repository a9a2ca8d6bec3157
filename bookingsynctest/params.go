package bookingsynctest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"strconv"
	"strings"
)

// params is one decoded request object; values may be JSON numbers,
// booleans or the strings the reference's examples use ("true", "7").
type params map[string]any

// decodeBody reads {"<key>": [ {...} ]} or {"<key>": {...}}, and any
// attributes beside the key.
func decodeBody(body []byte, key string) (params, error) {
	var env map[string]any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&env); err != nil {
		return nil, errors.New("malformed JSON")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("malformed JSON")
	}
	v := env[key]
	if arr, ok := v.([]any); ok && len(arr) > 0 {
		v = arr[0]
	}
	p, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("param is missing or the value is empty: " + key)
	}
	// Attributes beside the record count too, as where the reference
	// sends booking_id next to booking_comments; the record's win.
	for k, v := range env {
		if _, in := p[k]; !in && k != key {
			p[k] = v
		}
	}
	return p, nil
}

func isJSONType(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && (mt == "application/json" || mt == "application/vnd.api+json")
}

func (p params) has(k string) bool { _, ok := p[k]; return ok }

// id returns an id; ok is false for a value that is not one. null or ""
// give 0.
func (p params) id(k string) (int64, bool) {
	switch x := p[k].(type) {
	case nil:
		return 0, true
	case json.Number:
		v, err := strconv.ParseInt(x.String(), 10, 64)
		return v, err == nil && v >= 0
	case string:
		if x == "" {
			return 0, true
		}
		v, err := strconv.ParseInt(x, 10, 64)
		return v, err == nil && v >= 0
	}
	return 0, false
}

func (p params) str(k string) (string, bool) {
	switch x := p[k].(type) {
	case nil:
		return "", true
	case string:
		return x, true
	case json.Number:
		return x.String(), true
	case bool:
		return strconv.FormatBool(x), true
	}
	return "", false
}

// boolean casts like Rails does for the common spellings; others are invalid.
func (p params) boolean(k string) (bool, bool) {
	switch x := p[k].(type) {
	case bool:
		return x, true
	case json.Number:
		return x.String() != "0", true
	case string:
		switch strings.ToLower(x) {
		case "true", "1", "t", "yes", "on":
			return true, true
		case "false", "0", "f", "no", "off":
			return false, true
		}
	}
	return false, false
}

func (p params) time(k string) (int64, bool) {
	switch x := p[k].(type) {
	case nil:
		return 0, true
	case string:
		if x == "" {
			return 0, true
		}
		t, ok := parseTimeParam(x)
		return t.Unix(), ok
	}
	return 0, false
}

func (p params) idList(k string) ([]int64, bool) {
	switch x := p[k].(type) {
	case nil:
		return nil, true
	case []any:
		var out []int64
		for _, e := range x {
			v, ok := params{"v": e}.id("v")
			if !ok || v == 0 {
				return nil, false
			}
			out = append(out, v)
		}
		return out, true
	case string:
		out, ok := parseIDs(x)
		return out, ok || strings.TrimSpace(x) == ""
	}
	return nil, false
}

// setStrings copies the string fields present in p; a value that is not a
// string is "is invalid".
func (p params) setStrings(e verrs, fields map[string]*string) {
	for k, dst := range fields {
		if !p.has(k) {
			continue
		}
		if v, ok := p.str(k); ok {
			*dst = v
		} else {
			e.add(k, invalid)
		}
	}
}

// verrs is a 422 body's "errors": field -> messages, Rails style.
type verrs map[string][]string

func (e verrs) add(field, msg string) { e[field] = append(e[field], msg) }

const (
	blank     = "can't be blank"
	mustExist = "must exist"
	invalid   = "is invalid"
	notIn     = "is not included in the list"
)

func splitComma(v string) []string {
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func parseIDs(v string) ([]int64, bool) {
	var out []int64
	for _, p := range splitComma(v) {
		id, err := strconv.ParseInt(p, 10, 64)
		if err != nil || id <= 0 {
			return nil, false
		}
		out = append(out, id)
	}
	return out, len(out) > 0
}
