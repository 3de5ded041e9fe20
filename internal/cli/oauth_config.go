package cli

import (
	"errors"
	"net/url"

	"github.com/salesnav-etl/salesnav-etl/auth"
)

// resolveOAuth resolves the OAuth endpoints and the sign-in's settings:
// the token and authorization endpoints (https, or http on loopback: the
// fake API), the redirect URL (a loopback URL with its port, where auth
// login serves the callback) and the scopes. Every command checks them,
// so that config check reports a bad one before auth login needs it.
func (e *Env) resolveOAuth(c *Config, bad func(*string, string, ...any)) {
	for _, ptr := range []*string{&e.TokenURL, &e.AuthURL} {
		if u, err := url.Parse(*ptr); err != nil || u.Host == "" || u.Scheme != "https" && !(u.Scheme == "http" && isLoopbackHost(u.Hostname())) {
			bad(ptr, "%q is not an https URL (plain http only on loopback, the fake API)", *ptr)
		}
	}
	if _, err := auth.ParseRedirectURL(e.RedirectURL); err != nil {
		bad(&e.RedirectURL, "%v", err)
	}
	scopes, err := auth.ParseScopes(e.Scopes)
	if err != nil {
		bad(&e.Scopes, "%v", err)
	}
	c.Login = auth.Config{ClientID: e.ClientID, ClientSecret: e.ClientSecret, AuthURL: e.AuthURL, TokenURL: e.TokenURL,
		RedirectURL: e.RedirectURL, Scopes: scopes}
}

// requireClient reports, naming the variables, a missing client id or
// secret: the commands that sign in or introspect need both.
func (e *Env) requireClient(why string) error {
	var errs []error
	for _, ptr := range []*string{&e.ClientID, &e.ClientSecret} {
		if *ptr == "" {
			errs = append(errs, errors.New(e.names[ptr]+": not set: "+why))
		}
	}
	if len(errs) > 0 {
		return &ConfigError{Problems: errs}
	}
	return nil
}
