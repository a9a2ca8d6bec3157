package bookingsync

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-bookingsync/bookingsync/bookingsynctest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// roundTrip decodes one item of a response into a fresh model of the
// envelope key's type, encodes it, and decodes that again.
var roundTrips = map[string]func(item []byte) (first, again any, out []byte, err error){
	"applications":          roundTripOf[Application],
	"attachments":           roundTripOf[Attachment],
	"bookings":              roundTripOf[Booking],
	"conversations":         roundTripOf[Conversation],
	"hosts":                 roundTripOf[Host],
	"messages":              roundTripOf[Message],
	"participants":          roundTripOf[Participant],
	"clients":               roundTripOf[Guest],
	"rentals":               roundTripOf[Rental],
	"accounts":              roundTripOf[Account],
	"sources":               roundTripOf[Source],
	"inquiries":             roundTripOf[Inquiry],
	"accounts_applications": roundTripOf[Me],
	"booking_comments":      roundTripOf[BookingComment],
	"payments":              roundTripOf[Payment],
	"bookings_payments":     roundTripOf[BookingsPayment],
	"reviews":               roundTripOf[Review],
	"review_replies":        roundTripOf[ReviewReply],
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
	t.Parallel()
	files, err := filepath.Glob(filepath.Join("testdata", "*", "*response*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, files, "no fixtures")
	seen := map[string]int{}
	for _, file := range files {
		t.Run(filepath.ToSlash(file), func(t *testing.T) {
			b, err := os.ReadFile(file)
			require.NoError(t, err)
			b = placeholder.ReplaceAll(b, []byte(`"2026-07-10T16:00:00Z"`))
			checkEnvelope(t, b, seen)
		})
	}
	for key := range roundTrips {
		assert.NotEqual(t, 0, seen[key], "no fixture holds %s", key)
	}
}

// checkEnvelope round-trips every item of a response body through the
// model of its envelope key, counting the items of each key in seen.
func checkEnvelope(t *testing.T, b []byte, seen map[string]int) {
	t.Helper()
	var env map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(b, &env))
	for key, raw := range env {
		rt, ok := roundTrips[key]
		if !ok {
			assert.Contains(t, []string{"links", "meta"}, key, "no model for %q", key)
			continue
		}
		var items []json.RawMessage
		require.NoError(t, json.Unmarshal(raw, &items))
		for i, item := range items {
			seen[key]++
			first, again, out, err := rt(item)
			require.NoError(t, err, "%s[%d]", key, i)
			assert.Equal(t, again, first, "%s[%d] changed in a round trip:\n first %+v\n again %+v", key, i, first, again)
			assert.Empty(t, lostAttributes(t, item, out), "%s[%d]: attributes lost in a round trip", key, i)
		}
	}
}

// The fake answers as the recordings show the API; every attribute it
// sends survives our models too, sideloads included.
func TestModelsKeepEverythingTheFakeSends(t *testing.T) {
	t.Parallel()
	srv := bookingsynctest.NewServer()
	t.Cleanup(srv.Close)
	c, err := NewClient(WithBaseURL(srv.URL), WithToken(srv.Token()))
	require.NoError(t, err)
	_, _, err = c.Attachments.Create(context.Background(), &NewAttachment{Name: "plan.png", File: []byte("\x89PNG"), ContentType: "image/png"})
	require.NoError(t, err)
	seen := map[string]int{}
	for _, path := range []string{
		"inbox/conversations?include=participants,messages", "inbox/participants", "inbox/messages",
		"inbox/attachments", "hosts", "bookings?include_canceled=true", "applications",
		"clients", "rentals?include=availability,change_over", "accounts", "sources", "inquiries", "me",
		"booking_comments", "payments", "bookings_payments", "reviews", "review_replies",
	} {
		req, err := c.NewRequest(context.Background(), http.MethodGet, path, nil)
		require.NoError(t, err)
		var body bytes.Buffer
		_, err = c.Do(req, &body)
		require.NoError(t, err, "GET %s: %v", path, err)
		t.Run(path, func(t *testing.T) { checkEnvelope(t, body.Bytes(), seen) })
	}
	for _, key := range []string{"conversations", "participants", "messages", "attachments", "hosts", "bookings", "applications",
		"clients", "rentals", "accounts", "sources", "inquiries", "accounts_applications",
		"booking_comments", "payments", "bookings_payments", "reviews", "review_replies"} {
		assert.NotEqual(t, 0, seen[key], "the fake listed no %s", key)
	}
}

// lostAttributes lists the attributes of the wire item that the encoded
// model does not carry with the same value.
func lostAttributes(t *testing.T, item, out []byte) []string {
	t.Helper()
	var in, got map[string]any
	require.NoError(t, json.Unmarshal(item, &in))
	require.NoError(t, json.Unmarshal(out, &got))
	return compareAttrs("", foldCreators(in).(map[string]any), got)
}

// foldCreators rewrites the created_by_id/created_by_type attributes, at
// any depth, as the created_by object the models encode them as.
func foldCreators(v any) any {
	switch v := v.(type) {
	case map[string]any:
		if id, ok := v["created_by_id"]; ok {
			if id != nil {
				v["created_by"] = map[string]any{"id": id, "type": v["created_by_type"]}
			}
			delete(v, "created_by_id")
			delete(v, "created_by_type")
		}
		for k, x := range v {
			v[k] = foldCreators(x)
		}
	case []any:
		for i, x := range v {
			v[i] = foldCreators(x)
		}
	}
	return v
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
	if af, ok := a.(float64); ok {
		// A number the model keeps as its text (an inquiry's phone).
		if bs, ok := b.(string); ok {
			return bs == strconv.FormatFloat(af, 'f', -1, 64)
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
