package fakeapi

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// newJob registers a job and returns it.
func (s *Server) newJob(j *job) *job {
	s.mu.Lock()
	defer s.mu.Unlock()
	j.id = s.nextID
	j.created = s.cfg.Now()
	s.nextID++
	s.jobs[j.id] = j
	return j
}

func (s *Server) createAnalytics(w http.ResponseWriter, r *http.Request) {
	action := r.URL.Query().Get("action")
	if action == "" {
		writeError(w, http.StatusBadRequest, "query parameter action is required")
		return
	}
	if _, ok := s.exports[action]; !ok {
		writeError(w, http.StatusBadRequest, "unknown action "+strconv.Quote(action))
		return
	}
	var body struct {
		Contract *string `json:"contract"`
		StartAt  *int64  `json:"startAt"`
		EndAt    *int64  `json:"endAt"`
	}
	dec := json.NewDecoder(io.LimitReader(r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		writeError(w, http.StatusBadRequest, "bad request body: "+err.Error())
		return
	}
	if body.Contract == nil || body.StartAt == nil || body.EndAt == nil {
		writeError(w, http.StatusBadRequest, "body needs contract, startAt and endAt")
		return
	}
	if *body.StartAt > *body.EndAt {
		writeError(w, http.StatusBadRequest, "startAt is after endAt")
		return
	}
	if *body.EndAt-*body.StartAt >= 90*msPerDay {
		writeError(w, http.StatusBadRequest, "a query covers at most 90 days")
		return
	}
	c, ok := s.contract(*body.Contract)
	if !ok || !c.HasReportingAccess {
		writeError(w, http.StatusForbidden, "no reporting access to contract "+*body.Contract)
		return
	}
	j := &job{action: action, contract: c.URN, startMs: *body.StartAt, endMs: *body.EndAt}
	j.outcome = s.outcomeOf(j)
	j = s.newJob(j)
	writeJSON(w, http.StatusOK, map[string]any{"value": map[string]any{"id": j.id, "status": "ENQUEUED"}})
}

// poll advances a job by one poll and returns it and its poll number.
func (s *Server) poll(idText string, crm bool, owner string) (*job, int, int) {
	id, err := strconv.ParseInt(idText, 10, 64)
	if err != nil {
		return nil, 0, http.StatusBadRequest
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	j, ok := s.jobs[id]
	if !ok || j.crm != crm || j.contract != owner || s.cfg.Now().Sub(j.created) > 7*24*time.Hour {
		// Unknown, someone else's, or older than LinkedIn's 7 days.
		return nil, 0, http.StatusNotFound
	}
	j.polls++
	return j, j.polls, 0
}

// encodedURN checks that a query parameter holding a URN was sent
// URL-encoded, as the API documents (urn%3Ali%3A…), and returns it decoded.
func encodedURN(w http.ResponseWriter, r *http.Request, name string) (string, bool) {
	for _, part := range strings.Split(r.URL.RawQuery, "&") {
		raw, ok := strings.CutPrefix(part, name+"=")
		if !ok {
			continue
		}
		if strings.ContainsAny(raw, ":(),") {
			writeError(w, http.StatusBadRequest, "query parameter "+name+" must be URL-encoded")
			return "", false
		}
		v, err := url.QueryUnescape(raw)
		if err != nil || v == "" {
			break
		}
		return v, true
	}
	writeError(w, http.StatusBadRequest, "query parameter "+name+" is required")
	return "", false
}

func (s *Server) getAnalytics(w http.ResponseWriter, r *http.Request) {
	contract, ok := encodedURN(w, r, "contract")
	if !ok {
		return
	}
	j, polls, status := s.poll(r.PathValue("id"), false, contract)
	if status != 0 {
		writeError(w, status, "no export job "+r.PathValue("id")+" for contract "+contract)
		return
	}
	out := map[string]any{"id": j.id, "status": "ENQUEUED"}
	stuck := s.Faults().StuckJobs
	if polls == s.cfg.PollsToComplete-1 || (stuck && polls >= s.cfg.PollsToComplete) {
		out["status"] = "PROCESSING"
	}
	if polls >= s.cfg.PollsToComplete && j.outcome != "" {
		out["status"] = j.outcome
	} else if polls >= s.cfg.PollsToComplete && !stuck {
		exp := s.cfg.Now().Add(s.cfg.URLTTL).UnixMilli()
		n := s.rowCount(j)
		out["status"] = "COMPLETED"
		if n > 0 || !s.cfg.NoFileWhenEmpty {
			out["downloadUrl"] = s.signedURL(r, j.id, 0, exp)
			out["expireAt"] = exp
		}
		if !s.cfg.OmitRowCount {
			out["rowCount"] = n
		}
	}
	if out["status"] == "COMPLETED" {
		// When the answer leaves, not when it began: counting the rows
		// takes the fake a while.
		s.mu.Lock()
		if j.completed.IsZero() {
			j.completed = time.Now()
		}
		s.mu.Unlock()
	}
	writeJSON(w, http.StatusOK, out)
}

// rowCount is the number of rows of a job's export. Counting generates
// every row (a quarter of a second for 2.5 M): with a CacheDir the count is
// kept there beside the files, so that a benchmark's status poll answers
// at once, as the real API's does.
func (s *Server) rowCount(j *job) int64 {
	if s.cfg.CacheDir == "" {
		return s.exports[j.action].Rows(s.data, j.contract, j.startMs, j.endMs)
	}
	name := filepath.Join(s.cfg.CacheDir, fmt.Sprintf("%s_%x_%d_%d_seed%d_rows%d.rowcount", j.action, contractKey(j.contract), j.startMs, j.endMs,
		s.cfg.Seed, s.cfg.RowsPerDay))
	if b, err := os.ReadFile(name); err == nil {
		if n, err := strconv.ParseInt(string(b), 10, 64); err == nil {
			return n
		}
	}
	n := s.exports[j.action].Rows(s.data, j.contract, j.startMs, j.endMs)
	// A lost write only costs the next poll the count again.
	if tmp, err := os.CreateTemp(s.cfg.CacheDir, ".count-*"); err == nil {
		_, werr := tmp.WriteString(strconv.FormatInt(n, 10))
		if cerr := tmp.Close(); werr == nil && cerr == nil {
			_ = os.Rename(tmp.Name(), name)
		}
		os.Remove(tmp.Name())
	}
	return n
}
