// Package fakeapi is an embedded fake of the LinkedIn Sales Navigator API:
// all eight operations in the shapes of the OpenAPI file and LinkedIn's
// docs, deterministic data, and a signed, expiring download URL, so the
// whole pipeline runs with no LinkedIn account. It is what the tests run
// against, and what `salesnav-etl fake-api` serves.
package fakeapi

import (
	"crypto/rand"
	"encoding/json"
	"log/slog"
	"maps"
	mrand "math/rand/v2"
	"net/http"
	"sync"
	"time"
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
	// endpoint /oauth/v2/accessToken (defaults DefaultClientID, …), as are
	// the refresh tokens it issues itself (authorization code grant).
	ClientID, ClientSecret, RefreshToken string
	// RefreshTokenIssuedAt is when the member consented to the configured
	// RefreshToken (default: Now when the server is made): it expires 365
	// days later, and refreshing does not extend it.
	RefreshTokenIssuedAt time.Time
	// RedirectURLs are the redirect URLs registered for the application:
	// the authorization endpoint redirects only to one of them, exactly
	// (default DefaultRedirectURL).
	RedirectURLs []string
	// MemberTokenTTL is the life of the member's access tokens that the
	// token endpoint issues (default 60 days).
	MemberTokenTTL time.Duration
	// Exports adds analytics exports, by action, to the built-in streams'
	// (a stream a test declares in the registry; see RecordsExport).
	Exports map[string]Export
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

	exports map[string]Export // by action: the built-in ones and Config.Exports

	mu       sync.Mutex
	cacheMu  sync.Mutex // one export generated into CacheDir at a time
	nextID   int64
	jobs     map[int64]*job
	calls    map[string]int
	faults   Faults
	apiCalls int
	// grants are the tokens the fake knows (issued, and the configured
	// ones), by token; codes the authorization codes not yet used.
	grants map[string]*grant
	codes  map[string]*authCode
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
	if cfg.RefreshTokenIssuedAt.IsZero() {
		cfg.RefreshTokenIssuedAt = cfg.Now()
	}
	if len(cfg.RedirectURLs) == 0 {
		cfg.RedirectURLs = []string{DefaultRedirectURL}
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	exports := builtinExports()
	maps.Copy(exports, cfg.Exports)
	return &Server{cfg: cfg, data: Data{Seed: cfg.Seed, RowsPerDay: cfg.RowsPerDay}, key: key, log: log, exports: exports,
		nextID: 900_000_001, jobs: map[int64]*job{}, calls: map[string]int{}, faults: cfg.Faults,
		grants: configuredGrants(cfg), codes: map[string]*authCode{}}
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
	mux.HandleFunc("GET /oauth/v2/authorization", s.authorize)
	mux.HandleFunc("POST /oauth/v2/introspectToken", s.introspect)
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
