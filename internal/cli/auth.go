package cli

import (
	"fmt"
	"io"
	"time"

	"github.com/sethvargo/go-envconfig"
	"github.com/spf13/cobra"

	"github.com/salesnav-etl/salesnav-etl/internal/secret"
)

func newAuthCmd(lookup envconfig.Lookuper, stop <-chan struct{}, secrets *secret.Set, rawStdout, stdout, stderr io.Writer) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "auth",
		Short: "Sign the member in with LinkedIn (auth login) and check the tokens (auth status)",
	}
	cmd.AddCommand(newAuthLoginCmd(lookup, stop, secrets, rawStdout, stdout, stderr), newAuthStatusCmd(lookup, stdout, stderr))
	return cmd
}

// authEnv reads and checks the configuration for the auth commands:
// every variable is checked, but none of the run's (sink, streams) is
// required, nor a token.
func authEnv(cmd *cobra.Command, lookup envconfig.Lookuper) (*Env, *Config, error) {
	env, err := LoadEnv(cmd.Context(), lookup)
	if err != nil {
		return nil, nil, &exitError{ExitConfig, err}
	}
	env.Sink, env.ClickHouseDSN, env.Streams, env.AssocKeysFile = "parquet", "", "contracts", ""
	cfg, err := env.Resolve(clockOf(cmd.Context())(), false)
	if err != nil {
		return nil, nil, &exitError{ExitConfig, err}
	}
	return env, cfg, nil
}

// when writes an expiry for people: the time (UTC, RFC 3339) and the
// whole days left from now.
func when(t, now time.Time) string {
	if t.IsZero() {
		return "(expiry not given)"
	}
	days := int(t.Sub(now) / (24 * time.Hour))
	if !t.After(now) {
		return t.UTC().Format(time.RFC3339) + " (past)"
	}
	return fmt.Sprintf("%s (in %d days)", t.UTC().Format(time.RFC3339), days)
}
