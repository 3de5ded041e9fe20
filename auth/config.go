// Package auth is the member's sign-in for a native app (RFC 8252): the
// OAuth 2.0 authorization code flow with a loopback redirect (Login), the
// tokens it yields written to an env file or a Kubernetes Secret
// manifest, and what LinkedIn's token introspection says of configured
// tokens (Introspect, Assess). Decisions without I/O (the callback's
// answer, the env file's new content, the manifest, an assessment) are
// functions of their own.
package auth

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// Defaults, as LinkedIn documents them.
const (
	DefaultAuthURL     = "https://www.linkedin.com/oauth/v2/authorization"
	DefaultRedirectURL = "http://127.0.0.1:8765/callback"
	DefaultScopes      = "r_sales_nav_analytics r_sales_nav_display"
	// RefreshTokenLife is the life of a refresh token from the member's
	// consent; refreshing does not extend it.
	RefreshTokenLife = 365 * 24 * time.Hour
	// WarnWithin is how long before the consent runs out Assess warns.
	WarnWithin = 30 * 24 * time.Hour
)

// Config is the application and the endpoints of the sign-in.
type Config struct {
	ClientID, ClientSecret string
	// AuthURL is the authorization endpoint the browser goes to; TokenURL
	// the token endpoint (introspection is beside it: IntrospectURL).
	AuthURL, TokenURL string
	// RedirectURL is the loopback URL registered for the app, where the
	// callback is served (ParseRedirectURL).
	RedirectURL string
	Scopes      []string
}

// ParseRedirectURL checks a redirect URL for a native app's loopback
// callback: http or https, a loopback host (127.0.0.1, [::1] or
// localhost), an explicit port (the one registered for the app), and no
// fragment. The problem is worded for a message that names the variable.
func ParseRedirectURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return nil, fmt.Errorf("%q is not a URL", raw)
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("%q: want an http or https loopback URL such as %s", raw, DefaultRedirectURL)
	case !isLoopback(u.Hostname()):
		return nil, fmt.Errorf("%q: the host must be a loopback address (127.0.0.1, [::1] or localhost): the callback is served on this machine", raw)
	case u.Port() == "":
		return nil, fmt.Errorf("%q has no port: give the one registered for the app, such as %s", raw, DefaultRedirectURL)
	case u.Fragment != "" || u.User != nil:
		return nil, fmt.Errorf("%q: a redirect URL has no fragment and no user", raw)
	}
	if u.Path == "" {
		u.Path = "/"
	}
	return u, nil
}

func isLoopback(h string) bool {
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// scopeName is what a scope looks like (LinkedIn's are r_…, w_…, rw_…).
var scopeName = regexp.MustCompile(`^[A-Za-z0-9_.:-]+$`)

// ParseScopes splits scopes separated by spaces or commas; at least one,
// each a plain name.
func ParseScopes(raw string) ([]string, error) {
	scopes := strings.FieldsFunc(raw, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' })
	if len(scopes) == 0 {
		return nil, fmt.Errorf("no scope given (such as %q)", DefaultScopes)
	}
	for _, s := range scopes {
		if !scopeName.MatchString(s) {
			return nil, fmt.Errorf("%q is not a scope name (letters, digits, _ . : -)", s)
		}
	}
	return scopes, nil
}

// IntrospectURL is the introspection endpoint beside the token endpoint
// tokenURL: …/oauth/v2/accessToken gives …/oauth/v2/introspectToken.
func IntrospectURL(tokenURL string) (string, error) {
	u, err := url.Parse(tokenURL)
	if err != nil {
		return "", fmt.Errorf("parsing the token URL: %w", err)
	}
	return u.ResolveReference(&url.URL{Path: "introspectToken"}).String(), nil
}
