package bookingsynctest

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

// TestAppendJSONMatchesEncodingJSON checks the hand-written encoder against
// encoding/json: byte for byte on strings that need escaping, and value for
// value on every seeded record of every kind, included children and the
// public view of bookings too.
func TestAppendJSONMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{"", "plain", `q"b\s`, "a<b", "a>b", "a&b", "tab\tnl\n\x01", "é ü 日本", "\u2028\u2029", "bad\xffutf8"} {
		got, err := appendJSON(nil, s)
		want, _ := json.Marshal(s)
		if err != nil || string(got) != string(want) {
			t.Errorf("%q: got %s, want %s (%v)", s, got, want, err)
		}
	}
	for _, v := range []stamp{1, 951782400, 1715342400, 4102444799, -62135596800, 253402300800} {
		got, _ := appendJSON(nil, v)
		if want := `"` + time.Unix(int64(v), 0).UTC().Format(wireTime) + `"`; string(got) != want {
			t.Errorf("stamp %d: got %s, want %s", v, got, want)
		}
	}
	s := NewServer()
	defer s.Close()
	rcs := []*rctx{{}, {inc: map[string]bool{"participants": true, "messages": true}}, {limited: true}}
	n := 0
	for _, k := range registry {
		if k.table == nil {
			continue
		}
		_, d := s.home(k, s.Account)
		tab := k.table(d)
		for _, id := range tab.liveIDs() {
			rec, _ := tab.lookup(id)
			for _, rc := range rcs {
				o := s.envelope(k, rc.limited, []obj{rec.render(d, rc)}, obj{{"deleted_ids", []int64{1, 2}}})
				got, err := appendJSON(nil, o)
				if err != nil {
					t.Fatal(err)
				}
				want, err := json.Marshal(o.toMap())
				if err != nil {
					t.Fatal(err)
				}
				var g, w any
				if err := json.Unmarshal(got, &g); err != nil {
					t.Fatalf("%s %d: %v in %s", k.plural, id, err, got)
				}
				_ = json.Unmarshal(want, &w)
				if !reflect.DeepEqual(g, w) {
					t.Errorf("%s %d:\n got %s\nwant %s", k.plural, id, got, want)
				}
				n++
			}
		}
	}
	if n < 50 {
		t.Errorf("compared only %d renders", n)
	}
}
