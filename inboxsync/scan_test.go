package inboxsync

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// refRow is resource.row by another road: encoding/json decodes the
// whole record, then each field's paths are looked up.
func refRow(r *resource, d dialect, raw []byte) (int64, []any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var rec map[string]any
	if err := dec.Decode(&rec); err != nil {
		return 0, nil, err
	}
	vals := make([]any, len(r.fields))
	for i, fl := range r.fields {
		for _, p := range fl.paths {
			var v any = rec
			for _, part := range strings.Split(p, ".") {
				if v == nil {
					break
				}
				m, ok := v.(map[string]any)
				if !ok {
					return 0, nil, fmt.Errorf("%s: not an object", p)
				}
				v = m[part]
			}
			var err error
			switch x := v.(type) {
			case nil:
			case json.Number:
				if fl.kind != kindInt {
					return 0, nil, fmt.Errorf("%s: a number", p)
				}
				if v, err = x.Int64(); err != nil {
					return 0, nil, err
				}
			case string:
				if fl.kind == kindInt {
					return 0, nil, fmt.Errorf("%s: a string", p)
				}
				if x == "" {
					v = nil
				}
			default:
				return 0, nil, fmt.Errorf("%s: %T", p, x)
			}
			if v != nil && vals[i] == nil {
				vals[i] = v
			}
		}
	}
	id, _ := vals[0].(int64)
	if id <= 0 {
		return 0, nil, fmt.Errorf("no id")
	}
	vals[0] = id
	for i, fl := range r.fields {
		if fl.kind == kindTime && vals[i] != nil {
			var err error
			if vals[i], err = wireTS(d, vals[i].(string)); err != nil {
				return 0, nil, err
			}
		}
	}
	return id, vals, nil
}

// duplicateKeys reports whether an object of raw repeats a key (where
// encoding/json and the scanner may legitimately differ on nulls).
func duplicateKeys(raw []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(raw))
	type frame struct {
		obj    bool
		keys   map[string]bool
		expect bool // the next token in this object is a key
	}
	var stack []*frame
	for {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		if len(stack) > 0 && stack[len(stack)-1].obj && stack[len(stack)-1].expect {
			top := stack[len(stack)-1]
			if k, ok := tok.(string); ok {
				if top.keys[k] {
					return true
				}
				top.keys[k] = true
				top.expect = false
				continue
			}
		}
		switch tok {
		case json.Delim('{'):
			if len(stack) > 0 && stack[len(stack)-1].obj {
				stack[len(stack)-1].expect = true
			}
			stack = append(stack, &frame{obj: true, keys: map[string]bool{}, expect: true})
			continue
		case json.Delim('['):
			if len(stack) > 0 && stack[len(stack)-1].obj {
				stack[len(stack)-1].expect = true
			}
			stack = append(stack, &frame{})
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
		if len(stack) > 0 && stack[len(stack)-1].obj {
			stack[len(stack)-1].expect = true
		}
		if len(stack) == 0 {
			return false
		}
	}
}

var allResources = append(append([]*resource{}, walked...), resApplications)

// FuzzRows holds the scanner to encoding/json: on every valid record both
// read the same row or both fail; on any input, the scanner does not
// panic.
func FuzzRows(f *testing.F) {
	for _, dir := range []string{"../testdata/recorded", "../testdata/conversations", "../testdata/messages",
		"../testdata/participants", "../testdata/hosts", "../testdata/attachments", "../testdata/bookings", "../testdata/applications"} {
		files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
		for _, file := range files {
			b, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			var env map[string]json.RawMessage
			if json.Unmarshal(b, &env) != nil {
				continue
			}
			for k, v := range env {
				var items []json.RawMessage
				if k == "links" || k == "meta" || json.Unmarshal(v, &items) != nil {
					continue
				}
				for _, it := range items {
					f.Add([]byte(it))
				}
			}
		}
	}
	f.Add([]byte(`{"id":1,"links":null,"subject":"caf\u00e9 \"x\"","created_by":{"id":5,"type":"Doorkeeper::Application"}}`))
	f.Add([]byte(`[ {"id":1} , [1,"]"] ,null, "a\"b" ]`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"id":2,"links":{"created_by":{"id":65,"type":"Doorkeeper::Application"},"member":{"id":3,"type":"Host"}},"updated_at":"2020-01-02T03:04:05.123Z"}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		// splitArray, which cuts a page's records out of its array, against
		// encoding/json: on the input, and on an array of it twice.
		for _, arr := range [][]byte{raw, []byte("[" + string(raw) + ", " + string(raw) + "]")} {
			if !json.Valid(arr) {
				continue
			}
			var want []json.RawMessage
			werr := json.Unmarshal(arr, &want)
			got, err := splitArray(arr)
			if (err == nil) != (werr == nil) {
				t.Fatalf("splitArray(%q) error %v, encoding/json error %v", arr, err, werr)
			}
			if err == nil && fmt.Sprintf("%q", got) != fmt.Sprintf("%q", want) {
				t.Fatalf("splitArray(%q) = %q, encoding/json %q", arr, got, want)
			}
		}
		comparable := json.Valid(raw) && !duplicateKeys(raw)
		for _, r := range allResources {
			for _, d := range []dialect{&sqliteDialect{}, &postgresDialect{}} {
				vals := make([]any, len(r.cols))
				id, err := r.fill(d, raw, vals)
				if !comparable {
					continue
				}
				wid, want, werr := refRow(r, d, raw)
				if (err == nil) != (werr == nil) {
					t.Fatalf("%s: scanner error %v, encoding/json error %v", r.name, err, werr)
				}
				if err == nil && (id != wid || !reflect.DeepEqual(vals, want)) {
					t.Fatalf("%s: scanner %d %#v, encoding/json %d %#v", r.name, id, vals, wid, want)
				}
			}
		}
	})
}
