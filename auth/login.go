package auth

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net/http"
	"time"
)

// LoginOptions are Login's collaborators.
type LoginOptions struct {
	// Show presents the authorization URL to the member: opens the
	// browser, or prints it. It is called once the callback server
	// listens.
	Show func(authURL string) error
	// Secret, when set, is told each credential as soon as it is known
	// (the authorization code, then the tokens), for the output mask.
	Secret func(vals ...string)
	// HTTPClient reaches the token endpoint (nil: a 30-second timeout).
	HTTPClient *http.Client
	// Now is the clock of the expiries (default time.Now).
	Now    func() time.Time
	Logger *slog.Logger
}

// Login runs the authorization code flow of a native app (RFC 8252): it
// listens on the loopback redirect URL, shows the authorization URL with
// a random state, waits for the first callback (until ctx ends:
// ErrTimeout at its deadline), checks it (CheckCallback) and exchanges
// the code for the member's tokens.
func Login(ctx context.Context, cfg Config, opts LoginOptions) (*Tokens, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	now, tell := opts.Now, opts.Secret
	if now == nil {
		now = time.Now
	}
	if tell == nil {
		tell = func(...string) {}
	}
	redirect, err := ParseRedirectURL(cfg.RedirectURL)
	if err != nil {
		return nil, err
	}
	state, err := NewState()
	if err != nil {
		return nil, err
	}
	cb, err := ListenCallback(redirect, state, log)
	if err != nil {
		return nil, err
	}
	defer cb.Close()
	if err := opts.Show(AuthorizationURL(cfg, state)); err != nil {
		return nil, fmt.Errorf("showing the authorization URL: %w", err)
	}
	log.Info("waiting for the authorization callback", "redirect_url", redirect.String())
	code, err := cb.Wait(ctx)
	if err != nil {
		return nil, fmt.Errorf("waiting for the callback on %s: %w", redirect, err)
	}
	tell(code)
	tokens, err := Exchange(ctx, cfg, opts.HTTPClient, code, now())
	if err != nil {
		return nil, err
	}
	tell(tokens.AccessToken, tokens.RefreshToken)
	return tokens, nil
}

// NewState returns a state parameter: 32 bytes from crypto/rand,
// base64url-encoded.
func NewState() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("making the state: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
