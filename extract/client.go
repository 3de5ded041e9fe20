// Package extract is a typed client for every operation of the LinkedIn
// Sales Navigator API: contracts, analytics export jobs (seat, activity,
// activity outcome), sales access tokens, profile associations and CRM data
// validation export jobs, plus streaming downloads of export files.
//
// Every call carries "Authorization: Bearer" and
// "X-Restli-Protocol-Version: 2.0.0", retries 429, 5xx and connection errors
// with exponential backoff and jitter (honouring Retry-After), never retries
// other 4xx, and stops waiting as soon as its context is cancelled.
package extract

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v5"

	"github.com/salesnav-etl/salesnav-etl/extract/restli"
)

// DefaultBaseURL is LinkedIn's API root.
const DefaultBaseURL = "https://api.linkedin.com/v2"

// DefaultTokenHosts are hosts besides the API host that may receive the
// bearer token on a download.
var DefaultTokenHosts = []string{"api.linkedin.com", "www.linkedin.com"}

// maxJSONBody bounds a JSON answer read into memory.
const maxJSONBody = 16 << 20

// Config configures a Client. The zero value of every field but Token has a
// usable default.
type Config struct {
	// BaseURL is the API root, such as https://api.linkedin.com/v2.
	BaseURL string
	// Token is a static OAuth2 bearer token. It is never logged.
	Token string
	// TokenSource supplies member (3-legged) tokens instead of Token,
	// renewed before expiry and once on a 401.
	TokenSource TokenSource
	// AppTokenSource supplies application (2-legged) tokens for CRM data
	// validation and profile associations; nil uses the member token.
	AppTokenSource TokenSource
	// QuotaBudget is how long 429s may go on with no success in between
	// before calls fail with ErrQuotaExhausted (default 2m).
	QuotaBudget time.Duration
	// TokenHosts are the hosts, besides BaseURL's, that may receive the
	// token on downloads and redirects. Nil means DefaultTokenHosts.
	TokenHosts []string
	// HTTPClient defaults to a client with sane timeouts.
	HTTPClient *http.Client
	// MaxAttempts bounds tries per call, first included (default 6).
	MaxAttempts int
	// RetryInitial and RetryMax shape the exponential backoff
	// (defaults 500ms and 30s). Jitter is ±50%.
	RetryInitial, RetryMax time.Duration
	// MaxRetryAfter is the longest Retry-After honoured (default 5m); an
	// answer asking for longer (a daily quota spent) fails at once with
	// ErrRateLimited instead of sleeping for hours.
	MaxRetryAfter time.Duration
	// OnCall, when set, is told of every HTTP attempt: the operation, the
	// HTTP status (0 when no answer came) and how long it took. For
	// metrics; it must be quick.
	OnCall func(op string, status int, d time.Duration)
	// UserAgent is sent on every call.
	UserAgent string
	// Logger receives one line per retry. Nil discards.
	Logger *slog.Logger
}

// Validate reports every problem of c at once.
func (c Config) Validate() error {
	var errs []error
	if strings.TrimSpace(c.Token) == "" && c.TokenSource == nil {
		errs = append(errs, errors.New("token is empty"))
	}
	if c.BaseURL != "" {
		u, err := url.Parse(c.BaseURL)
		switch {
		case err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "":
			errs = append(errs, fmt.Errorf("base URL %q is not an http(s) URL", c.BaseURL))
		case u.Scheme == "http" && !isLoopback(u.Hostname()):
			// The bearer token must not cross a network in clear text.
			errs = append(errs, fmt.Errorf("base URL %q: plain http is allowed only on loopback (the fake API); use https", c.BaseURL))
		}
	}
	if c.MaxAttempts < 0 {
		errs = append(errs, fmt.Errorf("max attempts %d is negative", c.MaxAttempts))
	}
	return errors.Join(errs...)
}

// Client calls the Sales Navigator API. It is safe for concurrent use.
type Client struct {
	cfg        Config
	base       *url.URL
	hc         *http.Client
	tokenHosts map[string]bool
	log        *slog.Logger
	member     TokenSource
	app        TokenSource

	quotaMu  sync.Mutex
	first429 time.Time // start of the current streak of 429s, zero after a success
}

// New returns a Client for cfg.
func New(cfg Config) (*Client, error) {
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("configuring API client: %w", err)
	}
	base, _ := url.Parse(strings.TrimSuffix(cfg.BaseURL, "/"))
	if cfg.MaxAttempts == 0 {
		cfg.MaxAttempts = 6
	}
	if cfg.RetryInitial <= 0 {
		cfg.RetryInitial = 500 * time.Millisecond
	}
	if cfg.RetryMax <= 0 {
		cfg.RetryMax = 30 * time.Second
	}
	if cfg.QuotaBudget <= 0 {
		cfg.QuotaBudget = 2 * time.Minute
	}
	if cfg.MaxRetryAfter <= 0 {
		cfg.MaxRetryAfter = 5 * time.Minute
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = "salesnav-etl"
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Client{cfg: cfg, base: base, log: log, tokenHosts: map[string]bool{}, member: cfg.TokenSource, app: cfg.AppTokenSource}
	if c.member == nil {
		c.member = StaticToken(cfg.Token)
	}
	if c.app == nil {
		c.app = c.member
	}
	hosts := cfg.TokenHosts
	if hosts == nil {
		hosts = DefaultTokenHosts
	}
	for _, h := range hosts {
		c.tokenHosts[strings.ToLower(h)] = true
	}
	c.tokenHosts[strings.ToLower(base.Hostname())] = true

	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Transport: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			TLSHandshakeTimeout:   15 * time.Second,
			ResponseHeaderTimeout: 2 * time.Minute,
			IdleConnTimeout:       90 * time.Second,
			MaxIdleConnsPerHost:   4,
			ForceAttemptHTTP2:     true,
		}}
	}
	// A copy, so that our redirect policy does not change the caller's client.
	cp := *hc
	cp.CheckRedirect = c.checkRedirect
	c.hc = &cp
	return c, nil
}

// TokenAllowed reports whether a request to host may carry the bearer token.
func (c *Client) TokenAllowed(host string) bool {
	return c.tokenHosts[strings.ToLower(host)]
}

// tokenAllowedURL: an allowed host, over https (or http on loopback).
func (c *Client) tokenAllowedURL(u *url.URL) bool {
	if !c.TokenAllowed(u.Hostname()) {
		return false
	}
	return u.Scheme == "https" || (u.Scheme == "http" && isLoopback(u.Hostname()))
}

func (c *Client) checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= 10 {
		return errors.New("stopped after 10 redirects")
	}
	if !c.tokenAllowedURL(req.URL) {
		req.Header.Del("Authorization")
	}
	return nil
}

// endpoint builds an API URL from an escaped path below the base and a raw
// query. The path keeps its percent-escapes on the wire.
func (c *Client) endpoint(escapedPath, rawQuery string) string {
	u := *c.base
	u.RawPath = c.base.EscapedPath() + escapedPath
	if p, err := url.PathUnescape(u.RawPath); err == nil {
		u.Path = p
	}
	u.RawQuery = rawQuery
	return u.String()
}

// request describes one call for do.
type request struct {
	op     string
	method string
	url    string
	body   []byte
	auth   bool // send the bearer token
	app    bool // with an application (2-legged) token
	restli bool // send the Rest.li headers
	// once marks a call that must not be repeated after the server may
	// have acted on it (creating a job): it is retried only on answers that
	// say the request was not handled (429, 503) and on connections that
	// never opened; a 500, 502, 504 or a connection broken after sending
	// is final.
	once bool
}

// hintedBackOff is exponential backoff that waits at least what the API's
// Retry-After asked for, without starting the backoff over.
type hintedBackOff struct {
	*backoff.ExponentialBackOff
	hint time.Duration
}

func (h *hintedBackOff) NextBackOff() time.Duration {
	d := h.ExponentialBackOff.NextBackOff()
	if h.hint > d {
		d = h.hint
	}
	h.hint = 0
	return d
}

// neverSent reports whether a transport error happened before the request
// reached the server (the connection never opened).
func neverSent(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// do sends req with retries and returns a 2xx response. The caller closes
// its body. Non-2xx answers become *APIError. 429s are retried until the
// quota budget runs out (ErrQuotaExhausted); 5xx and connection errors up
// to MaxAttempts; a 401 once, with a renewed token.
func (c *Client) do(ctx context.Context, req request) (*http.Response, error) {
	b := &hintedBackOff{ExponentialBackOff: backoff.NewExponentialBackOff()}
	b.InitialInterval = c.cfg.RetryInitial
	b.MaxInterval = c.cfg.RetryMax
	b.RandomizationFactor = 0.5
	src := c.member
	if req.app {
		src = c.app
	}
	attempt, failures := 0, 0
	renewed := false
	op := func() (*http.Response, error) {
		attempt++
		var body io.Reader
		if req.body != nil {
			body = bytes.NewReader(req.body)
		}
		hreq, err := http.NewRequestWithContext(ctx, req.method, req.url, body)
		if err != nil {
			return nil, backoff.Permanent(fmt.Errorf("%s: building request: %w", req.op, err))
		}
		hreq.Header.Set("User-Agent", c.cfg.UserAgent)
		if req.restli {
			hreq.Header.Set("X-Restli-Protocol-Version", "2.0.0")
		}
		if req.body != nil {
			hreq.Header.Set("Content-Type", "application/json")
		}
		var sent string
		if req.auth && c.tokenAllowedURL(hreq.URL) {
			tok, err := src.Token()
			if err != nil {
				return nil, backoff.Permanent(fmt.Errorf("%s: %w", req.op, err))
			}
			sent = tok.AccessToken
			hreq.Header.Set("Authorization", "Bearer "+sent)
		}
		giveUp := func(err error) error {
			if failures++; failures >= c.cfg.MaxAttempts {
				return backoff.Permanent(err)
			}
			return err
		}
		began := time.Now()
		resp, err := c.hc.Do(hreq)
		if c.cfg.OnCall != nil {
			status := 0
			if err == nil {
				status = resp.StatusCode
			}
			c.cfg.OnCall(req.op, status, time.Since(began))
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil, backoff.Permanent(context.Cause(ctx))
			}
			sent := !neverSent(err)
			err = fmt.Errorf("%s: %w", req.op, redactURLError(err))
			if req.once && sent {
				// The server may have created the job: a retry could make two.
				return nil, backoff.Permanent(err)
			}
			c.log.Warn("api call failed, retrying", "op", req.op, "attempt", attempt, "error", err)
			return nil, giveUp(err)
		}
		if resp.StatusCode >= 200 && resp.StatusCode < 300 {
			c.quotaOK()
			return resp, nil
		}
		apiErr := decodeAPIError(req.op, resp)
		switch {
		case apiErr.StatusCode == http.StatusUnauthorized && sent != "" && !renewed && src.Invalidate(sent):
			// An expired or revoked token: renew it once, at once.
			renewed = true
			c.log.Info("access token refused, renewing it", "op", req.op)
			return nil, apiErr
		case apiErr.StatusCode == http.StatusTooManyRequests:
			d, hasRA := parseRetryAfter(apiErr.RetryAfter, time.Now())
			if qe := c.quota429(apiErr, hasRA && d > c.cfg.MaxRetryAfter); qe != nil {
				return nil, backoff.Permanent(qe)
			}
			c.log.Warn("api call throttled (429), retrying", "op", req.op, "attempt", attempt)
			if hasRA {
				b.hint = d // at least that long; never less than the backoff
			}
			return nil, apiErr
		case !apiErr.Retryable(), req.once && apiErr.StatusCode != http.StatusServiceUnavailable:
			return nil, backoff.Permanent(apiErr)
		}
		c.log.Warn("api call answered with a retryable status", "op", req.op, "attempt", attempt, "status", apiErr.StatusCode)
		if d, ok := parseRetryAfter(apiErr.RetryAfter, time.Now()); ok && d <= c.cfg.MaxRetryAfter {
			b.hint = d
		}
		return nil, giveUp(apiErr)
	}
	return backoff.Retry(ctx, op, backoff.WithBackOff(b), backoff.WithMaxElapsedTime(0))
}

// quotaOK ends a streak of 429s.
func (c *Client) quotaOK() {
	c.quotaMu.Lock()
	c.first429 = time.Time{}
	c.quotaMu.Unlock()
}

// quota429 records a 429 and returns a *QuotaError once the streak has
// lasted longer than the budget, or at once when the API asks to wait
// longer than the client does.
func (c *Client) quota429(last *APIError, tooLong bool) error {
	c.quotaMu.Lock()
	defer c.quotaMu.Unlock()
	now := time.Now()
	if c.first429.IsZero() {
		c.first429 = now
	}
	if !tooLong && now.Sub(c.first429) <= c.cfg.QuotaBudget {
		return nil
	}
	y, m, d := now.UTC().Date()
	return &QuotaError{Last: last, Since: c.first429, ResetAt: time.Date(y, m, d+1, 0, 0, 0, 0, time.UTC)}
}

// parseRetryAfter reads a Retry-After value in seconds or as an HTTP date.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		d := t.Sub(now)
		if d < 0 {
			d = 0
		}
		return d, true
	}
	return 0, false
}

// redactURLError drops the query string from a *url.Error so that signed
// download URLs do not end up in logs.
func redactURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		if u, perr := url.Parse(ue.URL); perr == nil {
			u.RawQuery = ""
			return &url.Error{Op: ue.Op, URL: u.String(), Err: ue.Err}
		}
	}
	return err
}

func decodeAPIError(op string, resp *http.Response) *APIError {
	defer resp.Body.Close()
	e := &APIError{Op: op, StatusCode: resp.StatusCode, RetryAfter: resp.Header.Get("Retry-After")}
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var body struct {
		Status           int             `json:"status"`
		ServiceErrorCode int             `json:"serviceErrorCode"`
		Message          string          `json:"message"`
		Code             json.RawMessage `json:"code"`
	}
	if json.Unmarshal(raw, &body) == nil {
		e.ServiceErrorCode = body.ServiceErrorCode
		e.Message = body.Message
		if len(body.Code) > 0 {
			var s string
			if json.Unmarshal(body.Code, &s) == nil {
				e.Code = s
			} else {
				e.Code = string(body.Code)
			}
		}
	} else if len(raw) > 0 && resp.Header.Get("Content-Type") != "text/html" {
		msg := strings.TrimSpace(string(raw))
		if len(msg) > 200 {
			msg = msg[:200] + "…"
		}
		e.Message = msg
	}
	if e.Message == "" {
		e.Message = http.StatusText(resp.StatusCode)
	}
	return e
}

// callJSON performs an API call and decodes a JSON answer into out (when
// out is not nil). It returns the response headers.
func (c *Client) callJSON(ctx context.Context, op, method, path, rawQuery string, in, out any) (http.Header, int, error) {
	return c.call(ctx, false, op, method, path, rawQuery, in, out)
}

// callApp is callJSON with an application (2-legged) token.
func (c *Client) callApp(ctx context.Context, op, method, path, rawQuery string, in, out any) (http.Header, int, error) {
	return c.call(ctx, true, op, method, path, rawQuery, in, out)
}

// call performs an API call. POSTs create jobs: they are sent once (see
// request.once).
func (c *Client) call(ctx context.Context, app bool, op, method, path, rawQuery string, in, out any) (http.Header, int, error) {
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return nil, 0, fmt.Errorf("%s: encoding request: %w", op, err)
		}
	}
	resp, err := c.do(ctx, request{op: op, method: method, url: c.endpoint(path, rawQuery), body: body, auth: true, app: app, restli: true,
		once: method == http.MethodPost})
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxJSONBody+1))
	if err != nil {
		return nil, 0, fmt.Errorf("%s: reading answer: %w", op, err)
	}
	if len(raw) > maxJSONBody {
		return nil, 0, fmt.Errorf("%s: answer larger than %d bytes", op, maxJSONBody)
	}
	if out != nil && len(bytes.TrimSpace(raw)) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			return nil, 0, fmt.Errorf("%s: decoding answer: %w", op, err)
		}
	}
	return resp.Header, len(bytes.TrimSpace(raw)), nil
}

// contractsPage is the page size asked of getContracts.
const contractsPage = 100

// Contracts lists the contracts in which the member has an active seat
// (GET /salesContracts?q=contractsByMember), following Rest.li paging
// (start, count): it asks for the next page while a page comes back full,
// or while paging.total says more remain.
func (c *Client) Contracts(ctx context.Context) ([]Contract, error) {
	var all []Contract
	start := 0
	for page := 0; page < 1000; page++ {
		q := "q=contractsByMember&start=" + strconv.Itoa(start) + "&count=" + strconv.Itoa(contractsPage)
		var out struct {
			Elements []Contract `json:"elements"`
			Paging   *Paging    `json:"paging"`
		}
		if _, _, err := c.callJSON(ctx, "getContracts", http.MethodGet, "/salesContracts", q, nil, &out); err != nil {
			return nil, err
		}
		all = append(all, out.Elements...)
		start += len(out.Elements)
		size := contractsPage
		if out.Paging != nil && out.Paging.Count > 0 {
			size = out.Paging.Count
		}
		more := len(out.Elements) >= size
		if out.Paging != nil && out.Paging.Total != nil {
			more = start < *out.Paging.Total
		}
		if len(out.Elements) == 0 || !more {
			return all, nil
		}
	}
	return nil, errors.New("getContracts: more than 1000 pages")
}

// CreateAnalyticsExport creates an analytics export job for the closed
// range [startAt, endAt] (POST /salesAnalyticsExportJobs?action=...).
func (c *Client) CreateAnalyticsExport(ctx context.Context, action Action, req ExportRequest) (ExportJob, error) {
	if !action.Valid() {
		return ExportJob{}, fmt.Errorf("createAnalyticsExport: unknown action %q", action)
	}
	var out struct {
		Value ExportJob `json:"value"`
	}
	if _, _, err := c.callJSON(ctx, "createAnalyticsExport", http.MethodPost, "/salesAnalyticsExportJobs", "action="+string(action), req, &out); err != nil {
		return ExportJob{}, err
	}
	if out.Value.ID == 0 {
		return ExportJob{}, errors.New("createAnalyticsExport: answer has no job id")
	}
	return out.Value, nil
}

// AnalyticsExport polls an analytics export job
// (GET /salesAnalyticsExportJobs/{id}?contract=...).
func (c *Client) AnalyticsExport(ctx context.Context, contract string, id int64) (ExportJob, error) {
	var job ExportJob
	path := "/salesAnalyticsExportJobs/" + strconv.FormatInt(id, 10)
	if _, _, err := c.callJSON(ctx, "getAnalyticsExport", http.MethodGet, path, "contract="+restli.QueryEscapeURN(contract), nil, &job); err != nil {
		return ExportJob{}, err
	}
	if job.ID == 0 {
		job.ID = id
	}
	return job, nil
}

// SalesAccessToken fetches a token for the embedded Sales Navigator iframe
// (GET /salesAccessTokens?q=viewerAndDeveloperApp).
func (c *Client) SalesAccessToken(ctx context.Context) (SalesAccessToken, error) {
	var out struct {
		Elements []SalesAccessToken `json:"elements"`
	}
	if _, _, err := c.callJSON(ctx, "getSalesAccessToken", http.MethodGet, "/salesAccessTokens", "q=viewerAndDeveloperApp", nil, &out); err != nil {
		return SalesAccessToken{}, err
	}
	if len(out.Elements) == 0 || out.Elements[0].Token == "" {
		return SalesAccessToken{}, errors.New("getSalesAccessToken: answer has no token")
	}
	return out.Elements[0], nil
}

// ProfileAssociation looks up one CRM record. A record with no confident
// match answers ErrNotFound.
func (c *Client) ProfileAssociation(ctx context.Context, key AssociationKey) (ProfileAssociation, error) {
	var pa ProfileAssociation
	path := "/salesNavigatorProfileAssociations/" + restli.PathEscapeKey(key.String())
	if _, _, err := c.callApp(ctx, "getProfileAssociation", http.MethodGet, path, "", nil, &pa); err != nil {
		return ProfileAssociation{}, err
	}
	return pa, nil
}

// ProfileAssociations looks up many CRM records in one call
// (GET /salesNavigatorProfileAssociations?ids=List(...)). It returns one
// result per key, in the order given; a key without a match has Status 404
// and no Association, which is not an error.
func (c *Client) ProfileAssociations(ctx context.Context, keys []AssociationKey) ([]AssociationResult, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	var out struct {
		Statuses map[string]int                `json:"statuses"`
		Results  map[string]ProfileAssociation `json:"results"`
		Errors   map[string]json.RawMessage    `json:"errors"`
	}
	q := "ids=" + EncodeAssociationKeys(keys)
	if _, _, err := c.callApp(ctx, "batchGetProfileAssociations", http.MethodGet, "/salesNavigatorProfileAssociations", q, nil, &out); err != nil {
		return nil, err
	}
	// Index the answer by parsed key, accepting both key forms.
	byKey := func(m map[string]bool) map[AssociationKey]string {
		idx := make(map[AssociationKey]string, len(m))
		for s := range m {
			if k, err := ParseAssociationKey(s); err == nil {
				idx[k] = s
			}
		}
		return idx
	}
	names := map[string]bool{}
	for s := range out.Statuses {
		names[s] = true
	}
	for s := range out.Results {
		names[s] = true
	}
	for s := range out.Errors {
		names[s] = true
	}
	idx := byKey(names)
	res := make([]AssociationResult, len(keys))
	for i, k := range keys {
		r := AssociationResult{Key: k, Status: http.StatusNotFound}
		if s, ok := idx[k]; ok {
			if pa, ok := out.Results[s]; ok {
				pa := pa
				r.Association = &pa
				r.Status = http.StatusOK
			}
			if st, ok := out.Statuses[s]; ok {
				r.Status = st
			}
			if e, ok := out.Errors[s]; ok {
				var status int
				r.Error, status = errorText(e)
				if _, has := out.Statuses[s]; !has && r.Association == nil {
					// The error object's own status (a 404: no match), else
					// a server error.
					r.Status = cmp.Or(status, http.StatusInternalServerError)
				}
			}
		}
		res[i] = r
	}
	return res, nil
}

// errorText renders a per-key error, which may be a string or an object
// (LinkedIn's error body: message, status); status is 0 when it has none.
func errorText(raw json.RawMessage) (msg string, status int) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, 0
	}
	var obj struct {
		Message string `json:"message"`
		Status  int    `json:"status"`
	}
	if json.Unmarshal(raw, &obj) == nil && (obj.Message != "" || obj.Status != 0) {
		return cmp.Or(obj.Message, string(raw)), obj.Status
	}
	return string(raw), 0
}

// CreateCRMValidationExport creates a CRM data validation export
// (POST /crmDataValidationExportJobs?crmInstanceId=...). It accepts both the
// documented 201 with the id in X-RestLi-Id (or Location) and no body, and
// the OpenAPI file's 201 with a JSON body.
func (c *Client) CreateCRMValidationExport(ctx context.Context, crmInstance string, exportStartAt time.Time) (CRMValidationJob, error) {
	const op = "createCrmValidationExport"
	in := struct {
		ExportStartAt EpochMillis `json:"exportStartAt"`
	}{Millis(exportStartAt)}
	var job CRMValidationJob
	hdr, n, err := c.callApp(ctx, op, http.MethodPost, "/crmDataValidationExportJobs", "crmInstanceId="+restli.QueryEscapeURN(crmInstance), in, &job)
	if err != nil {
		return CRMValidationJob{}, err
	}
	if n == 0 || job.JobID == 0 {
		id, err := jobIDFromHeaders(hdr)
		if err != nil {
			return CRMValidationJob{}, fmt.Errorf("%s: %w", op, err)
		}
		job.JobID = id
		if job.Status == "" {
			job.Status = CRMStatusProcessing
		}
		if job.ExportStartAt == 0 {
			job.ExportStartAt = Millis(exportStartAt)
		}
	}
	return job, nil
}

func jobIDFromHeaders(h http.Header) (int64, error) {
	if v := strings.TrimSpace(h.Get("X-RestLi-Id")); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("X-RestLi-Id %q is not a job id", v)
		}
		return id, nil
	}
	if loc := h.Get("Location"); loc != "" {
		u, err := url.Parse(loc)
		if err == nil {
			seg := u.Path[strings.LastIndexByte(u.Path, '/')+1:]
			if id, err := strconv.ParseInt(seg, 10, 64); err == nil {
				return id, nil
			}
		}
		return 0, fmt.Errorf("location %q holds no job id", loc)
	}
	return 0, errors.New("answer has no body, no X-RestLi-Id and no Location")
}

// CRMValidationExport polls a CRM data validation export job.
func (c *Client) CRMValidationExport(ctx context.Context, crmInstance string, id int64) (CRMValidationJob, error) {
	var job CRMValidationJob
	path := "/crmDataValidationExportJobs/" + strconv.FormatInt(id, 10)
	if _, _, err := c.callApp(ctx, "getCrmValidationExport", http.MethodGet, path, "crmInstanceId="+restli.QueryEscapeURN(crmInstance), nil, &job); err != nil {
		return CRMValidationJob{}, err
	}
	if job.JobID == 0 {
		job.JobID = id
	}
	return job, nil
}
