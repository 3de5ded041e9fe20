package fakeapi

import (
	"cmp"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// validCRMInstance checks urn:li:crmInstance:(KEY,VALUE).
func validCRMInstance(urn string) bool {
	rest, ok := strings.CutPrefix(urn, "urn:li:crmInstance:(")
	if !ok || !strings.HasSuffix(rest, ")") {
		return false
	}
	k, v, ok := strings.Cut(strings.TrimSuffix(rest, ")"), ",")
	return ok && k != "" && v != ""
}

func (s *Server) createCRM(w http.ResponseWriter, r *http.Request) {
	inst, ok := encodedURN(w, r, "crmInstanceId")
	if !ok {
		return
	}
	if !validCRMInstance(inst) {
		writeError(w, http.StatusBadRequest, "query parameter crmInstanceId must be urn:li:crmInstance:(KEY,VALUE)")
		return
	}
	var body struct {
		ExportStartAt *int64 `json:"exportStartAt"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&body); err != nil || body.ExportStartAt == nil {
		writeError(w, http.StatusBadRequest, "body needs exportStartAt")
		return
	}
	end := s.cfg.Now().Truncate(time.Minute).UnixMilli()
	if *body.ExportStartAt > end {
		writeError(w, http.StatusBadRequest, "exportStartAt is in the future")
		return
	}
	j := s.newJob(&job{crm: true, action: "crm", contract: inst, startMs: *body.ExportStartAt, endMs: end})
	if f := s.Faults(); f.FailJobs > 0 {
		// A CRM validation job fails with an internal error, the one
		// failure documented for it, unless CRMFailStatus says otherwise.
		s.jobOutcome(j)
		j.outcome = cmp.Or(f.CRMFailStatus, "FAILED_DUE_TO_INTERNAL_ERROR")
	} else {
		j.outcome = s.chaosJobOutcome(true)
	}
	w.Header().Set("X-RestLi-Id", strconv.FormatInt(j.id, 10))
	w.Header().Set("Location", "/crmDataValidationExportJobs/"+strconv.FormatInt(j.id, 10))
	if s.cfg.CRMCreateBody {
		writeJSON(w, http.StatusCreated, map[string]any{"jobId": j.id, "exportStartAt": j.startMs, "status": "PROCESSING"})
		return
	}
	w.WriteHeader(http.StatusCreated)
}

func (s *Server) getCRM(w http.ResponseWriter, r *http.Request) {
	inst, ok := encodedURN(w, r, "crmInstanceId")
	if !ok {
		return
	}
	j, polls, status := s.poll(r.PathValue("id"), true, inst)
	if status != 0 {
		writeError(w, status, "no CRM validation job "+r.PathValue("id"))
		return
	}
	out := map[string]any{"jobId": j.id, "exportStartAt": j.startMs, "status": "PROCESSING"}
	if polls >= s.cfg.PollsToComplete && j.outcome != "" {
		out["status"] = j.outcome
	} else if polls >= s.cfg.PollsToComplete && !s.Faults().StuckJobs {
		exp := s.cfg.Now().Add(s.cfg.URLTTL).UnixMilli()
		urls := make([]string, s.cfg.CRMFiles)
		for i := range urls {
			urls[i] = s.signedURL(r, j.id, i, exp)
		}
		out["status"] = "COMPLETED"
		out["exportEndAt"] = j.endMs
		out["nextExportStartAt"] = j.endMs
		if s.Faults().CursorInMicros {
			out["nextExportStartAt"] = j.endMs * 1000
		}
		out["downloadUrls"] = urls
		out["expireAt"] = exp
	}
	writeJSON(w, http.StatusOK, out)
}
