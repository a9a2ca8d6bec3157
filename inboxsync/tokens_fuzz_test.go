package inboxsync

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// The token column is read back from a database anyone with access may
// have altered: whatever it holds, openToken answers a token or a clear
// error, never a panic, and its error never quotes the column.
func FuzzOpenToken(f *testing.F) {
	var st Store
	if err := st.SealTokens(bytes.Repeat([]byte{3}, 32)); err != nil {
		f.Fatal(err)
	}
	tok := &oauth2.Token{AccessToken: "at-FUZZ", RefreshToken: "rt-FUZZ", Expiry: time.Unix(2e9, 0)}
	sealed, err := st.sealToken(7, tok)
	if err != nil {
		f.Fatal(err)
	}
	var clear Store
	plain, _ := clear.sealToken(7, tok)
	f.Add(sealed)
	f.Add(plain)
	f.Add([]byte{sealedV1})
	f.Add([]byte(`{"access_token":`))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, s := range []*Store{&st, &clear} {
			got, err := s.openToken(7, b)
			if (got == nil) == (err == nil) {
				t.Fatalf("openToken = %v, %v: want exactly one", got, err)
			}
			if err != nil && len(b) >= 8 && strings.Contains(err.Error(), string(b)) {
				t.Fatalf("the error quotes the column: %v", err)
			}
		}
		if _, err := st.openToken(8, sealed); err == nil {
			t.Fatal("a token sealed for account 7 opened as account 8's")
		}
	})
}
