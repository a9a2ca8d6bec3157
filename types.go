package bookingsync

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/big"
	"strconv"
	"time"
)

// Decimal is an exact decimal number as the API writes it: prices and
// percentages come as strings such as "3615.94" or "0.0" and must never pass
// through float64. The zero Decimal is null (absent).
//
// Decimal decodes from a JSON string, a JSON number (its digits kept as
// written) or null, and encodes back to the API's string form.
type Decimal struct {
	s string
}

// NewDecimal parses s ("12.50", "-3", "1e3") into a Decimal. It returns an
// error when s is not a decimal number.
func NewDecimal(s string) (Decimal, error) {
	if !isDecimal(s) {
		return Decimal{}, fmt.Errorf("bookingsync: %q is not a decimal number", s)
	}
	return Decimal{s: s}, nil
}

// String returns the number exactly as the API wrote it, or "" when null.
func (d Decimal) String() string { return d.s }

// Valid reports whether the value was present (not null).
func (d Decimal) Valid() bool { return d.s != "" }

// Rat returns the exact value as a *big.Rat, or nil when null.
func (d Decimal) Rat() *big.Rat {
	if d.s == "" {
		return nil
	}
	r, _ := new(big.Rat).SetString(d.s)
	return r
}

// Float64 returns the nearest float64, for display only; 0 when null.
func (d Decimal) Float64() float64 {
	f, _ := strconv.ParseFloat(d.s, 64)
	return f
}

// Cmp compares d and e exactly (-1, 0, +1); null sorts as zero.
func (d Decimal) Cmp(e Decimal) int {
	a, b := d.Rat(), e.Rat()
	if a == nil {
		a = new(big.Rat)
	}
	if b == nil {
		b = new(big.Rat)
	}
	return a.Cmp(b)
}

// MarshalJSON writes the API's string form, or null.
func (d Decimal) MarshalJSON() ([]byte, error) {
	if d.s == "" {
		return []byte("null"), nil
	}
	return json.Marshal(d.s)
}

// UnmarshalJSON accepts "1.5", 1.5 and null.
func (d *Decimal) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || string(b) == "null" {
		*d = Decimal{}
		return nil
	}
	s := string(b)
	if b[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
	}
	if s == "" {
		*d = Decimal{}
		return nil
	}
	if !isDecimal(s) {
		return fmt.Errorf("bookingsync: decimal: %q is not a number", truncate(s, 40))
	}
	d.s = s
	return nil
}

// isDecimal accepts an optional sign, digits with at most one point, and an
// optional exponent: the forms JSON numbers and Ruby's BigDecimal#to_s take.
func isDecimal(s string) bool {
	i := 0
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		i++
	}
	digits, point := 0, false
	for ; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			digits++
		case c == '.' && !point:
			point = true
		default:
			goto exp
		}
	}
exp:
	if digits == 0 {
		return false
	}
	if i == len(s) {
		return true
	}
	if s[i] != 'e' && s[i] != 'E' {
		return false
	}
	i++
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		i++
	}
	if i == len(s) {
		return false
	}
	for ; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Polymorphic is a reference to a record of one of several types, written
// {"id": 5, "type": "Host"}: a participant's member, a record's creator.
type Polymorphic struct {
	ID   int64  `json:"id"`
	Type string `json:"type"`
}

// IsZero reports whether the reference is absent.
func (p Polymorphic) IsZero() bool { return p.ID == 0 && p.Type == "" }

// UnmarshalJSON accepts the object with a numeric or string id, and null.
func (p *Polymorphic) UnmarshalJSON(b []byte) error {
	var w struct {
		ID   flexInt `json:"id"`
		Type string  `json:"type"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*p = Polymorphic{ID: int64(w.ID), Type: w.Type}
	return nil
}

// flexInt decodes an integer written as a number, a numeric string or null
// (the API repeats paging headers in meta as "1" or null).
type flexInt int64

func (n *flexInt) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		*n = 0
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		b = []byte(s)
		if s == "" {
			*n = 0
			return nil
		}
	}
	v, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return fmt.Errorf("bookingsync: %q is not an integer", truncate(string(b), 40))
	}
	*n = flexInt(v)
	return nil
}

// syncedAtLayout is the format of X-Updated-Since-Request-Synced-At, which
// is not RFC 3339: "2018-03-23 19:00:41 UTC".
const syncedAtLayout = "2006-01-02 15:04:05 MST"

// parseServerTime reads the times the API writes outside JSON bodies: the
// synced-at header's "2018-03-23 19:00:41 UTC", and RFC 3339 for safety.
func parseServerTime(s string) (time.Time, error) {
	for _, layout := range []string{syncedAtLayout, "2006-01-02 15:04:05 -0700", time.RFC3339Nano} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("bookingsync: unrecognised time %q", truncate(s, 40))
}

// formatTime writes t as the API expects in queries and bodies: UTC RFC 3339
// with second precision; "" for the zero time, which the API never gets.
func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// truncate shortens s to at most n bytes without splitting a UTF-8 sequence.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n] + "…"
}

// Ptr returns a pointer to v, for the optional fields of request structs.
func Ptr[T any](v T) *T { return &v }

// stringOrNumber reads a value the API writes as a string or as a number (an
// inquiry's phone, a review reply's id) as text: the string, or the
// number's digits as written; "" for null or absent.
func stringOrNumber(raw json.RawMessage) (string, error) {
	switch raw = bytes.TrimSpace(raw); {
	case len(raw) == 0 || string(raw) == "null":
		return "", nil
	case raw[0] == '"':
		var s string
		err := json.Unmarshal(raw, &s)
		return s, err
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err != nil {
		return "", fmt.Errorf("%q is neither a string nor a number", truncate(string(raw), 40))
	}
	return n.String(), nil
}
