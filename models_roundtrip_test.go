package bookingsync

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
)

// roundTrip decodes one item of a response into a fresh model of the
// envelope key's type, encodes it, and decodes that again.
var roundTrips = map[string]func(item []byte) (first, again any, out []byte, err error){
	"applications":  roundTripOf[Application],
	"attachments":   roundTripOf[Attachment],
	"bookings":      roundTripOf[Booking],
	"conversations": roundTripOf[Conversation],
	"hosts":         roundTripOf[Host],
	"messages":      roundTripOf[Message],
	"participants":  roundTripOf[Participant],
}

func roundTripOf[T any](item []byte) (first, again any, out []byte, err error) {
	var a, b T
	if err := json.Unmarshal(item, &a); err != nil {
		return nil, nil, nil, fmt.Errorf("decoding: %w", err)
	}
	if out, err = json.Marshal(&a); err != nil {
		return nil, nil, nil, fmt.Errorf("encoding: %w", err)
	}
	if err := json.Unmarshal(out, &b); err != nil {
		return nil, nil, nil, fmt.Errorf("decoding again: %w", err)
	}
	return &a, &b, out, nil
}

// placeholder is how the reference's examples write some times.
var placeholder = regexp.MustCompile(`"[A-Z][A-Z_]*_AT"`)

// TestModelsRoundTripEveryFixture checks, for every response under
// testdata (the reference's examples and the recorded shapes), that each
// item's every attribute and link is decoded, and that the model survives
// a JSON round trip unchanged.
func TestModelsRoundTripEveryFixture(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*", "*response*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	seen := map[string]int{}
	for _, file := range files {
		t.Run(filepath.ToSlash(file), func(t *testing.T) {
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			b = placeholder.ReplaceAll(b, []byte(`"2026-07-10T16:00:00Z"`))
			var env map[string]json.RawMessage
			if err := json.Unmarshal(b, &env); err != nil {
				t.Fatal(err)
			}
			for key, raw := range env {
				rt, ok := roundTrips[key]
				if !ok {
					if key != "links" && key != "meta" {
						t.Errorf("no model for %q", key)
					}
					continue
				}
				var items []json.RawMessage
				if err := json.Unmarshal(raw, &items); err != nil {
					t.Fatal(err)
				}
				for i, item := range items {
					seen[key]++
					first, again, out, err := rt(item)
					if err != nil {
						t.Fatalf("%s[%d]: %v", key, i, err)
					}
					if !reflect.DeepEqual(first, again) {
						t.Errorf("%s[%d] changed in a round trip:\n first %+v\n again %+v", key, i, first, again)
					}
					for _, p := range lostAttributes(t, item, out) {
						t.Errorf("%s[%d]: %s", key, i, p)
					}
				}
			}
		})
	}
	for key := range roundTrips {
		if seen[key] == 0 {
			t.Errorf("no fixture holds %s", key)
		}
	}
}

// lostAttributes lists the attributes of the wire item that the encoded
// model does not carry with the same value. The creator attributes
// created_by_id/created_by_type come back as the created_by object.
func lostAttributes(t *testing.T, item, out []byte) []string {
	t.Helper()
	var in, got map[string]any
	if err := json.Unmarshal(item, &in); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	if id, ok := in["created_by_id"]; ok {
		if want := map[string]any{"id": id, "type": in["created_by_type"]}; id != nil && !sameJSONValue(want, got["created_by"]) {
			return []string{fmt.Sprintf("created_by = %v, want %v", got["created_by"], want)}
		}
		delete(in, "created_by_id")
		delete(in, "created_by_type")
	}
	return compareAttrs("", in, got)
}

func compareAttrs(prefix string, in, got map[string]any) []string {
	var lost []string
	for k, v := range in {
		g, ok := got[k]
		switch {
		case !ok:
			lost = append(lost, fmt.Sprintf("%s%s dropped (was %v)", prefix, k, v))
		case v == nil:
			if g != nil && g != "" {
				lost = append(lost, fmt.Sprintf("%s%s = %v, want null", prefix, k, g))
			}
		default:
			vm, vok := v.(map[string]any)
			gm, gok := g.(map[string]any)
			if vok && gok && k == "links" {
				lost = append(lost, compareAttrs(prefix+k+".", vm, gm)...)
			} else if !sameJSONValue(v, g) {
				lost = append(lost, fmt.Sprintf("%s%s = %v, want %v", prefix, k, g, v))
			}
		}
	}
	return lost
}

// sameJSONValue compares decoded JSON values; numbers written as strings
// ("5") equal the number, and times equal the same instant.
func sameJSONValue(a, b any) bool {
	if as, ok := a.(string); ok {
		if ta, err := time.Parse(time.RFC3339Nano, as); err == nil {
			bs, _ := b.(string)
			tb, err := time.Parse(time.RFC3339Nano, bs)
			return err == nil && ta.Equal(tb)
		}
		if bf, ok := b.(float64); ok {
			return strings.TrimSpace(as) == fmt.Sprint(bf)
		}
	}
	switch a := a.(type) {
	case map[string]any:
		bm, ok := b.(map[string]any)
		if !ok || len(compareAttrs("", a, bm)) > 0 {
			return false
		}
		return true
	case []any:
		bl, ok := b.([]any)
		if !ok || len(a) != len(bl) {
			return false
		}
		for i := range a {
			if !sameJSONValue(a[i], bl[i]) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(a, b)
}
