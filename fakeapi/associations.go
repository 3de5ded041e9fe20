package fakeapi

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/salesnav-etl/salesnav-etl/extract"
)

// association answers for one key: a match for most keys, none (404) for
// one in five, and an error for recordIds starting with "error".
func (s *Server) association1(k extract.AssociationKey) (map[string]any, int, string) {
	if strings.HasPrefix(k.RecordID, "error") {
		return nil, http.StatusInternalServerError, "internal error while matching record " + k.RecordID
	}
	h := s.data.h(contractKey(k.InstanceID), contractKey(k.Partner), contractKey(k.RecordID), 8)
	if h%5 == 0 {
		return nil, http.StatusNotFound, ""
	}
	id := strconv.FormatUint(h%(1<<40), 36)
	m := map[string]any{"member": "urn:li:person:" + id, "profile": "https://www.linkedin.com/sales/people/" + id}
	if h%3 != 0 {
		m["profilePhoto"] = "https://media.licdn.com/dms/image/" + id + "/profile.jpg"
	}
	return m, http.StatusOK, ""
}

func (s *Server) association(w http.ResponseWriter, r *http.Request) {
	// The key segment is fully URL-encoded; the mux gave it back decoded
	// once, leaving Rest.li's own escapes in the values.
	k, err := extract.ParseAssociationKey(r.PathValue("key"))
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad key: "+err.Error())
		return
	}
	m, status, msg := s.association1(k)
	switch status {
	case http.StatusOK:
		writeJSON(w, http.StatusOK, m)
	case http.StatusNotFound:
		writeError(w, http.StatusNotFound, "no match for "+k.String())
	default:
		writeError(w, status, msg)
	}
}

func (s *Server) batchAssociations(w http.ResponseWriter, r *http.Request) {
	var ids string
	for _, part := range strings.Split(r.URL.RawQuery, "&") {
		if v, ok := strings.CutPrefix(part, "ids="); ok {
			ids = v
		}
	}
	if ids == "" {
		writeError(w, http.StatusBadRequest, "query parameter ids is required")
		return
	}
	keys, err := extract.DecodeAssociationKeys(ids)
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad ids: "+err.Error())
		return
	}
	if s.Faults().SilentAssociations {
		writeJSON(w, http.StatusOK, map[string]any{})
		return
	}
	statuses, results, errs := map[string]int{}, map[string]any{}, map[string]any{}
	for _, k := range keys {
		m, status, msg := s.association1(k)
		ks := k.String()
		statuses[ks] = status
		switch status {
		case http.StatusOK:
			results[ks] = m
		case http.StatusNotFound:
		default:
			errs[ks] = msg // the OpenAPI file: a string per key
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"statuses": statuses, "results": results, "errors": errs})
}
