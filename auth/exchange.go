package auth

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/salesnav-etl/salesnav-etl/extract"
	"github.com/salesnav-etl/salesnav-etl/internal/secret"
)

// Tokens are what the token endpoint gave for the member's consent.
type Tokens struct {
	AccessToken string
	// AccessExpiry is when the access token expires (zero: not said).
	AccessExpiry time.Time
	// RefreshToken is "" when the answer had none: LinkedIn gives
	// programmatic refresh tokens to approved partners only.
	RefreshToken string
	// RefreshExpiry is when the refresh token expires (zero: not said).
	RefreshExpiry time.Time
	// Scopes are the scopes granted, when the answer says.
	Scopes []string
	// IssuedAt is when the answer came: the expiries count from it.
	IssuedAt time.Time
}

// oauthConfig is cfg for golang.org/x/oauth2: client id and secret in the
// form, as LinkedIn documents.
func oauthConfig(cfg Config) *oauth2.Config {
	return &oauth2.Config{ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, RedirectURL: cfg.RedirectURL, Scopes: cfg.Scopes,
		Endpoint: oauth2.Endpoint{AuthURL: cfg.AuthURL, TokenURL: cfg.TokenURL, AuthStyle: oauth2.AuthStyleInParams}}
}

// AuthorizationURL is where the browser goes: the authorization endpoint
// with response_type=code, the client id, the redirect URL, the scopes
// (space-separated) and state.
func AuthorizationURL(cfg Config, state string) string {
	return oauthConfig(cfg).AuthCodeURL(state)
}

// Exchange trades an authorization code for the member's tokens at the
// token endpoint (grant_type=authorization_code, with the redirect URL,
// client id and secret), through hc (nil: a client with a 30-second
// timeout) with redirects to another host refused. Expiries count from
// now. An error says the endpoint's code and description, never its
// body, the secret or the code.
func Exchange(ctx context.Context, cfg Config, hc *http.Client, code string, now time.Time) (*Tokens, error) {
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	ctx = context.WithValue(ctx, oauth2.HTTPClient, extract.TokenEndpointClient(hc))
	t, err := oauthConfig(cfg).Exchange(ctx, code)
	if err != nil {
		return nil, fmt.Errorf("exchanging the authorization code at %s: %w", cfg.TokenURL,
			secret.Scrub(extract.RedactTokenError(err), cfg.ClientSecret, code))
	}
	return tokensOf(t, now)
}

// tokensOf reads a token answer: the tokens, their lifetimes counted from
// now, and the scopes (comma- or space-separated).
func tokensOf(t *oauth2.Token, now time.Time) (*Tokens, error) {
	if t.AccessToken == "" {
		return nil, ErrNoAccessToken
	}
	out := &Tokens{AccessToken: t.AccessToken, RefreshToken: t.RefreshToken, IssuedAt: now}
	if d, ok := extract.ExpiresIn(t, "expires_in"); ok {
		out.AccessExpiry = now.Add(d)
	}
	if d, ok := extract.ExpiresIn(t, "refresh_token_expires_in"); ok && out.RefreshToken != "" {
		out.RefreshExpiry = now.Add(d)
	}
	if s, ok := t.Extra("scope").(string); ok {
		out.Scopes = strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' })
	}
	return out, nil
}
