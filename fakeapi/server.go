// Package fakeapi is an embedded fake of the LinkedIn Sales Navigator API:
// all eight operations in the shapes of the OpenAPI file and LinkedIn's
// docs, deterministic data, and a signed, expiring download URL, so the
// whole pipeline runs with no LinkedIn account. It is what the tests run
// against, and what `salesnav-etl fake-api` serves.
package fakeapi

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	mrand "math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/salesnav-etl/salesnav-etl/extract"
)

// Defaults of Config.
const (
	DefaultToken      = "fake-token"
	DefaultSeed       = 42
	DefaultRowsPerDay = 300
)

// DefaultCRMInstances are CRM instances to run the fake with: it accepts
// any urn:li:crmInstance:(PARTNER,ID) and derives its records from it.
var DefaultCRMInstances = []string{"urn:li:crmInstance:(SFDC,00D5e000000fake1)", "urn:li:crmInstance:(DYNAMICS,fake-org-2)"}

// Contract is a contract the fake serves.
type Contract struct {
	URN                string
	Name               string
	Description        string
	HasReportingAccess bool
}

// DefaultContracts: two with reporting access, one without.
var DefaultContracts = []Contract{
	{URN: "urn:li:salesContract:1001", Name: "Acme Corp North America", Description: "Enterprise, annual", HasReportingAccess: true},
	{URN: "urn:li:salesContract:1002", Name: "Acme Corp EMEA", Description: "Enterprise, annual", HasReportingAccess: true},
	{URN: "urn:li:salesContract:1003", Name: "Acme Corp Trial", HasReportingAccess: false},
}

// ManyContracts returns n contracts with reporting access
// (urn:li:salesContract:1001 on, the first two DefaultContracts'), and one
// without: for sharded runs.
func ManyContracts(n int) []Contract {
	out := make([]Contract, 0, n+1)
	for i := range n {
		id := strconv.Itoa(1001 + i)
		c := Contract{URN: "urn:li:salesContract:" + id, Name: "Acme Corp unit " + id, HasReportingAccess: true}
		if i < 2 {
			c = DefaultContracts[i]
		}
		out = append(out, c)
	}
	return append(out, Contract{URN: "urn:li:salesContract:" + strconv.Itoa(1001+n), Name: "Acme Corp Trial", HasReportingAccess: false})
}

// Config configures a Server.
type Config struct {
	// Token is the only bearer token accepted (default DefaultToken).
	Token string
	// Seed selects the data set (default DefaultSeed).
	Seed int64
	// RowsPerDay is the activities per contract per day, ±20% (default
	// DefaultRowsPerDay; negative means none).
	RowsPerDay int
	// Contracts defaults to DefaultContracts.
	Contracts []Contract
	// PollsToComplete is the poll at which a job reports COMPLETED
	// (default 3: polls answer ENQUEUED, PROCESSING, then COMPLETED; the
	// poll before the last answers PROCESSING, earlier ones ENQUEUED).
	PollsToComplete int
	// URLTTL is the life of a download URL (default 1 h, as LinkedIn's).
	URLTTL time.Duration
	// Gzip serves export files gzip-compressed (detected by magic bytes).
	Gzip bool
	// CRMCreateBody makes create-CRM-validation answer 201 with the OpenAPI
	// file's JSON body; by default it answers 201 with no body and the id in
	// X-RestLi-Id and Location, as LinkedIn documents.
	CRMCreateBody bool
	// OmitRowCount leaves rowCount out of completed jobs (it is nullable).
	OmitRowCount bool
	// NoFileWhenEmpty completes a job with no rows without a downloadUrl.
	NoFileWhenEmpty bool
	// CacheDir, when set, keeps each generated export file there and serves
	// the same export again from disk (with a Content-Length), so that a
	// benchmark measures the connector, not the fake's generator.
	CacheDir string
	// CRMFiles is the number of files per CRM validation export (default 3).
	CRMFiles int
	// ClientID, ClientSecret and RefreshToken are accepted by the token
	// endpoint /oauth/v2/accessToken (defaults DefaultClientID, …).
	ClientID, ClientSecret, RefreshToken string
	// MemberTokenTTL is the life of refresh-grant tokens (default 60 days).
	MemberTokenTTL time.Duration
	// Faults are injected failures (see Faults; SetFaults changes them).
	Faults Faults
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Logger receives one line per request. Nil discards.
	Logger *slog.Logger
}

// Server is the fake API. Its Handler serves /v2/... and the download
// paths. It is safe for concurrent use.
type Server struct {
	cfg  Config
	data Data
	key  []byte
	log  *slog.Logger

	mu       sync.Mutex
	cacheMu  sync.Mutex // one export generated into CacheDir at a time
	nextID   int64
	jobs     map[int64]*job
	calls    map[string]int
	faults   Faults
	apiCalls int
	issued   map[string]time.Time // access tokens issued, and their expiry
	// chaosRng draws the chaos faults; it is made anew when the seed
	// changes.
	chaosRng  *mrand.Rand
	chaosSeed int64
}

type job struct {
	id       int64
	crm      bool
	action   string
	contract string // analytics: contract URN; crm: instance URN
	startMs  int64
	endMs    int64
	polls    int
	created  time.Time
	outcome  string // "" completes; otherwise the failure status it ends with
	// completed is when the job was first reported COMPLETED: a download's
	// log line says how long after it the download came.
	completed time.Time
}

// New returns a Server for cfg.
func New(cfg Config) *Server {
	if cfg.Token == "" {
		cfg.Token = DefaultToken
	}
	if cfg.Seed == 0 {
		cfg.Seed = DefaultSeed
	}
	if cfg.RowsPerDay == 0 {
		cfg.RowsPerDay = DefaultRowsPerDay
	}
	if cfg.Contracts == nil {
		cfg.Contracts = DefaultContracts
	}
	if cfg.PollsToComplete <= 0 {
		cfg.PollsToComplete = 3
	}
	if cfg.URLTTL <= 0 {
		cfg.URLTTL = time.Hour
	}
	if cfg.CRMFiles <= 0 {
		cfg.CRMFiles = 3
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.ClientID == "" {
		cfg.ClientID = DefaultClientID
	}
	if cfg.ClientSecret == "" {
		cfg.ClientSecret = DefaultClientSecret
	}
	if cfg.RefreshToken == "" {
		cfg.RefreshToken = DefaultRefreshToken
	}
	if cfg.MemberTokenTTL <= 0 {
		cfg.MemberTokenTTL = 60 * 24 * time.Hour
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	return &Server{cfg: cfg, data: Data{Seed: cfg.Seed, RowsPerDay: cfg.RowsPerDay}, key: key, log: log,
		nextID: 900_000_001, jobs: map[int64]*job{}, calls: map[string]int{}, faults: cfg.Faults, issued: map[string]time.Time{}}
}

// ForgetJobs drops every job, as if they had expired.
func (s *Server) ForgetJobs() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.jobs = map[int64]*job{}
}

// Data returns the generator behind the server, for tests that compare a
// load with what the fake serves.
func (s *Server) Data() Data { return s.data }

// Calls returns how many requests each operation has answered.
func (s *Server) Calls() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.calls)
}

// Handler returns the HTTP handler.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	api := func(op, pattern string, h func(http.ResponseWriter, *http.Request)) {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			s.count(op)
			s.log.Debug("fake api request", "op", op, "method", r.Method, "path", r.URL.Path)
			s.chaosLatency()
			chaos := s.chaosAPICall()
			if !s.authorised(w, r) {
				return
			}
			if s.injectAPIFault(w, chaos) {
				return
			}
			h(w, r)
		})
	}
	api("getContracts", "GET /v2/salesContracts", s.contracts)
	api("createAnalyticsExport", "POST /v2/salesAnalyticsExportJobs", s.createAnalytics)
	api("getAnalyticsExport", "GET /v2/salesAnalyticsExportJobs/{id}", s.getAnalytics)
	api("getSalesAccessToken", "GET /v2/salesAccessTokens", s.accessToken)
	api("batchGetProfileAssociations", "GET /v2/salesNavigatorProfileAssociations", s.batchAssociations)
	api("getProfileAssociation", "GET /v2/salesNavigatorProfileAssociations/{key}", s.association)
	api("createCrmValidationExport", "POST /v2/crmDataValidationExportJobs", s.createCRM)
	api("getCrmValidationExport", "GET /v2/crmDataValidationExportJobs/{id}", s.getCRM)
	mux.HandleFunc("POST /oauth/v2/accessToken", s.token)
	mux.HandleFunc("GET /downloads/{id}/{file}", func(w http.ResponseWriter, r *http.Request) {
		s.count("download")
		s.chaosLatency()
		s.download(w, r)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no such resource: "+r.Method+" "+r.URL.Path)
	})
	return mux
}

func (s *Server) count(op string) {
	s.mu.Lock()
	s.calls[op]++
	s.mu.Unlock()
}

// writeError writes LinkedIn's documented error body.
func writeError(w http.ResponseWriter, status int, msg string) {
	code := map[int]int{400: 100, 401: 65600, 403: 100, 404: 100}[status]
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"status": status, "serviceErrorCode": code, "message": msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (s *Server) authorised(w http.ResponseWriter, r *http.Request) bool {
	if !s.tokenValid(bearer(r)) {
		writeError(w, http.StatusUnauthorized, "Invalid access token")
		return false
	}
	if r.Header.Get("X-Restli-Protocol-Version") != "2.0.0" {
		writeError(w, http.StatusBadRequest, "header X-Restli-Protocol-Version: 2.0.0 is required")
		return false
	}
	return true
}

func (s *Server) contract(urn string) (Contract, bool) {
	for _, c := range s.cfg.Contracts {
		if c.URN == urn {
			return c, true
		}
	}
	return Contract{}, false
}

func (s *Server) contracts(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Get("q") != "contractsByMember" {
		writeError(w, http.StatusBadRequest, "query parameter q must be contractsByMember")
		return
	}
	els := make([]map[string]any, 0, len(s.cfg.Contracts))
	for _, c := range s.cfg.Contracts {
		e := map[string]any{"contract": c.URN, "name": c.Name, "hasReportingAccess": c.HasReportingAccess}
		if c.Description != "" {
			e["description"] = c.Description
		}
		els = append(els, e)
	}
	writeJSON(w, http.StatusOK, map[string]any{"elements": els,
		"paging": map[string]any{"count": 10, "start": 0, "total": len(els), "links": []any{}}})
}

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
	switch action {
	case "exportSeatData", "exportActivityData", "exportActivityOutcomeData":
	case "":
		writeError(w, http.StatusBadRequest, "query parameter action is required")
		return
	default:
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

func (s *Server) rowCount(j *job) int64 {
	var n int64
	switch j.action {
	case "exportActivityData":
		s.data.Activities(j.contract, j.startMs, j.endMs, func(Activity) bool { n++; return true })
	case "exportActivityOutcomeData":
		s.data.Outcomes(j.contract, j.startMs, j.endMs, func(Outcome) bool { n++; return true })
	case "exportSeatData":
		n = int64(len(s.data.Seats(j.contract, j.endMs)))
	}
	return n
}

func (s *Server) sign(id int64, file int, exp int64) string {
	m := hmac.New(sha256.New, s.key)
	fmt.Fprintf(m, "%d/%d/%d", id, file, exp)
	return hex.EncodeToString(m.Sum(nil))
}

// signedURL is the download URL of a job's file: on the fake's own host,
// self-authorising through an expiring signature, like LinkedIn's.
func (s *Server) signedURL(r *http.Request, id int64, file int, exp int64) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	q := url.Values{"expires": {strconv.FormatInt(exp, 10)}, "sig": {s.sign(id, file, exp)}}
	return fmt.Sprintf("%s://%s/downloads/%d/%d?%s", scheme, r.Host, id, file, q.Encode())
}

func (s *Server) download(w http.ResponseWriter, r *http.Request) {
	id, err1 := strconv.ParseInt(r.PathValue("id"), 10, 64)
	file, err2 := strconv.Atoi(r.PathValue("file"))
	exp, err3 := strconv.ParseInt(r.URL.Query().Get("expires"), 10, 64)
	if err1 != nil || err2 != nil || err3 != nil {
		writeError(w, http.StatusBadRequest, "malformed download URL")
		return
	}
	if !hmac.Equal([]byte(r.URL.Query().Get("sig")), []byte(s.sign(id, file, exp))) {
		writeError(w, http.StatusForbidden, "bad signature")
		return
	}
	if s.cfg.Now().UnixMilli() > exp {
		writeError(w, http.StatusForbidden, "download URL expired")
		return
	}
	s.mu.Lock()
	j, ok := s.jobs[id]
	var since time.Duration
	if ok && !j.completed.IsZero() {
		since = time.Since(j.completed)
	}
	s.mu.Unlock()
	if !ok {
		writeError(w, http.StatusNotFound, "no such export")
		return
	}
	s.log.Info("download started", "job", id, "file", file, "after_completed_us", since.Microseconds())
	fault := s.chaosDownload()
	if fault == dlExpired {
		writeError(w, http.StatusForbidden, "download URL expired")
		return
	}
	if s.takeDrop() {
		fault = dlDrop
	}
	if s.cfg.CacheDir != "" && !s.cfg.Gzip && !j.crm && fault == dlNone {
		if err := s.serveCached(w, r, j, file); err != nil {
			s.log.Warn("fake api cached download failed", "job", id, "error", err)
		}
		return
	}
	contentType := "text/csv"
	if s.cfg.Gzip {
		contentType = "application/octet-stream"
	}
	if fault != dlNone {
		s.serveFault(w, j, file, fault, contentType)
		return
	}
	w.Header().Set("Content-Type", contentType)
	var out io.Writer = w
	if s.cfg.Gzip {
		zw := gzip.NewWriter(w)
		defer zw.Close()
		out = zw
	}
	bw := bufio.NewWriterSize(out, 256<<10)
	defer bw.Flush()
	if err := s.writeCSV(bw, j, file); err != nil {
		s.log.Warn("fake api download aborted", "job", id, "error", err)
	}
}

// serveFault serves a job's file broken as fault says: the whole file is
// made in memory first (compressed when the fake serves gzip), then part
// of it is sent (half without chaos; a drawn part with it).
func (s *Server) serveFault(w http.ResponseWriter, j *job, file int, fault downloadFault, contentType string) {
	var buf bytes.Buffer
	var out io.Writer = &buf
	var zw *gzip.Writer
	if s.cfg.Gzip {
		zw = gzip.NewWriter(&buf)
		out = zw
	}
	bw := bufio.NewWriter(out)
	_ = s.writeCSV(bw, j, file)
	bw.Flush()
	if zw != nil {
		zw.Close()
	}
	cut := s.chaosCut(buf.Len())
	if fault == dlDrop {
		// Chunked, cut off: the connection closes mid-body.
		w.Header().Set("Content-Type", contentType)
		w.Write(buf.Bytes()[:cut])
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
		s.count("dropped")
		panic(http.ErrAbortHandler)
	}
	serveBroken(w, fault, buf.Bytes(), cut, contentType)
}

// serveCached serves a job's file from CacheDir, generating it there first
// when it is not yet: the same export (action, contract, range) is one file.
func (s *Server) serveCached(w http.ResponseWriter, r *http.Request, j *job, file int) error {
	// Everything the file's bytes depend on is in its name: a cache kept
	// across fakes of another seed or size is never served stale.
	name := filepath.Join(s.cfg.CacheDir, fmt.Sprintf("%s_%x_%d_%d_%d_seed%d_rows%d.csv", j.action, contractKey(j.contract), j.startMs, j.endMs, file,
		s.cfg.Seed, s.cfg.RowsPerDay))
	s.cacheMu.Lock()
	if _, err := os.Stat(name); err != nil {
		tmp, err := os.CreateTemp(s.cfg.CacheDir, ".gen-*")
		if err == nil {
			bw := bufio.NewWriterSize(tmp, 1<<20)
			err = s.writeCSV(bw, j, file)
			if err == nil {
				err = bw.Flush()
			}
			if cerr := tmp.Close(); err == nil {
				err = cerr
			}
			if err == nil {
				err = os.Rename(tmp.Name(), name)
			}
			if err != nil {
				os.Remove(tmp.Name())
			}
		}
		if err != nil {
			s.cacheMu.Unlock()
			writeError(w, http.StatusInternalServerError, "generating the export: "+err.Error())
			return err
		}
	}
	s.cacheMu.Unlock()
	f, err := os.Open(name)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return err
	}
	defer f.Close()
	w.Header().Set("Content-Type", "text/csv")
	http.ServeContent(w, r, "", time.Time{}, f)
	return nil
}

// writeCSV streams a job's file: header row, then rows, CRLF-free, quoted
// where needed.
func (s *Server) writeCSV(w *bufio.Writer, j *job, file int) error {
	var buf []byte
	var werr error
	put := func() bool {
		if _, err := w.Write(buf); err != nil {
			werr = err
			return false
		}
		buf = buf[:0]
		return true
	}
	switch j.action {
	case "exportActivityData":
		buf = append(buf, "activityId,activityType,createdAt,seatId,memberIdentityKey\n"...)
		s.data.Activities(j.contract, j.startMs, j.endMs, func(a Activity) bool {
			buf = append(buf, a.ActivityID...)
			buf = append(buf, ',')
			buf = append(buf, a.ActivityType...)
			buf = append(buf, ',')
			buf = appendExportTime(buf, a.CreatedAt)
			buf = append(buf, ',')
			buf = strconv.AppendInt(buf, a.SeatID, 10)
			buf = append(buf, ',')
			buf = append(buf, a.MemberIdentityKey...)
			buf = append(buf, '\n')
			return len(buf) < 64<<10 || put()
		})
	case "exportActivityOutcomeData":
		buf = append(buf, "activityId,activityType,createdAt,seatId\n"...)
		s.data.Outcomes(j.contract, j.startMs, j.endMs, func(o Outcome) bool {
			buf = append(buf, o.ActivityID...)
			buf = append(buf, ',')
			buf = append(buf, o.ActivityType...)
			buf = append(buf, ',')
			buf = appendExportTime(buf, o.CreatedAt)
			buf = append(buf, ',')
			buf = strconv.AppendInt(buf, o.SeatID, 10)
			buf = append(buf, '\n')
			return len(buf) < 64<<10 || put()
		})
	case "exportSeatData":
		cw := csv.NewWriter(w)
		_ = cw.Write([]string{"seatId", "firstName", "lastName", "seatStatus", "socialSellingIndex",
			"ssiProfessionalBrand", "ssiFindRightPeople", "ssiEngageWithInsights", "ssiBuildRelationships", "totalConnections"})
		f := func(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }
		for _, st := range s.data.Seats(j.contract, j.endMs) {
			_ = cw.Write([]string{strconv.FormatInt(st.SeatID, 10), st.FirstName, st.LastName, st.SeatStatus,
				f(st.SSI), f(st.Brand), f(st.FindPeople), f(st.Insights), f(st.Relate), strconv.FormatInt(st.TotalConnections, 10)})
		}
		cw.Flush()
		return cw.Error()
	case "crm":
		cw := csv.NewWriter(w)
		_ = cw.Write([]string{"recordId", "recordType", "firstName", "lastName", "crmCompanyName", "linkedInCompanyName", "detectedAt"})
		for i, rec := range s.data.CRMRecords(j.contract, j.startMs, j.endMs) {
			if i%s.cfg.CRMFiles != file {
				continue
			}
			_ = cw.Write([]string{rec.RecordID, rec.RecordType, rec.FirstName, rec.LastName, rec.CRMCompany, rec.LinkedInCompany,
				string(appendExportTime(nil, rec.DetectedAt))})
		}
		cw.Flush()
		return cw.Error()
	}
	if werr == nil && len(buf) > 0 {
		put()
	}
	return werr
}

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
	if s.Faults().FailJobs > 0 {
		// A CRM validation job can only fail with an internal error.
		s.jobOutcome(j)
		j.outcome = "FAILED_DUE_TO_INTERNAL_ERROR"
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
		out["downloadUrls"] = urls
		out["expireAt"] = exp
	}
	writeJSON(w, http.StatusOK, out)
}
