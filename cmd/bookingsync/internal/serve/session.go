package serve

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Sessions are stateless: a cookie holding the account, a random nonce
// and an expiry, signed with a key derived from BOOKINGSYNC_SESSION_KEY,
// so that any replica with the same key accepts it. The CSRF token of a
// session is a MAC of its nonce under another derived key: forms carry
// it, and a POST without the right one is refused (403). Signing out
// clears the cookie; a copied cookie stays valid until it expires
// (Config.SessionTTL).

// signer signs and opens cookie values with a key of its own purpose.
type signer struct{ key []byte }

// newSigner derives the key of one purpose from the configured secret,
// so that a value signed for one purpose never passes for another.
func newSigner(secret, purpose string) signer {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("bookingsync serve " + purpose))
	return signer{m.Sum(nil)}
}

var b64 = base64.RawURLEncoding

func (s signer) mac(b []byte) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write(b)
	return m.Sum(nil)
}

// seal returns v as JSON with its MAC: "payload.mac", both base64url.
func (s signer) seal(v any) string {
	b, _ := json.Marshal(v) // the payloads are plain structs
	return b64.EncodeToString(b) + "." + b64.EncodeToString(s.mac(b))
}

// open checks a sealed value's MAC and decodes it into v.
func (s signer) open(sealed string, v any) bool {
	p, m, ok := strings.Cut(sealed, ".")
	if !ok {
		return false
	}
	b, err1 := b64.DecodeString(p)
	got, err2 := b64.DecodeString(m)
	if err1 != nil || err2 != nil || !hmac.Equal(got, s.mac(b)) {
		return false
	}
	return json.Unmarshal(b, v) == nil
}

// session is a signed-in browser: one account.
type session struct {
	Account int64  `json:"a"`
	Nonce   string `json:"n"`
	Expires int64  `json:"e"` // unix seconds
}

func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b64.EncodeToString(b)
}

// cookieName is the session cookie's name: with the __Host- prefix on
// https, which binds it to this host and path / with Secure.
func (s *Server) cookieName() string {
	if s.secure {
		return "__Host-bs_session"
	}
	return "bs_session"
}

// session returns the request's valid session, or nil.
func (s *Server) session(r *http.Request) *session {
	c, err := r.Cookie(s.cookieName())
	if err != nil {
		return nil
	}
	var sess session
	if !s.sessions.open(c.Value, &sess) || sess.Account <= 0 || s.now().Unix() >= sess.Expires {
		return nil
	}
	return &sess
}

// startSession signs the browser in to account.
func (s *Server) startSession(w http.ResponseWriter, account int64) {
	exp := s.now().Add(s.cfg.SessionTTL)
	v := s.sessions.seal(session{Account: account, Nonce: randomString(16), Expires: exp.Unix()})
	http.SetCookie(w, &http.Cookie{Name: s.cookieName(), Value: v, Path: "/", Expires: exp, MaxAge: int(s.cfg.SessionTTL / time.Second),
		HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode})
}

// endSession signs the browser out.
func (s *Server) endSession(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: s.cookieName(), Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode})
}

// csrfToken is the token the session's forms carry.
func (s *Server) csrfToken(sess *session) string {
	return b64.EncodeToString(s.csrf.mac([]byte(sess.Nonce)))
}

// checkCSRF reports whether the parsed form's csrf field is the
// session's token.
func (s *Server) checkCSRF(r *http.Request, sess *session) bool {
	got := r.PostForm.Get("csrf")
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(s.csrfToken(sess))) == 1
}

// signIn is the sign-in in progress, in a cookie sent only to
// /oauth/callback: the OAuth state bound to this browser, where to go
// afterwards, and its expiry.
type signIn struct {
	State   string `json:"s"`
	Return  string `json:"r"`
	Expires int64  `json:"e"`
}

// signInTTL is how long a sign-in may take at BookingSync.
const signInTTL = 10 * time.Minute

func (s *Server) signInCookieName() string {
	if s.secure {
		return "__Secure-bs_signin"
	}
	return "bs_signin"
}

func (s *Server) signInCookie(value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: s.signInCookieName(), Value: value, Path: "/oauth/callback", MaxAge: maxAge,
		HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode}
}

// usedStates remembers the states already spent, until they expire, so
// that a callback replayed to this replica is refused even with the
// cookie. (Another replica would refuse it at the code exchange: codes
// are single-use.)
type usedStates struct {
	mu   sync.Mutex
	seen map[string]int64 // state → expiry, unix seconds
}

// spend reports whether state was unspent, and spends it.
func (u *usedStates) spend(state string, expires, now int64) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	for k, e := range u.seen {
		if e <= now {
			delete(u.seen, k)
		}
	}
	if _, ok := u.seen[state]; ok {
		return false
	}
	u.seen[state] = expires
	return true
}
