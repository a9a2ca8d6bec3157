package bookingsync

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDecimal(t *testing.T) {
	t.Parallel()
	var v struct {
		A, B, C, D, E Decimal
	}
	require.NoError(t, json.Unmarshal([]byte(`{"A":"3615.94","B":12345678901234567890.123456789,"C":null,"D":"","E":"-1e3"}`), &v))
	assert.Equal(t, "3615.94", v.A.String())
	assert.Equal(t, "12345678901234567890.123456789", v.B.String(), "digits survive, no float64")
	assert.False(t, v.C.Valid())
	assert.False(t, v.D.Valid())
	assert.Equal(t, "-1e3", v.E.String())
	assert.Equal(t, "-1000", v.E.Rat().FloatString(0))
	assert.Equal(t, 1, v.A.Cmp(mustDecimal("3615.9")))
	assert.Equal(t, 0, mustDecimal("0.0").Cmp(Decimal{}))
	assert.InDelta(t, 3615.94, v.A.Float64(), 1e-9)

	out, err := json.Marshal(v)
	require.NoError(t, err)
	assert.JSONEq(t, `{"A":"3615.94","B":"12345678901234567890.123456789","C":null,"D":null,"E":"-1e3"}`, string(out))

	for _, bad := range []string{`"abc"`, `"1.2.3"`, `"1e"`, `true`, `"--1"`, `"."`, `{}`} {
		var d Decimal
		assert.Error(t, json.Unmarshal([]byte(bad), &d), bad)
	}
	_, err = NewDecimal("10%")
	assert.Error(t, err)
}

func TestPolymorphic(t *testing.T) {
	t.Parallel()
	var p Polymorphic
	require.NoError(t, json.Unmarshal([]byte(`{"id": "65", "type": "Doorkeeper::Application"}`), &p))
	assert.Equal(t, Polymorphic{ID: 65, Type: "Doorkeeper::Application"}, p)
	require.NoError(t, json.Unmarshal([]byte(`null`), &p))
	assert.Error(t, json.Unmarshal([]byte(`{"id": "x"}`), &p))
}

func TestParseServerTime(t *testing.T) {
	t.Parallel()
	want := time.Date(2018, 3, 23, 19, 0, 41, 0, time.UTC)
	for _, s := range []string{"2018-03-23 19:00:41 UTC", "2018-03-23T19:00:41Z", "2018-03-23 20:00:41 +0100"} {
		got, err := parseServerTime(s)
		require.NoError(t, err, s)
		assert.True(t, want.Equal(got), s)
		assert.Equal(t, time.UTC, got.Location())
	}
	_, err := parseServerTime("23/03/2018")
	assert.Error(t, err)
}

func TestTruncateKeepsUTF8(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "ab…", truncate("abé", 3))
	assert.Equal(t, "abc", truncate("abc", 3))
}

// mustDecimal is NewDecimal for the literals of tests.
func mustDecimal(s string) Decimal {
	d, err := NewDecimal(s)
	if err != nil {
		panic(err)
	}
	return d
}
