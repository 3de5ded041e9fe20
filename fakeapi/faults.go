package fakeapi

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"encoding/csv"
	"encoding/hex"
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

// Token endpoint defaults.
const (
	DefaultClientID     = "fake-client"
	DefaultClientSecret = "fake-secret"
	DefaultRefreshToken = "fake-refresh"
)

// ExpireTokens expires every access token the token endpoint issued, as if
// their lifetime had run out.
func (s *Server) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for t := range s.issued {
		s.issued[t] = time.Time{}
	}
}

// tokenValid accepts the configured static token and unexpired issued ones.
func (s *Server) tokenValid(tok string) bool {
	if hmac.Equal([]byte(tok), []byte(s.cfg.Token)) {
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, ok := s.issued[tok]
	return ok && s.cfg.Now().Before(exp)
}

// token serves LinkedIn's OAuth 2.0 token endpoint for the refresh-token
// grant (3-legged: 60-day tokens) and the client-credentials grant
// (2-legged: 30-minute tokens).
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	s.count("token")
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", err.Error())
		return
	}
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if id != s.cfg.ClientID || !hmac.Equal([]byte(secret), []byte(s.cfg.ClientSecret)) {
		oauthError(w, http.StatusUnauthorized, "invalid_client", "Client authentication failed")
		return
	}
	var ttl time.Duration
	out := map[string]any{}
	switch r.PostForm.Get("grant_type") {
	case "refresh_token":
		if !hmac.Equal([]byte(r.PostForm.Get("refresh_token")), []byte(s.cfg.RefreshToken)) {
			oauthError(w, http.StatusBadRequest, "invalid_grant", "The refresh token is invalid or expired")
			return
		}
		ttl = s.cfg.MemberTokenTTL
		out["refresh_token"] = s.cfg.RefreshToken
		out["refresh_token_expires_in"] = 365 * 24 * 3600
	case "client_credentials":
		ttl = 30 * time.Minute
	default:
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "grant_type must be refresh_token or client_credentials")
		return
	}
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	tok := "fake-issued-" + hex.EncodeToString(b)
	s.mu.Lock()
	s.issued[tok] = s.cfg.Now().Add(ttl)
	s.mu.Unlock()
	out["access_token"] = tok
	out["expires_in"] = int(ttl.Seconds())
	out["token_type"] = "Bearer"
	writeJSON(w, http.StatusOK, out)
}

func oauthError(w http.ResponseWriter, status int, code, desc string) {
	writeJSON(w, status, map[string]any{"error": code, "error_description": desc})
}

// bearer extracts the bearer token of a request.
func bearer(r *http.Request) string {
	tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return tok
}
