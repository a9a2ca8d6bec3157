package serve

import (
	"crypto/subtle"
	"errors"
	"net/http"

	"golang.org/x/oauth2"
)

// login starts signing in with BookingSync: a fresh state, kept in a
// signed cookie that only /oauth/callback receives, and a redirect to the
// API's authorize page. ?return= names where to land afterwards, a path
// on this site only.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	state := randomString(32)
	in := signIn{State: state, Return: localPath(r.URL.Query().Get("return")), Expires: s.now().Add(signInTTL).Unix()}
	http.SetCookie(w, s.signInCookie(s.signin.seal(in), int(signInTTL.Seconds())))
	http.Redirect(w, r, s.oauth.AuthCodeURL(state), http.StatusFound)
}

// callback finishes signing in: the state must be the one this browser
// was given, unexpired and unspent; then the code is exchanged, the
// account installed (its token saved, GET /me) and a session started.
func (s *Server) callback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	// Whatever happens next, the sign-in cookie is spent.
	http.SetCookie(w, s.signInCookie("", -1))
	var in signIn
	c, err := r.Cookie(s.signInCookieName())
	now := s.now().Unix()
	if err != nil || !s.signin.open(c.Value, &in) || now >= in.Expires || q.Get("state") == "" ||
		subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(in.State)) != 1 || !s.used.spend(in.State, in.Expires, now) {
		s.log.Warn("sign-in refused: state missing, expired, spent or from another browser")
		s.errorPage(w, r, http.StatusBadRequest, "This sign-in is not valid any more: it expired, was already used, or was started in another browser. Sign in again.")
		return
	}
	if e := q.Get("error"); e != "" {
		s.log.Info("sign-in declined at BookingSync", "error", e)
		s.errorPage(w, r, http.StatusForbidden, "BookingSync did not authorize the sign-in.")
		return
	}
	id, err := s.st.Install(r.Context(), s.oauth, q.Get("code"), s.clientOptions()...)
	if err != nil {
		s.log.Error("sign-in failed: installing the account", "error", exchangeError(err))
		s.errorPage(w, r, http.StatusBadGateway, "Signing in failed: BookingSync did not confirm the account. Try again.")
		return
	}
	s.startSession(w, id)
	s.log.Info("signed in", "account", id)
	http.Redirect(w, r, in.Return, http.StatusSeeOther)
}

// logout ends the session (a form with the CSRF token) and says so.
func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if s.postForm(w, r) == nil {
		return
	}
	s.endSession(w)
	s.render(w, r, http.StatusOK, "signedout.html", page{Title: "Signed out"})
}

// exchangeError describes a failed installation for the log: for a token
// endpoint's refusal its code and status only, since oauth2's message
// carries the whole response body.
func exchangeError(err error) string {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && re.Response != nil {
		return "token endpoint refused the code: " + re.Response.Status + " " + re.ErrorCode
	}
	return err.Error()
}
