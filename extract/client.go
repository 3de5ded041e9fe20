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
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
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
	// DownloadIdleTimeout ends a download whose server sends no byte for
	// this long while the reader waits (default 2m): Body's Read then fails
	// with ErrDownloadIdle, which a fresh URL may cure.
	DownloadIdleTimeout time.Duration
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
	if cfg.DownloadIdleTimeout <= 0 {
		cfg.DownloadIdleTimeout = 2 * time.Minute
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
