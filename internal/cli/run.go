package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/sethvargo/go-envconfig"
	"github.com/spf13/cobra"

	"github.com/salesnav-etl/salesnav-etl/extract"
	"github.com/salesnav-etl/salesnav-etl/fakeapi"
	"github.com/salesnav-etl/salesnav-etl/internal/metrics"
	"github.com/salesnav-etl/salesnav-etl/load"
	"github.com/salesnav-etl/salesnav-etl/load/chsink"
	"github.com/salesnav-etl/salesnav-etl/load/lease"
	"github.com/salesnav-etl/salesnav-etl/load/parquet"
	"github.com/salesnav-etl/salesnav-etl/load/storage"
	"github.com/salesnav-etl/salesnav-etl/pipeline"
	"github.com/salesnav-etl/salesnav-etl/schema"
)

func newRunCmd(lookup envconfig.Lookuper, stop <-chan struct{}, stdout, stderr io.Writer) *cobra.Command {
	var (
		summaryPath string
		withFake    bool
		fakeRows    int
		parquetDir  string
		streams     string
		statePath   string
		from, to    string
		cpuProfile  string
		fakeNow     string
	)
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Load every stream of every reporting contract up to the end day",
		Long: `Load every configured stream of every contract with reporting access, from each
(stream, contract)'s saved cursor (or SALESNAV_START on a first run) up to
SALESNAV_END (exclusive; default: yesterday, UTC, for LinkedIn's 24-hour data
delay). Each window is created, polled, downloaded, checked and written, and
only then is its cursor saved: a re-run never duplicates or loses a row.

` + variablesHelp() + "\n" + exitCodesHelp,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			env, err := LoadEnv(ctx, lookup)
			if err != nil {
				return &exitError{ExitConfig, err}
			}
			env.Override(&env.ParquetDir, "parquet-dir", cmd.Flags())
			env.Override(&env.Streams, "streams", cmd.Flags())
			env.Override(&env.StatePath, "state-path", cmd.Flags())
			env.Override(&env.Shard, "shard", cmd.Flags())
			now, err := fixedClock(fakeNow, withFake)
			if err != nil {
				return &exitError{ExitConfig, err}
			}
			backfill := from != "" || to != ""
			if backfill {
				if from == "" || to == "" {
					return &exitError{ExitConfig, errors.New("--from and --to go together")}
				}
				env.Start, env.End = from, to
				env.names[&env.Start], env.names[&env.End] = "--from", "--to"
			}
			if withFake {
				if _, set := lookup.Lookup(envPrefix + "POLL_INTERVAL"); !set {
					env.PollInterval = "20ms" // the fake completes a job on its second poll
				}
				if env.CRMInstances == "" {
					env.CRMInstances = strings.Join(fakeapi.DefaultCRMInstances, ",")
				}
			}
			cfg, err := env.Resolve(now(), !withFake)
			if err != nil {
				return &exitError{ExitConfig, err}
			}
			if fakeNow != "" {
				cfg.Pipeline.Now = now
			}
			cfg.Pipeline.Backfill = backfill
			cfg.Pipeline.Stop = stop
			// After a graceful stop is asked for, the window being loaded
			// has the grace period to finish; then it is abandoned.
			ctx, cancel := graceContext(ctx, stop, cfg.GracePeriod)
			defer cancel()
			if cpuProfile != "" {
				f, err := os.Create(cpuProfile)
				if err != nil {
					return &exitError{ExitConfig, fmt.Errorf("--cpuprofile: %w", err)}
				}
				if err := pprof.StartCPUProfile(f); err != nil {
					f.Close()
					return &exitError{ExitConfig, fmt.Errorf("--cpuprofile: %w", err)}
				}
				defer func() { pprof.StopCPUProfile(); f.Close() }()
			}
			began := time.Now()
			names := schema.Names(cfg.Pipeline.Streams)
			m := metrics.New(names)
			cfg.API.OnCall, cfg.Pipeline.Observer = m.OnCall, m
			// The refresh grant's answer tells when the refresh token expires.
			cfg.Auth.RefreshTokenExpiry, cfg.Auth.Now = m.SetRefreshTokenExpiry, clockOf(ctx)
			terminal := isTerminal(stderr)
			prog, log := startProgress(stderr, terminal, cfg.ProgressEvery, names, m, func(w io.Writer) *slog.Logger {
				return newLogger(w, cfg.LogLevel, cfg.LogFormat, terminal)
			})
			defer prog.stop()
			if withFake {
				stopFake, baseURL, token, err := startFake(fakeRows, now, log)
				if err != nil {
					prog.stop()
					finishMetrics(ctx, cfg, m, nil, ExitFailure, began, log)
					return &exitError{ExitFailure, err}
				}
				defer stopFake()
				cfg.API.BaseURL, cfg.API.Token = baseURL, token
				cfg.Auth = extract.AuthConfig{AccessToken: token}
				log.Info("embedded fake Sales Navigator API started", "url", baseURL)
			}
			lin := startLineage(ctx, cfg, lookup, now, log)
			sum, err := runPipeline(ctx, cfg, log)
			prog.stop()
			code, err := outcome(sum, err)
			lin.finish(ctx, sum, code, err)
			finishMetrics(ctx, cfg, m, sum, code, began, log)
			if sum != nil {
				sum.WriteTable(stdout)
				if summaryPath != "" {
					raw, _ := json.MarshalIndent(sum, "", "  ")
					// A file is no stdout: the secrets are masked here.
					masked := secretsOf(lookup).String(string(raw)) + "\n"
					if werr := storage.WriteFileAtomic(summaryPath, []byte(masked), 0o644); werr != nil {
						log.Error("writing summary", "error", werr)
					}
				}
				sum.Log(log)
				if withFake && cfg.Sink == "parquet" {
					printReadHints(stdout, cfg.Parquet.Dir)
				}
			}
			if code == ExitOK {
				return nil
			}
			return &exitError{code, err}
		},
	}
	f := cmd.Flags()
	f.StringVar(&summaryPath, "summary", "", "also write the run summary as JSON to this file")
	f.BoolVar(&withFake, "fake-api", false, "start the embedded fake Sales Navigator API and run against it (no LinkedIn account needed)")
	f.IntVar(&fakeRows, "fake-rows-per-day", fakeapi.DefaultRowsPerDay, "with --fake-api: activities per contract per day")
	f.StringVar(&parquetDir, "parquet-dir", "", "dataset root (overrides SALESNAV_PARQUET_DIR)")
	f.StringVar(&streams, "streams", "", "comma-separated streams (overrides SALESNAV_STREAMS)")
	f.StringVar(&statePath, "state-path", "", "state file (overrides SALESNAV_STATE_PATH)")
	f.String("shard", "", "i/n: run shard i of n (overrides SALESNAV_SHARD)")
	f.StringVar(&from, "from", "", "backfill: first day (YYYY-MM-DD, UTC); with --to, loads [from, to) without moving the cursors")
	f.StringVar(&to, "to", "", "backfill: end day, exclusive (YYYY-MM-DD, UTC)")
	f.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the run to this file (go tool pprof)")
	f.StringVar(&fakeNow, "fake-now", "", "with --fake-api: fix the clock of the fake API and of the run at this RFC 3339 time, for reproducible runs")
	return cmd
}

// fixedClock is the run's clock: time.Now, or with --fake-now (which needs
// --fake-api) that time, always.
func fixedClock(fakeNow string, withFake bool) (func() time.Time, error) {
	if fakeNow == "" {
		return time.Now, nil
	}
	if !withFake {
		return nil, errors.New("--fake-now needs --fake-api: it fixes the embedded fake API's clock")
	}
	t, err := time.Parse(time.RFC3339, fakeNow)
	if err != nil {
		return nil, fmt.Errorf("--fake-now %q: want an RFC 3339 time such as 2026-02-11T12:00:00Z: %w", fakeNow, err)
	}
	t = t.UTC()
	return func() time.Time { return t }, nil
}

// outcome maps a run to its exit code and error. The summary decides:
// failures first, then "retry later", so that a quota or a stop never
// hides them.
func outcome(sum *pipeline.Summary, err error) (int, error) {
	if sum == nil {
		if errors.Is(err, lease.ErrHeld) { // another run on the output: retry later
			return ExitTemporary, err
		}
		return ExitFailure, err
	}
	switch sum.Status {
	case pipeline.StatusFailed:
		if err == nil {
			err = fmt.Errorf("run failed: %d error(s), see the summary", len(sum.Errors))
		}
		return ExitFailure, err
	case pipeline.StatusPartial:
		return ExitPartial, fmt.Errorf("run partial: %d error(s), see the summary", len(sum.Errors))
	case pipeline.StatusTemporary:
		why := "stopped"
		switch {
		case sum.QuotaResetAt != nil:
			why = "API quota exhausted; it resets at " + sum.QuotaResetAt.Format(time.RFC3339) + " (midnight UTC)"
		case len(sum.Deferred) > 0 && !sum.Stopped:
			why = fmt.Sprintf("%d stream(s) deferred: LinkedIn's data is delayed", len(sum.Deferred))
		}
		return ExitTemporary, fmt.Errorf("run stopped early, state saved, retry later: %s", why)
	}
	if err != nil {
		return ExitFailure, err
	}
	return ExitOK, nil
}

// runPipeline wires the API client, sink and state, then runs.
func runPipeline(ctx context.Context, cfg *Config, log *slog.Logger) (*pipeline.Summary, error) {
	cfg.API.Logger = log
	member, app, err := cfg.Auth.TokenSources(nil)
	if err != nil {
		return nil, fmt.Errorf("configuring authentication: %w", err)
	}
	cfg.API.TokenSource, cfg.API.AppTokenSource = member, app
	api, err := extract.New(cfg.API)
	if err != nil {
		return nil, err
	}
	// One run per output: before the sink cleans staging files or the
	// state is read, and given back after both are closed.
	release, err := takeLeases(ctx, cfg, log, cfg.StatePath)
	if err != nil {
		return nil, err
	}
	defer release()
	sink, state, closeSink, err := openSink(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	defer closeSink()
	if storage.IsURL(cfg.Pipeline.RejectsDir) {
		rejects, err := storage.OpenBlobStorage(ctx, cfg.Pipeline.RejectsDir, cfg.Blob)
		if err != nil {
			return nil, fmt.Errorf("opening the rejects location: %w", err)
		}
		defer rejects.Close()
		cfg.Pipeline.RejectsStorage = rejects
	}
	cfg.Pipeline.Logger = log
	runner, err := pipeline.New(cfg.Pipeline, api, sink, state)
	if err != nil {
		return nil, err
	}
	return runner.Run(ctx)
}

// openSink opens the configured sink and its state store, and returns
// what closes both. With ClickHouse the cursors live in the same database,
// so a CronJob pod needs no volume; with Parquet in object storage, in the
// bucket.
func openSink(ctx context.Context, cfg *Config, log *slog.Logger) (load.Sink, load.StateStore, func(), error) {
	if cfg.Sink == "clickhouse" {
		cfg.ClickHouse.Logger = log
		cfg.ClickHouse.MaxConns = max(10, cfg.Pipeline.Concurrency+4)
		ch, err := chsink.Open(ctx, cfg.ClickHouse)
		if err != nil {
			return nil, nil, nil, err
		}
		state, err := ch.State(ctx)
		if err != nil {
			ch.Close()
			return nil, nil, nil, err
		}
		return ch, state, func() { ch.Close() }, nil
	}
	cfg.Parquet.Logger = log
	pq, err := parquet.Open(ctx, cfg.Parquet, cfg.Blob)
	if err != nil {
		return nil, nil, nil, err
	}
	// The state files of the family: the unsharded one and the shards'.
	// A run reads its own and, when there are others, their cursors too.
	state, err := load.OpenState(ctx, cfg.StatePath, cfg.StatePeers, cfg.Blob)
	if err != nil {
		pq.Close()
		return nil, nil, nil, err
	}
	return pq, state, func() { pq.Close(); state.Close() }, nil
}

// startFake serves the embedded fake API on a free loopback port.
// now is its clock.
func startFake(rowsPerDay int, now func() time.Time, log *slog.Logger) (stop func(), baseURL, token string, err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", "", fmt.Errorf("starting embedded fake API: %w", err)
	}
	fake := fakeapi.New(fakeapi.Config{RowsPerDay: rowsPerDay, Now: now, Logger: log})
	srv := &http.Server{Handler: fake.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	stop = func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}
	return stop, "http://" + ln.Addr().String() + "/v2", fakeapi.DefaultToken, nil
}

func printReadHints(w io.Writer, dir string) {
	dir, _ = storage.CutQuery(dir) // readers take the bucket's options their own way
	fmt.Fprintf(w, `
Read the dataset:
  duckdb -c "SELECT activityType, count(*) FROM read_parquet('%[1]s/activity/**/*.parquet', hive_partitioning=true) GROUP BY 1 ORDER BY 2 DESC"
  python3 -c "import pandas as pd; df = pd.read_parquet('%[1]s/activity'); print(df.groupby('activityType').size())"
`, dir)
}
