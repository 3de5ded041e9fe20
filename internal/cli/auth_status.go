package cli

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/sethvargo/go-envconfig"
	"github.com/spf13/cobra"

	"github.com/salesnav-etl/salesnav-etl/auth"
)

func newAuthStatusCmd(lookup envconfig.Lookuper, stdout, stderr io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Show the configured credentials, their scopes and expiry (LinkedIn's token introspection)",
		Long: `Show which credentials are configured and, for each configured token, what
LinkedIn's token introspection (…/oauth/v2/introspectToken beside
SALESNAV_TOKEN_URL) says: status, scopes, creation and expiry, and the days
left. The refresh token lives 365 days from the member's consent and refreshing
does not extend it: from 30 days before it expires (or the access token's, when
there is no refresh token) a warning says to sign in again. Exit 1 when a
configured token is invalid (an access token is not needed, and not counted,
when a valid refresh token supplies them).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			env, cfg, err := authEnv(cmd, lookup)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			now := clockOf(ctx)()
			log := newLogger(stderr, cfg.LogLevel, cfg.LogFormat, isTerminal(stderr))
			set := func(v string) string {
				if v == "" {
					return "not set"
				}
				return "set"
			}
			clientID := env.ClientID
			if clientID == "" {
				clientID = "not set"
			}
			fmt.Fprintf(stdout, "%-24s %s\n%-24s %s\n", envPrefix+"CLIENT_ID", clientID, envPrefix+"CLIENT_SECRET", set(env.ClientSecret))
			tokens := []struct {
				ptr  *string
				kind auth.Kind
			}{{&env.AccessToken, auth.AccessToken}, {&env.RefreshToken, auth.RefreshToken}}
			var configured int
			for _, t := range tokens {
				if *t.ptr != "" {
					configured++
				} else {
					fmt.Fprintf(stdout, "%-24s not set\n", env.names[t.ptr])
				}
			}
			if configured == 0 {
				fmt.Fprintln(stdout, "No member token is configured: sign in with salesnav-etl auth login (the CRM streams need only the client id and secret).")
				return nil
			}
			if err := env.requireClient("auth status needs it to introspect the tokens"); err != nil {
				return &exitError{ExitConfig, err}
			}
			endpoint, err := auth.IntrospectURL(cfg.Login.TokenURL)
			if err != nil {
				return &exitError{ExitConfig, fmt.Errorf("%s: %w", env.names[&env.TokenURL], err)}
			}
			assessed := map[auth.Kind]auth.Assessment{}
			lines := map[auth.Kind]string{}
			for _, t := range tokens {
				if *t.ptr == "" {
					continue
				}
				in, err := auth.Introspect(ctx, nil, endpoint, env.ClientID, env.ClientSecret, *t.ptr)
				if err != nil {
					return &exitError{ExitFailure, fmt.Errorf("introspecting %s: %w", env.names[t.ptr], err)}
				}
				boundsConsent := t.kind == auth.RefreshToken || env.RefreshToken == ""
				a := auth.Assess(t.kind, in, now, boundsConsent)
				assessed[t.kind], lines[t.kind] = a, tokenLine(in, a, now)
			}
			failing := auth.Failing(assessed)
			var named []string
			for _, t := range tokens {
				a, ok := assessed[t.kind]
				if !ok {
					continue
				}
				line := lines[t.kind]
				if !a.Valid && !slices.Contains(failing, t.kind) {
					line += " (not used: the refresh token supplies access tokens)"
				}
				fmt.Fprintf(stdout, "%-24s %s\n", env.names[t.ptr], line)
				if slices.Contains(failing, t.kind) {
					named = append(named, fmt.Sprintf("%s (%s)", env.names[t.ptr], a.Status))
				}
				if a.Warn {
					msg := fmt.Sprintf("the %s expires in %d days, %s: the member must sign in again (salesnav-etl auth login) before then",
						t.kind, a.DaysLeft, a.Expires.UTC().Format(time.RFC3339))
					fmt.Fprintln(stdout, "Warning: "+msg+".")
					log.Warn("the member's consent runs out soon", "token", env.names[t.ptr], "expires", a.Expires, "days_left", a.DaysLeft)
				}
			}
			if len(named) > 0 {
				return &exitError{ExitFailure, fmt.Errorf("invalid token(s): %s: sign in again with salesnav-etl auth login", strings.Join(named, ", "))}
			}
			return nil
		},
	}
}

// tokenLine is one token's status for people: status, kind, scopes,
// creation and expiry with the days left.
func tokenLine(in *auth.Introspection, a auth.Assessment, now time.Time) string {
	parts := []string{a.Status}
	if in.AuthType != "" {
		parts[0] += ", " + in.AuthType
	}
	if len(in.Scopes) > 0 {
		parts = append(parts, "scopes "+strings.Join(in.Scopes, ", "))
	}
	if !in.CreatedAt.IsZero() {
		parts = append(parts, "created "+in.CreatedAt.UTC().Format(time.RFC3339))
	}
	if !a.Expires.IsZero() {
		exp := "expires " + a.Expires.UTC().Format(time.RFC3339)
		if a.Expires.After(now) {
			exp += fmt.Sprintf(" (%d days left)", a.DaysLeft)
		}
		parts = append(parts, exp)
	}
	return strings.Join(parts, "; ")
}
