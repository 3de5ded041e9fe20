package fakeapi

import (
	"crypto/hmac"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"strings"
	"time"
)

// Token endpoint defaults.
const (
	DefaultClientID     = "fake-client"
	DefaultClientSecret = "fake-secret"
	DefaultRefreshToken = "fake-refresh"
	// DefaultRedirectURL is the redirect URL registered for the fake
	// application (salesnav-etl auth login's default).
	DefaultRedirectURL = "http://127.0.0.1:8765/callback"
)

// Token lifetimes, as LinkedIn documents them.
const (
	refreshTokenTTL = 365 * 24 * time.Hour
	appTokenTTL     = 30 * time.Minute
)

// memberScopes are the scopes of the configured tokens.
var memberScopes = []string{"r_sales_nav_analytics", "r_sales_nav_display"}

// grant is a token the fake knows: when it was made and expires, its
// scopes, and whether it is a member's (3L) or the application's (2L),
// an access or a refresh token. A refresh token keeps the time of the
// member's consent: refreshing does not extend it.
type grant struct {
	created, expires time.Time
	scopes           []string
	authType         string // "3L" or "2L"
	refresh          bool
	revoked          bool
}

// configuredGrants are the grants of cfg's static access token (created
// now, with LinkedIn's 60-day life in introspection, though the API
// always accepts it) and refresh token.
func configuredGrants(cfg Config) map[string]*grant {
	now := cfg.Now()
	return map[string]*grant{
		cfg.Token: {created: now, expires: now.Add(60 * 24 * time.Hour), scopes: memberScopes, authType: "3L"},
		cfg.RefreshToken: {created: cfg.RefreshTokenIssuedAt, expires: cfg.RefreshTokenIssuedAt.Add(refreshTokenTTL),
			scopes: memberScopes, authType: "3L", refresh: true},
	}
}

// ExpireTokens expires every access token the token endpoint issued, as if
// their lifetime had run out.
func (s *Server) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expireAccessTokens()
}

// expireAccessTokens expires the issued access tokens; s.mu is held.
func (s *Server) expireAccessTokens() {
	for tok, g := range s.grants {
		if !g.refresh && tok != s.cfg.Token {
			g.expires = time.Time{}
		}
	}
}

// tokenValid accepts the configured static token and unexpired issued
// access tokens, none when the tokens are revoked.
func (s *Server) tokenValid(tok string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.faults.RevokedTokens {
		return false
	}
	if hmac.Equal([]byte(tok), []byte(s.cfg.Token)) {
		return true
	}
	g, ok := s.grants[tok]
	return ok && !g.refresh && !g.revoked && s.cfg.Now().Before(g.expires)
}

// token serves LinkedIn's OAuth 2.0 token endpoint: the authorization
// code grant (the member's consent: a 60-day access token and a 365-day
// refresh token), the refresh-token grant (a new 60-day access token; the
// refresh token's remaining life in refresh_token_expires_in) and the
// client-credentials grant (2-legged: 30-minute tokens).
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	s.count("token")
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", err.Error())
		return
	}
	if !s.clientAuthenticated(r) {
		oauthError(w, http.StatusUnauthorized, "invalid_client", "Client authentication failed")
		return
	}
	now := s.cfg.Now()
	out := map[string]any{}
	var access *grant
	switch r.PostForm.Get("grant_type") {
	case "authorization_code":
		code, ok := s.takeCode(r.PostForm.Get("code"))
		switch {
		case !ok || !now.Before(code.expires):
			oauthError(w, http.StatusBadRequest, "invalid_grant", "The authorization code is invalid or expired")
			return
		case code.redirectURI != r.PostForm.Get("redirect_uri"):
			oauthError(w, http.StatusBadRequest, "invalid_grant", "The redirect_uri does not match the authorization request's")
			return
		}
		access = &grant{created: now, expires: now.Add(s.cfg.MemberTokenTTL), scopes: code.scopes, authType: "3L"}
		if !s.Faults().NoRefreshToken {
			refresh := &grant{created: now, expires: now.Add(refreshTokenTTL), scopes: code.scopes, authType: "3L", refresh: true}
			out["refresh_token"] = s.issue("fake-refresh-", refresh)
			out["refresh_token_expires_in"] = int(refreshTokenTTL.Seconds())
		}
		out["scope"] = strings.Join(code.scopes, ",")
	case "refresh_token":
		tok := r.PostForm.Get("refresh_token")
		g, ok := s.refreshGrant(tok)
		if !ok || !now.Before(g.expires) {
			oauthError(w, http.StatusBadRequest, "invalid_grant", "The refresh token is invalid or expired")
			return
		}
		access = &grant{created: now, expires: now.Add(s.cfg.MemberTokenTTL), scopes: g.scopes, authType: "3L"}
		out["refresh_token"] = tok
		out["refresh_token_expires_in"] = int(g.expires.Sub(now).Seconds())
	case "client_credentials":
		access = &grant{created: now, expires: now.Add(appTokenTTL), authType: "2L",
			scopes: []string{"r_sales_nav_validation", "r_sales_nav_profiles"}}
	default:
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "grant_type must be authorization_code, refresh_token or client_credentials")
		return
	}
	out["access_token"] = s.issue("fake-issued-", access)
	out["expires_in"] = int(access.expires.Sub(now).Seconds())
	out["token_type"] = "Bearer"
	writeJSON(w, http.StatusOK, out)
}

// clientAuthenticated checks the client id and secret of a token or
// introspection request (form fields, or HTTP basic authentication).
func (s *Server) clientAuthenticated(r *http.Request) bool {
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	return id == s.cfg.ClientID && hmac.Equal([]byte(secret), []byte(s.cfg.ClientSecret))
}

// refreshGrant returns the grant of a refresh token that is neither
// unknown nor revoked.
func (s *Server) refreshGrant(tok string) (*grant, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.grants[tok]
	if !ok || !g.refresh || g.revoked || s.faults.RevokedTokens {
		return nil, false
	}
	return g, true
}

// issue records g under a new random token with prefix and returns it.
func (s *Server) issue(prefix string, g *grant) string {
	tok := prefix + randomHex(16)
	s.mu.Lock()
	s.grants[tok] = g
	s.mu.Unlock()
	return tok
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func oauthError(w http.ResponseWriter, status int, code, desc string) {
	writeJSON(w, status, map[string]any{"error": code, "error_description": desc})
}
