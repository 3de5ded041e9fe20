package fakeapi

import (
	"net/http"
	"strings"
)

// introspect serves LinkedIn's token introspection (POST
// /oauth/v2/introspectToken, form client_id, client_secret, token): for a
// token it knows, active, status (active, expired or revoked), created_at
// and expires_at (Unix seconds), scope (comma-separated), auth_type (3L
// or 2L) and client_id. A token it does not know answers {"active":
// false} alone (ASSUMPTION: LinkedIn does not document that answer).
// Refresh tokens are introspected like access tokens (ASSUMPTION).
func (s *Server) introspect(w http.ResponseWriter, r *http.Request) {
	s.count("introspect")
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", err.Error())
		return
	}
	if !s.clientAuthenticated(r) {
		oauthError(w, http.StatusUnauthorized, "invalid_client", "Client authentication failed")
		return
	}
	tok := r.PostForm.Get("token")
	if tok == "" {
		oauthError(w, http.StatusBadRequest, "invalid_request", "token is required")
		return
	}
	s.mu.Lock()
	g, ok := s.grants[tok]
	var out map[string]any
	if ok {
		status := "active"
		switch now := s.cfg.Now(); {
		case g.revoked || s.faults.RevokedTokens:
			status = "revoked"
		case !now.Before(g.expires):
			status = "expired"
		}
		out = map[string]any{"active": status == "active", "status": status, "client_id": s.cfg.ClientID,
			"auth_type": g.authType, "created_at": g.created.Unix(), "expires_at": g.expires.Unix(),
			"scope": strings.Join(g.scopes, ",")}
	}
	s.mu.Unlock()
	if !ok {
		out = map[string]any{"active": false}
	}
	writeJSON(w, http.StatusOK, out)
}
