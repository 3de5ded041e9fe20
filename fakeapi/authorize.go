package fakeapi

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// authCodeTTL is the life of an authorization code. LinkedIn documents
// codes as short-lived (minutes) and used once; ASSUMPTION: ten minutes.
const authCodeTTL = 10 * time.Minute

// authCode is an authorization code not yet exchanged.
type authCode struct {
	redirectURI string
	scopes      []string
	expires     time.Time
}

// authorize serves LinkedIn's authorization endpoint as if the member
// were signed in and consented at once: it checks the client id and the
// redirect URL (one registered, exactly: otherwise a 400 page, never a
// redirect) and the response type, then redirects back with a one-time
// code and the state, or, under Faults.DeclineAuthorization, with
// error=user_cancelled_authorize.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) {
	s.count("authorization")
	q := r.URL.Query()
	redirect, err := url.Parse(q.Get("redirect_uri"))
	switch {
	case q.Get("client_id") != s.cfg.ClientID:
		http.Error(w, "The client_id is not that of a LinkedIn application.", http.StatusBadRequest)
		return
	case err != nil || !slices.Contains(s.cfg.RedirectURLs, q.Get("redirect_uri")):
		http.Error(w, "The redirect_uri does not match the redirect URLs registered for the application.", http.StatusBadRequest)
		return
	}
	back := url.Values{}
	if st := q.Get("state"); st != "" {
		back.Set("state", st)
	}
	switch {
	case q.Get("response_type") != "code":
		back.Set("error", "unsupported_response_type")
		back.Set("error_description", "response_type must be code")
	case s.Faults().DeclineAuthorization:
		back.Set("error", "user_cancelled_authorize")
		back.Set("error_description", "The user cancelled the authorization")
	default:
		code := "fake-code-" + randomHex(16)
		scopes := strings.FieldsFunc(q.Get("scope"), func(r rune) bool { return r == ' ' || r == ',' })
		s.mu.Lock()
		s.codes[code] = &authCode{redirectURI: q.Get("redirect_uri"), scopes: scopes, expires: s.cfg.Now().Add(authCodeTTL)}
		s.mu.Unlock()
		back.Set("code", code)
	}
	if redirect.RawQuery != "" {
		redirect.RawQuery += "&"
	}
	redirect.RawQuery += back.Encode()
	http.Redirect(w, r, redirect.String(), http.StatusFound)
}

// takeCode returns an authorization code's request and forgets the code:
// it is used once.
func (s *Server) takeCode(code string) (*authCode, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.codes[code]
	delete(s.codes, code)
	return c, ok
}
