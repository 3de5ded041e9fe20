package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"time"

	"github.com/sethvargo/go-envconfig"
	"github.com/spf13/cobra"

	"github.com/salesnav-etl/salesnav-etl/auth"
	"github.com/salesnav-etl/salesnav-etl/internal/secret"
)

func newAuthLoginCmd(lookup envconfig.Lookuper, stop <-chan struct{}, secrets *secret.Set, rawStdout, stdout, stderr io.Writer) *cobra.Command {
	var (
		noBrowser        bool
		timeout          time.Duration
		envFile, k8sName string
	)
	cmd := &cobra.Command{
		Use:   "login",
		Short: "Sign the member in with LinkedIn (authorization code flow) and keep the tokens",
		Long: `Sign the member in with LinkedIn's authorization code flow for a native app
(RFC 8252): serve the callback on SALESNAV_REDIRECT_URL (the loopback URL
registered for the app), open the browser ($BROWSER, or xdg-open, open,
rundll32) at SALESNAV_AUTH_URL with a random state (with --no-browser, or
without a display, print the URL alone on one line of standard output instead),
and exchange the code at SALESNAV_TOKEN_URL.

The tokens go to --env-file (SALESNAV_ACCESS_TOKEN and SALESNAV_REFRESH_TOKEN
lines replaced, every other line kept, mode 0600), or with --k8s-secret NAME
into a Kubernetes Secret manifest on standard output. The terminal and the log
get the expiry dates, never the tokens. Without a refresh token (LinkedIn gives
them to approved partners only) the access token is kept alone, and the message
says when the member must sign in again.

A callback with a missing or wrong state, or LinkedIn's error (the member
declined), ends the command with exit 1, as does --timeout.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			env, cfg, err := authEnv(cmd, lookup)
			if err != nil {
				return err
			}
			if err := env.requireClient("auth login needs the LinkedIn app's client id and secret (its Auth tab in the developer portal)"); err != nil {
				return &exitError{ExitConfig, err}
			}
			if err := loginFlagsProblems(timeout, k8sName, cmd.Flags().Changed("env-file"), isTerminal(rawStdout)); err != nil {
				return &exitError{ExitConfig, err}
			}
			log := newLogger(stderr, cfg.LogLevel, cfg.LogFormat, isTerminal(stderr))
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			go func() { // the first SIGINT or SIGTERM ends the wait
				select {
				case <-stop:
					cancel()
				case <-ctx.Done():
				}
			}()
			show := func(u string) error {
				getenv := func(k string) string { v, _ := lookup.Lookup(k); return v }
				if !noBrowser && auth.HasDisplay(runtime.GOOS, getenv) {
					err := auth.OpenBrowser(runtime.GOOS, getenv("BROWSER"), u)
					if err == nil {
						fmt.Fprintf(stderr, "Opened the browser at LinkedIn's authorization page; waiting up to %s for the callback on %s.\n", timeout, cfg.Login.RedirectURL)
						return nil
					}
					log.Warn("could not open a browser: printing the URL", "error", err)
				}
				fmt.Fprintf(stderr, "Open the URL on standard output in a browser; waiting up to %s for the callback on %s.\n", timeout, cfg.Login.RedirectURL)
				_, err := fmt.Fprintln(stdout, u)
				return err
			}
			tokens, err := auth.Login(ctx, cfg.Login, auth.LoginOptions{Show: show, Secret: secrets.Add, Now: clockOf(cmd.Context()), Logger: log})
			if err != nil {
				if errors.Is(err, auth.ErrTimeout) {
					err = fmt.Errorf("%w (--timeout %s)", err, timeout)
				}
				return &exitError{ExitFailure, err}
			}
			vars := []auth.Var{{Name: envPrefix + "ACCESS_TOKEN", Value: tokens.AccessToken}}
			var drop []string
			if tokens.RefreshToken != "" {
				vars = append(vars, auth.Var{Name: envPrefix + "REFRESH_TOKEN", Value: tokens.RefreshToken})
			} else {
				drop = append(drop, envPrefix+"REFRESH_TOKEN") // one of an earlier sign-in is no longer the member's consent
			}
			where := envFile + " (mode 0600)"
			if k8sName != "" {
				manifest, err := auth.SecretManifest(k8sName, vars, expiryAnnotations(tokens))
				if err != nil {
					return &exitError{ExitFailure, err}
				}
				if _, err := rawStdout.Write(manifest); err != nil {
					return &exitError{ExitFailure, fmt.Errorf("writing the Secret manifest: %w", err)}
				}
				where = "the manifest of Secret " + k8sName + " on standard output"
			} else if err := auth.WriteEnvFile(envFile, vars, drop); err != nil {
				return &exitError{ExitFailure, fmt.Errorf("--env-file %s: %w", envFile, err)}
			}
			fmt.Fprint(stderr, loginSummary(tokens, where))
			log.Info("signed in", "written_to", where, "access_token_expires", tokens.AccessExpiry,
				"refresh_token", tokens.RefreshToken != "", "refresh_token_expires", tokens.RefreshExpiry, "scopes", strings.Join(tokens.Scopes, ","))
			return nil
		},
	}
	f := cmd.Flags()
	f.BoolVar(&noBrowser, "no-browser", false, "print the authorization URL alone on one line of standard output instead of opening the browser")
	f.DurationVar(&timeout, "timeout", 5*time.Minute, "give up when no callback came within this long")
	f.StringVar(&envFile, "env-file", "salesnav.env", "write the tokens into this env file (created, or its two token lines replaced; mode 0600)")
	f.StringVar(&k8sName, "k8s-secret", "", "print a Kubernetes Secret manifest of this name holding the tokens on standard output, instead of writing the env file")
	return cmd
}

// loginFlagsProblems checks auth login's flags: a positive --timeout;
// --k8s-secret a Kubernetes name, not with --env-file, and never printed
// on a terminal (the manifest holds the tokens).
func loginFlagsProblems(timeout time.Duration, k8sName string, envFileSet, stdoutTerminal bool) error {
	var errs []error
	if timeout <= 0 {
		errs = append(errs, fmt.Errorf("--timeout: %s is not a positive duration", timeout))
	}
	if k8sName != "" {
		if envFileSet {
			errs = append(errs, errors.New("--k8s-secret: give it or --env-file, not both"))
		}
		if err := auth.CheckObjectName(k8sName); err != nil {
			errs = append(errs, fmt.Errorf("--k8s-secret: %w", err))
		}
		if stdoutTerminal {
			errs = append(errs, errors.New("--k8s-secret: standard output is a terminal, and the manifest holds the tokens: redirect it to a file or pipe it to kubectl apply -f -"))
		}
	}
	if len(errs) > 0 {
		return &ConfigError{Problems: errs}
	}
	return nil
}

// expiryAnnotations are the tokens' expiries for the Secret's metadata.
func expiryAnnotations(t *auth.Tokens) map[string]string {
	out := map[string]string{}
	if !t.AccessExpiry.IsZero() {
		out["salesnav-etl/access-token-expires-at"] = t.AccessExpiry.UTC().Format(time.RFC3339)
	}
	if !t.RefreshExpiry.IsZero() {
		out["salesnav-etl/refresh-token-expires-at"] = t.RefreshExpiry.UTC().Format(time.RFC3339)
	}
	return out
}

// loginSummary is what auth login tells the member: where the tokens
// went, the scopes granted and the expiries, and when to sign in again;
// never a token.
func loginSummary(t *auth.Tokens, where string) string {
	now := t.IssuedAt
	var b strings.Builder
	b.WriteString("Signed in")
	if len(t.Scopes) > 0 {
		b.WriteString("; scopes granted: " + strings.Join(t.Scopes, ", "))
	}
	fmt.Fprintf(&b, ".\nTokens written to %s.\nAccess token expires %s.\n", where, when(t.AccessExpiry, now))
	if t.RefreshToken == "" {
		fmt.Fprintf(&b, "No refresh token: LinkedIn gives programmatic refresh tokens to approved partners only. "+
			"The member must consent again (salesnav-etl auth login) before the access token expires, %s.\n", when(t.AccessExpiry, now))
		return b.String()
	}
	fmt.Fprintf(&b, "Refresh token expires %s; refreshing does not extend it: the member must consent again (salesnav-etl auth login) before then.\n",
		when(t.RefreshExpiry, now))
	return b.String()
}
