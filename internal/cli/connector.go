package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/sethvargo/go-envconfig"

	"github.com/salesnav-etl/salesnav-etl/connector"
	"github.com/salesnav-etl/salesnav-etl/extract"
	"github.com/salesnav-etl/salesnav-etl/internal/secret"
	"github.com/salesnav-etl/salesnav-etl/load"
	"github.com/salesnav-etl/salesnav-etl/pipeline"
	"github.com/salesnav-etl/salesnav-etl/schema"
)

// The Airbyte and Singer commands (airbyte.go, singer.go) read one JSON
// connector configuration (connector.Config) and run the same pipeline as
// run: what they share.

// readConnectorConfig reads and checks the configuration file at path.
// Its secrets join the set masked in all output first, whatever else is
// wrong with it.
func readConnectorConfig(path string, now time.Time, secrets *secret.Set) (connector.Config, error) {
	if path == "" {
		return connector.Config{}, &ConfigError{Problems: []error{errors.New("--config: required: the connector configuration (JSON)")}}
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return connector.Config{}, &ConfigError{Problems: []error{fmt.Errorf("--config: %w", err)}}
	}
	secrets.Add(connector.SecretsIn(raw)...)
	cc, err := connector.ParseConfig(raw, now)
	var ce *connector.ConfigError
	if errors.As(err, &ce) {
		problems := make([]error, len(ce.Problems))
		for i, p := range ce.Problems {
			problems[i] = fmt.Errorf("--config %s: %w", path, p)
		}
		return cc, &ConfigError{Problems: problems}
	}
	return cc, err
}

// readInput reads an optional input file (a catalog, a state) through
// parse; "" gives parse nothing. Problems name the flag and the file.
func readInput[T any](flag, path string, parse func([]byte) (T, error)) (T, error) {
	var raw []byte
	if path != "" {
		var err error
		if raw, err = os.ReadFile(path); err != nil {
			var zero T
			return zero, &ConfigError{Problems: []error{fmt.Errorf("--%s: %w", flag, err)}}
		}
	}
	v, err := parse(raw)
	if err != nil {
		return v, &ConfigError{Problems: []error{fmt.Errorf("--%s %s: %w", flag, path, err)}}
	}
	return v, nil
}

// connectorClock is the clock of a connector command: time.Now, or with
// --fake-now (tests, and runs reproducible against a fake API on
// loopback) that time, always.
func connectorClock(fakeNow string) (func() time.Time, error) {
	if fakeNow == "" {
		return time.Now, nil
	}
	t, err := time.Parse(time.RFC3339, fakeNow)
	if err != nil {
		return nil, &ConfigError{Problems: []error{fmt.Errorf("--fake-now %q: want an RFC 3339 time such as 2026-02-11T12:00:00Z", fakeNow)}}
	}
	t = t.UTC()
	return func() time.Time { return t }, nil
}

// checkFakeNow refuses --fake-now against a real API: a fixed clock is
// for a fake one, on loopback.
func checkFakeNow(fakeNow string, cc connector.Config) error {
	if fakeNow != "" && !strings.HasPrefix(cc.APIURL, "http://") {
		return &ConfigError{Problems: []error{fmt.Errorf("--fake-now needs api_url on loopback (a fake API), not %s", cc.APIURL)}}
	}
	return nil
}

// connectorRunConfig resolves a connector configuration into a run's, for
// streams: each field takes the place of the SALESNAV_* variable it stands
// for (a problem names the field), credentials and dates come from the
// file only, and every other variable of the environment still applies
// (SALESNAV_POLL_INTERVAL, SALESNAV_TOKEN_URL, SALESNAV_REJECTS_DIR…).
// The rejects directory is "" unless SALESNAV_REJECTS_DIR sets one.
func connectorRunConfig(ctx context.Context, lookup envconfig.Lookuper, cc connector.Config, streams []*schema.Stream, now time.Time) (*Config, error) {
	env, err := LoadEnv(ctx, lookup)
	if err != nil {
		return nil, err
	}
	set := func(ptr *string, v, field string) {
		*ptr = v
		env.names[ptr] = "--config " + field
	}
	env.Sink, env.ClickHouseDSN, env.AssocKeysFile, env.Shard, env.Shards, env.StatePath = "parquet", "", "", "", "", ""
	set(&env.APIURL, cc.APIURL, "api_url")
	c := cc.Credentials
	set(&env.AccessToken, c.AccessToken, "credentials.access_token")
	set(&env.ClientID, c.ClientID, "credentials.client_id")
	set(&env.ClientSecret, c.ClientSecret, "credentials.client_secret")
	set(&env.RefreshToken, c.RefreshToken, "credentials.refresh_token")
	set(&env.Start, cc.StartDate.Format(time.DateOnly), "start_date")
	set(&env.End, cc.End(now).Format(time.DateOnly), "end_date")
	set(&env.Streams, strings.Join(schema.Names(streams), ","), "streams")
	set(&env.CRMInstances, strings.Join(cc.CRMInstances, ","), "crm_instances")
	set(&env.Lookback, strconv.Itoa(cc.LookbackDays)+"d", "lookback_days")
	set(&env.MaxRejectRatio, strconv.FormatFloat(cc.MaxRejectRatio, 'g', -1, 64), "max_reject_ratio")
	cfg, err := env.Resolve(now, true)
	if err != nil {
		return nil, err
	}
	cfg.Pipeline.AssociationKeys = cc.AssociationKeys
	cfg.Pipeline.RejectsDir = ""
	if dir, ok := lookup.Lookup(envPrefix + "REJECTS_DIR"); ok && dir != "" {
		cfg.Pipeline.RejectsDir = dir
	}
	return cfg, nil
}

// connectorAPI builds the API client of a connector command, and the
// application token's fetch for check (nil when the member token serves).
func connectorAPI(cfg *Config, log *slog.Logger) (*extract.Client, func() error, error) {
	member, app, err := cfg.Auth.TokenSources(nil)
	if err != nil {
		return nil, nil, &ConfigError{Problems: []error{fmt.Errorf("--config credentials: %w", err)}}
	}
	cfg.API.TokenSource, cfg.API.AppTokenSource, cfg.API.Logger = member, app, log
	api, err := extract.New(cfg.API)
	if err != nil {
		return nil, nil, err
	}
	var appToken func() error
	if cfg.Auth.ClientID != "" {
		appToken = func() error { _, err := app.Token(); return err }
	}
	return api, appToken, nil
}

// connectorRun is the RunFunc of a sync: the pipeline with cfg, its
// rejects in cfg's directory or a temporary one (rejectsDir tells which,
// cleanup removes a temporary one). A graceful stop (SIGTERM) finishes
// the window being read within the grace period.
func connectorRun(cfg *Config, log *slog.Logger, stop <-chan struct{}, now func() time.Time) (run connector.RunFunc, rejectsDir string, cleanup func(), err error) {
	api, _, err := connectorAPI(cfg, log)
	if err != nil {
		return nil, "", nil, err
	}
	cleanup = func() {}
	if cfg.Pipeline.RejectsDir == "" {
		tmp, err := os.MkdirTemp("", "salesnav-rejects-*")
		if err != nil {
			return nil, "", nil, fmt.Errorf("creating a rejects directory: %w", err)
		}
		cfg.Pipeline.RejectsDir = tmp
		cleanup = func() { os.RemoveAll(tmp) }
	}
	cfg.Pipeline.Logger, cfg.Pipeline.Stop, cfg.Pipeline.Now = log, stop, now
	run = func(ctx context.Context, sink load.Sink, state load.StateStore) (*pipeline.Summary, error) {
		ctx, cancel := graceContext(ctx, stop, cfg.GracePeriod)
		defer cancel()
		runner, err := pipeline.New(cfg.Pipeline, api, sink, state)
		if err != nil {
			return nil, err
		}
		return runner.Run(ctx)
	}
	return run, cfg.Pipeline.RejectsDir, cleanup, nil
}

// graceContext is ctx, cancelled grace after stop closes: a graceful stop
// gives the window being loaded that long to finish.
func graceContext(ctx context.Context, stop <-chan struct{}, grace time.Duration) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctx)
	go func() {
		select {
		case <-stop:
		case <-ctx.Done():
			return
		}
		select {
		case <-time.After(grace):
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, cancel
}

// connectorOutcome is the exit code of a sync: run's (outcome), but for a
// sync whose only trouble is LinkedIn's late data, which is complete for
// the protocols (the deferred streams' states stay; the next sync tries
// again).
func connectorOutcome(sum *pipeline.Summary, err error) (int, error) {
	if sum != nil && sum.Status == pipeline.StatusTemporary && sum.QuotaResetAt == nil && !sum.Stopped && err == nil {
		return ExitOK, nil
	}
	code, err := outcome(sum, err)
	if errors.Is(err, extract.ErrUnauthorized) || errors.Is(err, extract.ErrForbidden) {
		err = fmt.Errorf("the API refused the credentials of --config (credentials): %w", err)
	}
	return code, err
}
