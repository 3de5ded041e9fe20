package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/sethvargo/go-envconfig"
	"github.com/spf13/cobra"

	"github.com/salesnav-etl/salesnav-etl/extract"
	"github.com/salesnav-etl/salesnav-etl/fakeapi"
)

// apiClient builds an API client from the SALESNAV_* variables, or one of
// the embedded fake API with --fake-api. The caller calls done.
func apiClient(cmd *cobra.Command, lookup envconfig.Lookuper, stderr io.Writer, withFake bool) (*extract.Client, func(), error) {
	api, _, _, done, err := apiClientConfig(cmd, lookup, stderr, withFake, false, "contracts")
	return api, done, err
}

// apiClientConfig is apiClient that also returns the resolved
// configuration and the logger; withSink keeps (and checks) the sink
// settings, which the commands that only ask the API ignore. stream is
// what the command reads, which decides the credentials it needs.
func apiClientConfig(cmd *cobra.Command, lookup envconfig.Lookuper, stderr io.Writer, withFake, withSink bool, stream string) (*extract.Client, *Config, *slog.Logger, func(), error) {
	env, err := LoadEnv(cmd.Context(), lookup)
	if err != nil {
		return nil, nil, nil, nil, &exitError{ExitConfig, err}
	}
	if !withSink {
		// These commands use the API, not the sink: its settings do not matter.
		env.Sink, env.ClickHouseDSN = "parquet", ""
	}
	// Nor do the streams of a run.
	env.Streams, env.AssocKeysFile = stream, ""
	cfg, err := env.Resolve(time.Now(), !withFake)
	if err != nil {
		return nil, nil, nil, nil, &exitError{ExitConfig, err}
	}
	log := newLogger(stderr, cfg.LogLevel, cfg.LogFormat, isTerminal(stderr))
	done := func() {}
	if withFake {
		stopFake, baseURL, token, err := startFake(fakeapi.DefaultRowsPerDay, time.Now, log)
		if err != nil {
			return nil, nil, nil, nil, &exitError{ExitFailure, err}
		}
		done = stopFake
		cfg.API.BaseURL = baseURL
		cfg.Auth = extract.AuthConfig{AccessToken: token}
	}
	member, app, err := cfg.Auth.TokenSources(nil)
	if err != nil {
		done()
		return nil, nil, nil, nil, &exitError{ExitConfig, fmt.Errorf("configuring authentication: %w", err)}
	}
	cfg.API.TokenSource, cfg.API.AppTokenSource, cfg.API.Logger = member, app, log
	api, err := extract.New(cfg.API)
	if err != nil {
		done()
		return nil, nil, nil, nil, &exitError{ExitConfig, err}
	}
	return api, cfg, log, done, nil
}

// printJSON writes v as indented JSON.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
