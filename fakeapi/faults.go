package fakeapi

import (
	"bytes"
	"encoding/csv"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/salesnav-etl/salesnav-etl/schema"
)

// Faults are failures the fake injects, all off by default. Change them
// while the server runs with SetFaults.
type Faults struct {
	// RateLimitEvery answers every Nth API call (under /v2) with 429.
	RateLimitEvery int
	// RetryAfterSeconds is sent as Retry-After with injected 429s and 503s
	// (0: none).
	RetryAfterSeconds int
	// QuotaExhausted answers every API call with 429, like a spent daily
	// quota, until it is turned off.
	QuotaExhausted bool
	// ServerErrorEvery answers every Nth API call with 503.
	ServerErrorEvery int
	// DropDownloads cuts the next N downloads off halfway (the connection
	// closes mid-body).
	DropDownloads int
	// StallDownloads makes the next N downloads send half their body and
	// then nothing more, the connection open, until the client gives up.
	StallDownloads int
	// FailJobs makes the next N jobs created end with FailStatus.
	FailJobs   int
	FailStatus string
	// CRMFailStatus is what failed CRM validation jobs end with (default
	// FAILED_DUE_TO_INTERNAL_ERROR, the one documented for them).
	CRMFailStatus string
	// ExceedFileSizeDays fails jobs covering more days than this with
	// FAILED_DUE_TO_EXCEEDED_FILE_SIZE_ERROR.
	ExceedFileSizeDays int
	// DataDelayAfter fails jobs whose window ends after it with
	// FAILED_DUE_TO_DATA_DELAY.
	DataDelayAfter time.Time
	// CursorInMicros answers a completed CRM validation export's
	// nextExportStartAt in microseconds instead of milliseconds.
	CursorInMicros bool
	// NoContracts lists no contract; DuplicateContracts lists each one
	// twice (pages that shifted between calls).
	NoContracts, DuplicateContracts bool
	// SilentAssociations answers batch profile association lookups with
	// {}: nothing about any key asked.
	SilentAssociations bool
	// StuckJobs keeps jobs PROCESSING forever.
	StuckJobs bool
	// InvalidUTF8Row, when N > 0, puts the invalid UTF-8 bytes ff fe into
	// the first string column of data row N (1: the first row after the
	// header) of every analytics export file that has N rows; the rest of
	// the value stays (activityId a1 becomes a\xff\xfe1).
	InvalidUTF8Row int
	// DocumentedColumnsOnly serves analytics export files with only the
	// columns LinkedIn documents: each column the stream marks Assumed is
	// left out, and where that would leave none (the seat export, whose
	// column names LinkedIn does not give) they stay under other names
	// (prefixed "linkedin_"), which the connector does not know.
	DocumentedColumnsOnly bool
	// DeclineAuthorization answers the authorization endpoint as if the
	// member had declined: a redirect back with
	// error=user_cancelled_authorize.
	DeclineAuthorization bool
	// NoRefreshToken leaves the refresh token out of the authorization
	// code grant's answer, as LinkedIn does for apps that are not approved
	// partners.
	NoRefreshToken bool
	// RevokedTokens revokes every token, issued or configured: the API
	// refuses them (401), the token endpoint refuses the refresh tokens,
	// and introspection answers status "revoked".
	RevokedTokens bool
	// Chaos, when set, mixes faults at random from a seed (see Chaos).
	Chaos *Chaos
}

// SetFaults replaces the injected faults (and restarts the chaos
// sequence of Faults.Chaos from its seed).
func (s *Server) SetFaults(f Faults) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = f
	s.chaosRng = nil // chaos starts its sequence again
}

// Faults returns the injected faults, as changed by the server (counters
// such as DropDownloads and FailJobs go down as they are used).
func (s *Server) Faults() Faults {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.faults
}

// injectAPIFault answers an API call with an injected 429 or 503 when the
// faults say so, or with chaos (the status chaos drew, 0 for none), and
// reports whether it did.
func (s *Server) injectAPIFault(w http.ResponseWriter, chaos int) bool {
	s.mu.Lock()
	s.apiCalls++
	n, f := s.apiCalls, s.faults
	s.mu.Unlock()
	status := 0
	switch {
	case chaos != 0:
		status = chaos
	case f.QuotaExhausted:
		status = http.StatusTooManyRequests
	case f.RateLimitEvery > 0 && n%f.RateLimitEvery == 0:
		status = http.StatusTooManyRequests
	case f.ServerErrorEvery > 0 && n%f.ServerErrorEvery == 0:
		status = http.StatusServiceUnavailable
	}
	if status == 0 {
		return false
	}
	s.count("fault" + strconv.Itoa(status))
	if f.RetryAfterSeconds > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(f.RetryAfterSeconds))
	}
	writeError(w, status, "injected fault: "+http.StatusText(status))
	return true
}

// jobOutcome decides, at creation, how a job will end: "" for COMPLETED.
func (s *Server) jobOutcome(j *job) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := &s.faults
	days := (j.endMs - j.startMs + 1 + msPerDay - 1) / msPerDay
	switch {
	case f.FailJobs > 0:
		f.FailJobs--
		return f.FailStatus
	case f.ExceedFileSizeDays > 0 && days > int64(f.ExceedFileSizeDays):
		return "FAILED_DUE_TO_EXCEEDED_FILE_SIZE_ERROR"
	case !f.DataDelayAfter.IsZero() && j.endMs > f.DataDelayAfter.UnixMilli():
		return "FAILED_DUE_TO_DATA_DELAY"
	}
	return ""
}

// outcomeOf is jobOutcome, then, for a job bound to complete, the chaos
// draw.
func (s *Server) outcomeOf(j *job) string {
	if o := s.jobOutcome(j); o != "" {
		return o
	}
	return s.chaosJobOutcome(j.crm)
}

// contentFaults reports whether the faults change export files' content
// (InvalidUTF8Row, DocumentedColumnsOnly).
func (f Faults) contentFaults() bool { return f.InvalidUTF8Row > 0 || f.DocumentedColumnsOnly }

// rewriteCSV applies the content faults to a file of stream st.
func (f Faults) rewriteCSV(raw []byte, st *schema.Stream) ([]byte, error) {
	recs, err := csv.NewReader(bytes.NewReader(raw)).ReadAll()
	if err != nil || len(recs) == 0 {
		return raw, err
	}
	keep := make([]int, 0, len(recs[0]))
	header := slices.Clone(recs[0])
	firstString := -1
	for i, name := range header {
		c, known := st.Column(name)
		if f.DocumentedColumnsOnly && known && c.Assumed {
			continue
		}
		if firstString < 0 && (!known || c.Kind == schema.String) {
			firstString = len(keep)
		}
		keep = append(keep, i)
	}
	if len(keep) == 0 { // nothing documented: other names
		for i, name := range header {
			keep, header[i] = append(keep, i), "linkedin_"+name
		}
		firstString = 0
	}
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	for n, rec := range recs {
		out := make([]string, len(keep))
		for j, i := range keep {
			out[j] = rec[i]
			if n == 0 {
				out[j] = header[i]
			}
		}
		if n > 0 && n == f.InvalidUTF8Row && firstString >= 0 && out[firstString] != "" {
			v := out[firstString]
			out[firstString] = v[:1] + "\xff\xfe" + v[1:]
		}
		_ = cw.Write(out)
	}
	cw.Flush()
	return buf.Bytes(), cw.Error()
}

// takeDrop reports whether this download is to be cut off.
func (s *Server) takeDrop() bool { return s.take(&s.faults.DropDownloads) }

// takeStall reports whether this download is to stall.
func (s *Server) takeStall() bool { return s.take(&s.faults.StallDownloads) }

// take counts one use of a fault counter down, reporting whether there
// was one left.
func (s *Server) take(n *int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if *n > 0 {
		*n--
		return true
	}
	return false
}

// bearer extracts the bearer token of a request.
func bearer(r *http.Request) string {
	tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return tok
}
