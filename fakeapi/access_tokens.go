package fakeapi

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"time"
)

func (s *Server) accessToken(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Get("q") != "viewerAndDeveloperApp" {
		writeError(w, http.StatusBadRequest, "query parameter q must be viewerAndDeveloperApp")
		return
	}
	tok := make([]byte, 16)
	_, _ = rand.Read(tok)
	writeJSON(w, http.StatusOK, map[string]any{
		"elements": []any{map[string]any{"token": "fake-sat-" + hex.EncodeToString(tok), "expiryTime": s.cfg.Now().Add(30 * time.Minute).Unix()}},
		"paging":   map[string]any{"count": 1, "start": 0, "links": []any{}},
	})
}
