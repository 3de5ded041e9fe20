// Command salesnav-etl loads LinkedIn Sales Navigator analytics exports into
// a Parquet dataset, incrementally. See the README for configuration.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/sethvargo/go-envconfig"
	"github.com/spf13/cobra"

	"github.com/salesnav-etl/salesnav-etl/extract"
	"github.com/salesnav-etl/salesnav-etl/fakeapi"
	"github.com/salesnav-etl/salesnav-etl/internal/metrics"
	"github.com/salesnav-etl/salesnav-etl/load"
	"github.com/salesnav-etl/salesnav-etl/load/chsink"
	"github.com/salesnav-etl/salesnav-etl/pipeline"
	"github.com/salesnav-etl/salesnav-etl/schema"
)

// Exit codes.
const (
	ExitOK      = 0 // the run is complete
	ExitFailure = 1 // the run failed: nothing could be loaded, or an error stopped it
	ExitConfig  = 2 // bad configuration or usage; nothing was done
	ExitPartial = 3 // some streams or contracts failed (see the summary); the rest loaded
	// ExitTemporary is EX_TEMPFAIL: the run stopped early for a reason that
	// time cures (API quota spent, data delayed by LinkedIn, a graceful
	// stop); state is saved; retry later.
	ExitTemporary = 75
)

const exitCodesHelp = `Exit codes:
  0   complete: every stream of every contract is loaded up to the end day
  1   failed: nothing could be loaded, or an error stopped the run
  2   configuration or usage error, naming the variable or flag; nothing done
  3   partial: some streams or contracts failed (see the summary), others loaded
  75  temporary, and nothing failed: the API quota is spent (resets at midnight
      UTC), LinkedIn's data is delayed, or the run was stopped (SIGTERM); state
      is saved: retry later`

// exitError carries an exit code out of a command.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func main() {
	// The first SIGTERM or SIGINT stops gracefully (no new work, state
	// saved); a second one, or the grace period, cancels what is running.
	stop := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sigs
		close(stop)
		<-sigs
		cancel()
	}()
	applyMemoryLimit(os.Getenv(envPrefix + "MEMORY_LIMIT"))
	code := execute(ctx, stop, os.Args[1:], envconfig.OsLookuper(), os.Stdout, os.Stderr)
	cancel()
	os.Exit(code)
}

// execute runs the CLI and returns the exit code. Closing stop asks for a
// graceful stop; cancelling ctx abandons the work.
func execute(ctx context.Context, stop <-chan struct{}, args []string, lookup envconfig.Lookuper, stdout, stderr io.Writer) int {
	if stop == nil {
		stop = make(chan struct{})
	}
	root := newRootCmd(lookup, stop, stdout, stderr)
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	fmt.Fprintln(stderr, "salesnav-etl:", err)
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	var ce *ConfigError
	if errors.As(err, &ce) {
		return ExitConfig
	}
	// cobra's own flag and argument errors.
	return ExitConfig
}

func newRootCmd(lookup envconfig.Lookuper, stop <-chan struct{}, stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:           "salesnav-etl",
		Short:         "Load LinkedIn Sales Navigator exports into Parquet, incrementally",
		Long:          "salesnav-etl extracts LinkedIn Sales Navigator data (the seat, activity and\nactivity outcome exports, CRM data validation exports, profile associations\nand contracts), checks it against its schemas and loads it into a\nHive-partitioned Parquet dataset or ClickHouse, picking up where the last run\nended.\n\n" + variablesHelp() + "\n" + exitCodesHelp,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newRunCmd(lookup, stop, stdout, stderr), newFakeAPICmd(stop, stderr), newSchemaCmd(lookup, stdout),
		newStateCmd(lookup, stdout, stderr), newContractsCmd(lookup, stdout, stderr), newTokenCmd(lookup, stdout, stderr),
		newAssociationsCmd(lookup, stdout, stderr), newVersionCmd(stdout), newConfigCmd(lookup, stdout, stderr))
	// Every command that reads SALESNAV_* variables lists them, with their
	// defaults, and the exit codes.
	var document func(c *cobra.Command)
	document = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			document(sub)
		}
		switch c.Name() {
		case "fake-api", "version", "help", "completion":
			return
		}
		if !strings.Contains(c.Long, "Configuration (environment") && c.Runnable() {
			long := c.Long
			if long == "" {
				long = c.Short + "."
			}
			c.Long = long + "\n\n" + variablesHelp() + "\n" + exitCodesHelp
		}
	}
	document(root)
	return root
}

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
			runCtx, cancel := context.WithCancel(ctx)
			defer cancel()
			go func() {
				select {
				case <-stop:
				case <-runCtx.Done():
					return
				}
				select {
				case <-time.After(cfg.GracePeriod):
					cancel()
				case <-runCtx.Done():
				}
			}()
			ctx = runCtx
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
			names := make([]string, len(cfg.Pipeline.Streams))
			for i, st := range cfg.Pipeline.Streams {
				names[i] = st.Name
			}
			m := metrics.New(names)
			cfg.API.OnCall, cfg.Pipeline.Observer = m.OnCall, m
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
			sum, err := runPipeline(ctx, cfg, log)
			prog.stop()
			code, err := outcome(sum, err)
			finishMetrics(ctx, cfg, m, sum, code, began, log)
			if sum != nil {
				sum.WriteTable(stdout)
				if summaryPath != "" {
					raw, _ := json.MarshalIndent(sum, "", "  ")
					if werr := load.WriteFileAtomic(summaryPath, append(raw, '\n'), 0o644); werr != nil {
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
	sink, state, closeSink, err := openSink(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	defer closeSink()
	if load.IsURL(cfg.Pipeline.RejectsDir) {
		rejects, err := load.OpenBlobStorage(ctx, cfg.Pipeline.RejectsDir, cfg.Blob)
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
	pq, err := load.OpenParquetSink(ctx, cfg.Parquet, cfg.Blob)
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
	dir, _ = load.CutQuery(dir) // readers take the bucket's options their own way
	fmt.Fprintf(w, `
Read the dataset:
  duckdb -c "SELECT activityType, count(*) FROM read_parquet('%[1]s/activity/**/*.parquet', hive_partitioning=true) GROUP BY 1 ORDER BY 2 DESC"
  python3 -c "import pandas as pd; df = pd.read_parquet('%[1]s/activity'); print(df.groupby('activityType').size())"
`, dir)
}

func newFakeAPICmd(stop <-chan struct{}, stderr io.Writer) *cobra.Command {
	var (
		addr, token string
		seed        int64
		rows, polls int
		gz, crmBody bool
		cacheDir    string
		faults      fakeapi.Faults
		urlTTL      time.Duration
		tokenTTL    time.Duration
		dataDelay   string
		chaosSeed   int64
		contracts   int
	)
	cmd := &cobra.Command{
		Use:   "fake-api",
		Short: "Serve the embedded fake Sales Navigator API (deterministic data)",
		Long: `Serve the embedded fake Sales Navigator API: every operation of the real API
under /v2, deterministic data for a seed, jobs that complete on their second
poll, and signed download URLs that expire after an hour. Point the connector
at it with SALESNAV_API_URL=http://ADDR/v2 SALESNAV_ACCESS_TOKEN=TOKEN.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log := newLogger(stderr, slog.LevelInfo, "auto", isTerminal(stderr))
			if dataDelay != "" {
				t, err := time.Parse(time.DateOnly, dataDelay)
				if err != nil {
					return &exitError{ExitConfig, fmt.Errorf("--fault-data-delay-after %q is not a date (YYYY-MM-DD)", dataDelay)}
				}
				faults.DataDelayAfter = t
			}
			if chaosSeed != 0 {
				faults.Chaos = fakeapi.DefaultChaos(chaosSeed)
			}
			var cs []fakeapi.Contract
			if contracts > 0 {
				cs = fakeapi.ManyContracts(contracts)
			}
			fake := fakeapi.New(fakeapi.Config{Token: token, Seed: seed, RowsPerDay: rows, PollsToComplete: polls, Contracts: cs,
				Gzip: gz, CRMCreateBody: crmBody, URLTTL: urlTTL, MemberTokenTTL: tokenTTL, Faults: faults, Logger: log, CacheDir: cacheDir})
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return &exitError{ExitFailure, fmt.Errorf("listening on %s: %w", addr, err)}
			}
			srv := &http.Server{Handler: fake.Handler(), ReadHeaderTimeout: 10 * time.Second}
			log.Info("fake Sales Navigator API listening", "url", "http://"+ln.Addr().String()+"/v2", "seed", seed, "rows_per_day", rows)
			errc := make(chan error, 1)
			go func() { errc <- srv.Serve(ln) }()
			select {
			case err := <-errc:
				return &exitError{ExitFailure, err}
			case <-stop:
			case <-cmd.Context().Done():
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			return srv.Shutdown(ctx)
		},
	}
	f := cmd.Flags()
	f.StringVar(&addr, "addr", "127.0.0.1:8089", "address to listen on")
	f.StringVar(&token, "token", fakeapi.DefaultToken, "the bearer token accepted")
	f.Int64Var(&seed, "seed", fakeapi.DefaultSeed, "data seed")
	f.IntVar(&rows, "rows-per-day", fakeapi.DefaultRowsPerDay, "activities per contract per day (±20%)")
	f.IntVar(&polls, "polls-to-complete", 2, "poll at which a job reports COMPLETED")
	f.BoolVar(&gz, "gzip", false, "serve export files gzip-compressed")
	f.StringVar(&cacheDir, "cache-dir", "", "keep generated export files in this directory and serve the same export again from it (benchmarks)")
	f.BoolVar(&crmBody, "crm-create-body", false, "answer CRM validation creates with a JSON body (the OpenAPI file's form)")
	f.DurationVar(&urlTTL, "url-ttl", time.Hour, "life of download URLs")
	f.DurationVar(&tokenTTL, "token-ttl", 60*24*time.Hour, "life of access tokens issued by /oauth/v2/accessToken for a refresh token")
	f.IntVar(&faults.RateLimitEvery, "fault-429-every", 0, "answer every Nth API call with 429")
	f.BoolVar(&faults.QuotaExhausted, "fault-quota-exhausted", false, "answer every API call with 429, like a spent daily quota")
	f.IntVar(&faults.RetryAfterSeconds, "fault-retry-after", 0, "Retry-After seconds sent with injected 429s and 503s")
	f.IntVar(&faults.ServerErrorEvery, "fault-5xx-every", 0, "answer every Nth API call with 503")
	f.IntVar(&faults.DropDownloads, "fault-drop-downloads", 0, "cut the first N downloads off halfway")
	f.IntVar(&faults.FailJobs, "fault-fail-jobs", 0, "the first N jobs end with --fault-fail-status")
	f.StringVar(&faults.FailStatus, "fault-fail-status", "FAILED_DUE_TO_INTERNAL_ERROR", "status of failed jobs")
	f.IntVar(&faults.ExceedFileSizeDays, "fault-max-days", 0, "jobs over this many days fail with FAILED_DUE_TO_EXCEEDED_FILE_SIZE_ERROR")
	f.StringVar(&dataDelay, "fault-data-delay-after", "", "jobs ending after this day (YYYY-MM-DD) fail with FAILED_DUE_TO_DATA_DELAY")
	f.BoolVar(&faults.StuckJobs, "fault-stuck-jobs", false, "jobs never complete")
	f.IntVar(&contracts, "contracts", 0, "serve this many contracts with reporting access, and one without (0: the default two and one)")
	f.Int64Var(&chaosSeed, "chaos-seed", 0, "mix every fault at random, drawn from this seed (fakeapi.DefaultChaos; 0: off)")
	return cmd
}

func newStateCmd(lookup envconfig.Lookuper, stdout, stderr io.Writer) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "state",
		Short: "Show or reset the cursors and jobs in flight (of the configured sink)",
	}
	open := func(cmd *cobra.Command) (load.StateStore, func(), error) {
		env, err := LoadEnv(cmd.Context(), lookup)
		if err != nil {
			return nil, nil, &exitError{ExitConfig, err}
		}
		env.Override(&env.ParquetDir, "parquet-dir", cmd.Flags())
		env.Override(&env.StatePath, "state-path", cmd.Flags())
		cfg, err := env.Resolve(time.Now(), false)
		if err != nil {
			return nil, nil, &exitError{ExitConfig, err}
		}
		log := newLogger(stderr, cfg.LogLevel, cfg.LogFormat, isTerminal(stderr))
		if cfg.Sink != "clickhouse" && !load.IsURL(cfg.StatePath) {
			// Checked before the sink opens, which would make the directory.
			if family, _ := load.StateFamily(cfg.StatePeers); len(family) == 0 {
				if _, err := os.Stat(cfg.StatePath); err != nil {
					return nil, nil, &exitError{ExitFailure, fmt.Errorf("no state at %s: %w", cfg.StatePath, err)}
				}
			}
		}
		_, state, closeSink, err := openSink(cmd.Context(), cfg, log)
		if err != nil {
			return nil, nil, &exitError{ExitFailure, err}
		}
		// The run's own file, or any of its family (the shards').
		if fs, ok := state.(*load.FileState); ok && !fs.Found() {
			closeSink()
			return nil, nil, &exitError{ExitFailure, fmt.Errorf("no state at %s: %w", fs.Path(), os.ErrNotExist)}
		}
		return state, closeSink, nil
	}
	var asJSON bool
	show := &cobra.Command{
		Use:   "show",
		Short: "Print every cursor and job in flight",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			state, done, err := open(cmd)
			if err != nil {
				return err
			}
			defer done()
			es, err := state.List(cmd.Context())
			if err != nil {
				return &exitError{ExitFailure, err}
			}
			if asJSON {
				return printJSON(stdout, es)
			}
			tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "STREAM\tCONTRACT\tCURSOR\tUPDATED\tJOB IN FLIGHT")
			for _, e := range es {
				cur, upd, job := "-", "-", "-"
				if e.Cursor != nil {
					cur = load.FormatCursor(*e.Cursor)
					upd = e.UpdatedAt.UTC().Format(time.RFC3339)
				}
				if e.Job != nil {
					job = fmt.Sprintf("%d [%s, %s) created %s", e.Job.ID, load.FormatCursor(e.Job.Start), load.FormatCursor(e.Job.End), e.Job.CreatedAt.UTC().Format(time.RFC3339))
					if e.Job.End.Equal(e.Job.Start) { // a CRM export: from its start to the server's now
						job = fmt.Sprintf("%d from %s created %s", e.Job.ID, load.FormatCursor(e.Job.Start), e.Job.CreatedAt.UTC().Format(time.RFC3339))
					}
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", e.Stream, e.Contract, cur, upd, job)
			}
			return tw.Flush()
		},
	}
	show.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	var stream, contract string
	reset := &cobra.Command{
		Use:   "reset",
		Short: "Forget the cursor (and job in flight) of a stream, for one contract or all",
		Long:  "Forget the cursor and job in flight of --stream, for --contract or every contract: the next run\nloads that stream from SALESNAV_START again. Loaded data stays; re-loads replace or collapse it.",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if _, err := schema.Lookup(stream); err != nil {
				return &exitError{ExitConfig, fmt.Errorf("--stream: %w", err)}
			}
			state, done, err := open(cmd)
			if err != nil {
				return err
			}
			defer done()
			n, err := state.Reset(cmd.Context(), stream, contract)
			if err != nil {
				return &exitError{ExitFailure, err}
			}
			fmt.Fprintf(stdout, "reset %d cursor(s) of %s\n", n, stream)
			return nil
		},
	}
	reset.Flags().StringVar(&stream, "stream", "", "stream to reset (required)")
	reset.Flags().StringVar(&contract, "contract", "", "contract URN (default: every contract)")
	_ = reset.MarkFlagRequired("stream")
	for _, c := range []*cobra.Command{show, reset} {
		c.Flags().String("parquet-dir", "", "dataset root (overrides SALESNAV_PARQUET_DIR)")
		c.Flags().String("state-path", "", "state file (overrides SALESNAV_STATE_PATH)")
	}
	cmd.AddCommand(show, reset)
	return cmd
}

func newSchemaCmd(lookup envconfig.Lookuper, stdout io.Writer) *cobra.Command {
	var ddl, database string
	cmd := &cobra.Command{
		Use:   "schema",
		Short: "Print the DDL of every stream's table (--ddl clickhouse)",
		Long: `Print the statements that create every stream's ClickHouse table, its
<stream>_final view and the state table, for the database named by --database
(default: the one in SALESNAV_CLICKHOUSE_DSN, else "salesnav"). The DDL works
on ClickHouse 18.16 and on current versions alike.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if ddl != "clickhouse" {
				return &exitError{ExitConfig, fmt.Errorf("--ddl %q: supported: clickhouse", ddl)}
			}
			if database == "" {
				database = "salesnav"
				if dsn, ok := lookup.Lookup(envPrefix + "CLICKHOUSE_DSN"); ok && dsn != "" {
					if u, err := url.Parse(dsn); err == nil && strings.Trim(u.Path, "/") != "" {
						database = strings.Trim(u.Path, "/")
					}
				}
			}
			env, err := LoadEnv(cmd.Context(), lookup)
			if err != nil {
				return &exitError{ExitConfig, err}
			}
			var problems []error
			layout := env.layout(func(ptr *string, format string, args ...any) {
				problems = append(problems, fmt.Errorf("%s: %s", env.names[ptr], fmt.Sprintf(format, args...)))
			})
			if len(problems) > 0 {
				return &exitError{ExitConfig, errors.Join(problems...)}
			}
			stmts := []string{}
			db, err := layout.CreateDatabase(database)
			if err != nil {
				return &exitError{ExitConfig, fmt.Errorf("--database: %w", err)}
			}
			stmts = append(stmts, db)
			for _, st := range schema.All() {
				s, err := layout.StreamDDL(database, st)
				if err != nil {
					return &exitError{ExitFailure, err}
				}
				stmts = append(stmts, s...)
			}
			state, _ := layout.CreateStateTable(database)
			jobs, _ := layout.CreateJobsTable(database)
			stmts = append(stmts, state, jobs)
			for _, s := range stmts {
				fmt.Fprintf(stdout, "%s;\n\n", s)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&ddl, "ddl", "clickhouse", "DDL dialect: clickhouse")
	cmd.Flags().StringVar(&database, "database", "", "database name")
	return cmd
}

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

func newAssociationsCmd(lookup envconfig.Lookuper, stdout, stderr io.Writer) *cobra.Command {
	var (
		input          string
		asJSON, doLoad bool
		withFake       bool
		batch          int
	)
	cmd := &cobra.Command{
		Use:   "associations --input keys.csv",
		Short: "Look up the Sales Navigator profiles of CRM records",
		Long: `Look up the Sales Navigator profile of each CRM record in a CSV file with the
columns instanceId, partner and recordId (header row required; other columns
are ignored), in batches (GET /salesNavigatorProfileAssociations?ids=List(...)),
and print one line per key: MATCHED with the member and profile, UNMATCHED
(LinkedIn has no confident match; not an error), or ERROR with the API's
message. With --load the results are also merged into the profile_associations
dataset of the configured sink (one row per key, the newest lookup wins).

The run command does the same for every CRM record of the loaded CRM
validation data when SALESNAV_STREAMS includes profile_associations.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if input == "" {
				return &exitError{ExitConfig, errors.New("--input: required (a CSV file with instanceId, partner, recordId)")}
			}
			if batch < 1 || batch > pipeline.MaxAssociationBatch {
				return &exitError{ExitConfig, fmt.Errorf("--batch-size: %d is not from 1 to %d", batch, pipeline.MaxAssociationBatch)}
			}
			f, err := os.Open(input)
			if err != nil {
				return &exitError{ExitConfig, fmt.Errorf("--input: %w", err)}
			}
			keys, err := pipeline.ReadAssociationKeys(f, input)
			f.Close()
			if err != nil {
				return &exitError{ExitConfig, fmt.Errorf("--input: %w", err)}
			}
			// Client credentials suffice (the profile association scope).
			api, cfg, log, done, err := apiClientConfig(cmd, lookup, stderr, withFake, doLoad, schema.ProfileAssociations.Name)
			if err != nil {
				return err
			}
			defer done()
			ctx := cmd.Context()
			var results []extract.AssociationResult
			err = pipeline.LookupAssociations(ctx, api, keys, batch, func(res []extract.AssociationResult) error {
				results = append(results, res...)
				return nil
			})
			if doLoad && len(results) > 0 {
				// What was fetched is loaded, even when a later batch failed.
				if lerr := loadAssociations(ctx, cfg, log, results); lerr != nil {
					err = errors.Join(err, lerr)
				}
			}
			if perr := printAssociations(stdout, results, asJSON); perr != nil && err == nil {
				err = perr
			}
			if err != nil {
				code := ExitFailure
				if errors.Is(err, extract.ErrQuotaExhausted) {
					code = ExitTemporary
				}
				return &exitError{code, err}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&input, "input", "", "CSV file of keys: instanceId, partner, recordId")
	f.IntVar(&batch, "batch-size", pipeline.DefaultAssociationBatch, "keys per batch lookup")
	f.BoolVar(&asJSON, "json", false, "print JSON")
	f.BoolVar(&doLoad, "load", false, "also merge the results into the sink's profile_associations")
	f.BoolVar(&withFake, "fake-api", false, "ask the embedded fake API")
	return cmd
}

// loadAssociations merges lookup results into the sink.
func loadAssociations(ctx context.Context, cfg *Config, log *slog.Logger, results []extract.AssociationResult) error {
	sink, _, closeSink, err := openSink(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer closeSink()
	ms, ok := sink.(load.MergeSink)
	if !ok {
		return fmt.Errorf("sink %s keeps no merged tables", cfg.Sink)
	}
	st := schema.ProfileAssociations
	// An error must not replace an answer loaded before (a match, or no
	// match): keep those keys as they are.
	answered := map[extract.AssociationKey]bool{}
	if rd, ok := sink.(load.Reader); ok {
		rows, err := rd.Distinct(ctx, st.Name, []string{"instanceId", "partner", "recordId", "status"})
		if err != nil {
			return fmt.Errorf("reading %s: %w", st.Name, err)
		}
		for _, r := range rows {
			if r[3] != schema.AssociationError {
				answered[extract.AssociationKey{InstanceID: r[0], Partner: r[1], RecordID: r[2]}] = true
			}
		}
	}
	b := array.NewRecordBuilder(memory.DefaultAllocator, st.Schema())
	defer b.Release()
	fetched := arrow.Timestamp(time.Now().UnixMilli())
	kept := 0
	for _, a := range results {
		status := pipeline.AssociationStatus(a)
		if status == schema.AssociationError && answered[a.Key] {
			continue
		}
		pipeline.AppendAssociation(b, a, status, fetched)
		kept++
	}
	if kept == 0 {
		return nil
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	stats, err := ms.MergeDimension(ctx, st, rec)
	if err != nil {
		return fmt.Errorf("loading %s: %w", st.Name, err)
	}
	log.Info("profile associations loaded", "stream", st.Name, "rows", stats.Rows)
	return nil
}

// associationOut is one printed lookup result.
type associationOut struct {
	InstanceID   string `json:"instanceId"`
	Partner      string `json:"partner"`
	RecordID     string `json:"recordId"`
	Status       string `json:"status"`
	HTTPStatus   int    `json:"httpStatus"`
	Member       string `json:"member,omitempty"`
	Profile      string `json:"profile,omitempty"`
	ProfilePhoto string `json:"profilePhoto,omitempty"`
	Error        string `json:"error,omitempty"`
}

func printAssociations(w io.Writer, results []extract.AssociationResult, asJSON bool) error {
	out := make([]associationOut, len(results))
	for i, a := range results {
		o := associationOut{InstanceID: a.Key.InstanceID, Partner: a.Key.Partner, RecordID: a.Key.RecordID,
			Status: pipeline.AssociationStatus(a), HTTPStatus: a.Status, Error: a.Error}
		if a.Association != nil {
			o.Member, o.Profile = a.Association.Member, a.Association.Profile
			if a.Association.ProfilePhoto != nil {
				o.ProfilePhoto = *a.Association.ProfilePhoto
			}
		}
		out[i] = o
	}
	if asJSON {
		return printJSON(w, out)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "INSTANCE\tPARTNER\tRECORD\tSTATUS\tMEMBER\tPROFILE\tERROR")
	for _, o := range out {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", o.InstanceID, o.Partner, o.RecordID, o.Status, o.Member, o.Profile, o.Error)
	}
	return tw.Flush()
}

func newContractsCmd(lookup envconfig.Lookuper, stdout, stderr io.Writer) *cobra.Command {
	var asJSON, withFake bool
	cmd := &cobra.Command{
		Use:   "contracts",
		Short: "List the Sales Navigator contracts the member can see",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			api, done, err := apiClient(cmd, lookup, stderr, withFake)
			if err != nil {
				return err
			}
			defer done()
			cs, err := api.Contracts(cmd.Context())
			if err != nil {
				return &exitError{ExitFailure, err}
			}
			if asJSON {
				return printJSON(stdout, cs)
			}
			tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "CONTRACT\tNAME\tREPORTING\tDESCRIPTION")
			for _, c := range cs {
				desc := ""
				if c.Description != nil {
					desc = *c.Description
				}
				fmt.Fprintf(tw, "%s\t%s\t%v\t%s\n", c.Contract, c.Name, c.HasReportingAccess, desc)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.Flags().BoolVar(&withFake, "fake-api", false, "ask the embedded fake API")
	return cmd
}

func newTokenCmd(lookup envconfig.Lookuper, stdout, stderr io.Writer) *cobra.Command {
	var withFake bool
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Fetch a sales access token for the embedded Sales Navigator iframe, as JSON",
		Long: `Fetch a short-lived sales access token (scope r_sales_nav_display) for the
embedded Sales Navigator iframe and print it as JSON with its expiry as an RFC
3339 time. The token is printed on stdout, the only place it appears.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			api, done, err := apiClient(cmd, lookup, stderr, withFake)
			if err != nil {
				return err
			}
			defer done()
			tok, err := api.SalesAccessToken(cmd.Context())
			if err != nil {
				return &exitError{ExitFailure, err}
			}
			return json.NewEncoder(stdout).Encode(map[string]any{
				"token": tok.Token, "expiryTime": tok.ExpiryTime, "expiresAt": tok.Expiry().Format(time.RFC3339),
			})
		},
	}
	cmd.Flags().BoolVar(&withFake, "fake-api", false, "ask the embedded fake API")
	return cmd
}

// printJSON writes v as indented JSON.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
