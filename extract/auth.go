package extract

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/salesnav-etl/salesnav-etl/internal/secret"
)

// DefaultTokenURL is LinkedIn's OAuth 2.0 token endpoint.
const DefaultTokenURL = "https://www.linkedin.com/oauth/v2/accessToken"

// AuthConfig selects how the client gets its tokens. Exactly one way is
// used for member (3-legged) calls: a static AccessToken, or ClientID,
// ClientSecret and RefreshToken for the refresh-token flow. Application
// (2-legged) calls — CRM data validation and profile associations — use the
// client-credentials flow when ClientID and ClientSecret are set, and the
// member token otherwise.
type AuthConfig struct {
	AccessToken  string
	ClientID     string
	ClientSecret string
	RefreshToken string
	// TokenURL defaults to DefaultTokenURL.
	TokenURL string
	// Timeout bounds a token request (default 30s), so that a hung
	// endpoint cannot hold every call forever.
	Timeout time.Duration
	// RefreshTokenExpiry, when set, is called with the refresh token's
	// expiry each time a refresh grant's answer gives it
	// (refresh_token_expires_in, counted from Now); an answer without it
	// calls nothing.
	RefreshTokenExpiry func(time.Time)
	// Now is the clock of RefreshTokenExpiry (default time.Now).
	Now func() time.Time
}

// Validate reports every problem of c.
func (c AuthConfig) Validate() error {
	var errs []error
	hasClient := c.ClientID != "" || c.ClientSecret != ""
	if hasClient && (c.ClientID == "" || c.ClientSecret == "") {
		errs = append(errs, errors.New("client id and client secret go together"))
	}
	if c.RefreshToken != "" && !hasClient {
		errs = append(errs, errors.New("a refresh token needs the client id and secret"))
	}
	if c.AccessToken == "" && c.RefreshToken == "" && !(c.ClientID != "" && c.ClientSecret != "") {
		errs = append(errs, errors.New("no access token, no refresh token and no client credentials"))
	}
	return errors.Join(errs...)
}

// TokenSources builds the member and application token sources. hc is the
// HTTP client used to reach the token endpoint (nil: one with c.Timeout);
// whatever its CheckRedirect, a redirect to another host, or from https
// to http, is refused (ErrTokenRedirect): Go sends a POST body again on a
// 307 or 308, and that body holds the client secret and refresh token.
func (c AuthConfig) TokenSources(hc *http.Client) (member, app TokenSource, err error) {
	if err := c.Validate(); err != nil {
		return nil, nil, err
	}
	url := c.TokenURL
	if url == "" {
		url = DefaultTokenURL
	}
	if hc == nil {
		timeout := c.Timeout
		if timeout <= 0 {
			timeout = 30 * time.Second
		}
		hc = &http.Client{Timeout: timeout}
	}
	hc = guardRedirects(hc)
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, hc)
	now := c.Now
	if now == nil {
		now = time.Now
	}
	// The endpoint's error description is its own text: it may echo what
	// it was sent.
	scrub := func(t *oauth2.Token, err error) (*oauth2.Token, error) {
		return t, secret.Scrub(redactOAuth(err), c.ClientSecret, c.RefreshToken)
	}
	if c.RefreshToken != "" {
		conf := &oauth2.Config{ClientID: c.ClientID, ClientSecret: c.ClientSecret,
			Endpoint: oauth2.Endpoint{TokenURL: url, AuthStyle: oauth2.AuthStyleInParams}}
		// A fresh source per fetch: our cache decides when to refresh.
		member = NewRefreshingSource(func() (*oauth2.Token, error) {
			t, err := scrub(conf.TokenSource(ctx, &oauth2.Token{RefreshToken: c.RefreshToken}).Token())
			if err == nil && c.RefreshTokenExpiry != nil {
				if d, ok := ExpiresIn(t, "refresh_token_expires_in"); ok {
					c.RefreshTokenExpiry(now().Add(d))
				}
			}
			return t, err
		})
	} else if c.AccessToken != "" {
		member = StaticToken(c.AccessToken)
	} else {
		// Client credentials only: enough for CRM validation and profile
		// associations, not for the member's endpoints.
		member = noMemberToken{}
	}
	app = member
	if c.ClientID != "" {
		cc := &clientcredentials.Config{ClientID: c.ClientID, ClientSecret: c.ClientSecret, TokenURL: url, AuthStyle: oauth2.AuthStyleInParams}
		app = NewRefreshingSource(func() (*oauth2.Token, error) { return scrub(cc.Token(ctx)) })
	}
	return member, app, nil
}

// TokenSource supplies bearer tokens. Invalidate drops a token the API
// refused (401) so that the next Token fetches a new one; sources that
// cannot renew (a static token) ignore it.
type TokenSource interface {
	Token() (*oauth2.Token, error)
	Invalidate(accessToken string) bool
}

type noMemberToken struct{}

func (noMemberToken) Token() (*oauth2.Token, error) { return nil, ErrNoMemberToken }
func (noMemberToken) Invalidate(string) bool        { return false }

type staticToken string

// StaticToken is a TokenSource of one fixed token.
func StaticToken(tok string) TokenSource { return staticToken(tok) }

func (s staticToken) Token() (*oauth2.Token, error) {
	return &oauth2.Token{AccessToken: string(s)}, nil
}
func (s staticToken) Invalidate(string) bool { return false }

// refreshingSource caches a token until a minute before its expiry or
// until it is invalidated.
type refreshingSource struct {
	fetch func() (*oauth2.Token, error)
	mu    sync.Mutex
	cur   *oauth2.Token
}

// NewRefreshingSource caches tokens from fetch.
func NewRefreshingSource(fetch func() (*oauth2.Token, error)) TokenSource {
	return &refreshingSource{fetch: fetch}
}

func (r *refreshingSource) Token() (*oauth2.Token, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cur != nil && (r.cur.Expiry.IsZero() || time.Until(r.cur.Expiry) > time.Minute) {
		return r.cur, nil
	}
	t, err := r.fetch()
	if err != nil {
		return nil, fmt.Errorf("fetching an access token: %w", redactOAuth(err))
	}
	r.cur = t
	return t, nil
}

func (r *refreshingSource) Invalidate(tok string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cur != nil && r.cur.AccessToken == tok {
		r.cur = nil
	}
	return true
}

// ExpiresIn reads a lifetime in seconds that a token endpoint's answer
// gives under key (expires_in, refresh_token_expires_in), as a JSON
// number or a string; ok is false when it is absent, not a number, or not
// positive.
func ExpiresIn(t *oauth2.Token, key string) (d time.Duration, ok bool) {
	var secs float64
	switch v := t.Extra(key).(type) {
	case float64:
		secs = v
	case json.Number:
		f, err := v.Float64()
		if err != nil {
			return 0, false
		}
		secs = f
	case string:
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return 0, false
		}
		secs = f
	default:
		return 0, false
	}
	if secs <= 0 || secs > 100*365*24*3600 {
		return 0, false
	}
	return time.Duration(secs) * time.Second, true
}

// TokenEndpointClient returns a copy of hc for requests that carry the
// client secret or a token to LinkedIn's OAuth endpoints: a redirect to
// another host, or from https to http, is refused (ErrTokenRedirect).
func TokenEndpointClient(hc *http.Client) *http.Client { return guardRedirects(hc) }

// RedactTokenError is what an OAuth endpoint's error may say: the HTTP
// status, error code and description of an *oauth2.RetrieveError, never
// its raw body, which could hold a token. Other errors are returned as
// they are.
func RedactTokenError(err error) error { return redactOAuth(err) }

// redactOAuth keeps the token endpoint's error code and description but
// not the raw body, which could hold a token.
func redactOAuth(err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		return fmt.Errorf("token endpoint answered HTTP %d: %s %s", re.Response.StatusCode, re.ErrorCode, re.ErrorDescription)
	}
	return err
}

// guardRedirects returns a copy of hc that refuses a token endpoint's
// redirect to another host or from https to http, and checks others as hc
// did.
func guardRedirects(hc *http.Client) *http.Client {
	c := *hc
	next := hc.CheckRedirect
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if err := tokenRedirectAllowed(via[0].URL, req.URL); err != nil {
			return err
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
	return &c
}

// tokenRedirectAllowed decides whether a token request to from may follow
// a redirect to to: the same host and port, and never down to http.
func tokenRedirectAllowed(from, to *url.URL) error {
	switch {
	case !strings.EqualFold(from.Host, to.Host):
		return fmt.Errorf("%w: %s redirected to %s, another host", ErrTokenRedirect, from.Host, to.Host)
	case from.Scheme == "https" && to.Scheme != "https":
		return fmt.Errorf("%w: %s redirected from https to %s", ErrTokenRedirect, from.Host, to.Scheme)
	}
	return nil
}
