package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/sethvargo/go-envconfig"
	"github.com/spf13/cobra"

	"github.com/salesnav-etl/salesnav-etl/extract"
	"github.com/salesnav-etl/salesnav-etl/load/chsink"
	"github.com/salesnav-etl/salesnav-etl/load/storage"
)

// version and commit are the build's, given to Main (set at build time:
// -ldflags "-X main.version=v1.2.3 -X main.commit=<sha>"); without them
// they come from the module and VCS information Go stamps.
var version, commit = "dev", ""

// buildInfo returns the version, the VCS commit (with "+dirty" for a
// modified tree) and the Go version of the binary.
func buildInfo() (ver, commit, goVersion string) {
	ver, commit, goVersion = version, "unknown", runtime.Version()
	if c := commitFlag(); c != "" {
		return ver, c, goVersion
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if ver == "dev" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			ver = bi.Main.Version
		}
		dirty := false
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				commit = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
		if dirty && commit != "unknown" {
			commit += "+dirty"
		}
	}
	return ver, commit, goVersion
}

func commitFlag() string { return commit }

func newVersionCmd(stdout io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version, commit and Go version",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			v, c, g := buildInfo()
			_, err := fmt.Fprintf(stdout, "salesnav-etl %s\ncommit %s\n%s %s/%s\n", v, c, g, runtime.GOOS, runtime.GOARCH)
			return err
		},
	}
}

func newConfigCmd(lookup envconfig.Lookuper, stdout, stderr io.Writer) *cobra.Command {
	cmd := &cobra.Command{Use: "config", Short: "Check the configuration"}
	var connect bool
	check := &cobra.Command{
		Use:   "check",
		Short: "Validate the configuration; with --connect, also reach the API and the sink",
		Long: `Validate every SALESNAV_* variable and report every problem at once (exit 2).
With --connect, also reach the API (list the contracts with the member token,
fetch an application token with client credentials) and the sink (create the
Parquet directory and a file in it, or connect to ClickHouse), and report every
problem at once (exit 1). Nothing is loaded; no cursor moves.

` + variablesHelp() + "\n" + exitCodesHelp,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			env, err := LoadEnv(cmd.Context(), lookup)
			if err != nil {
				return &exitError{ExitConfig, err}
			}
			cfg, err := env.Resolve(time.Now(), true)
			if err != nil {
				return &exitError{ExitConfig, err}
			}
			fmt.Fprintf(stdout, "configuration: ok (sink %s, streams %d)\n", cfg.Sink, len(cfg.Pipeline.Streams))
			if !connect {
				return nil
			}
			problems := checkConnections(cmd.Context(), cfg, stdout)
			if len(problems) > 0 {
				return &exitError{ExitFailure, &ConnectError{Problems: problems}}
			}
			return nil
		},
	}
	check.Flags().BoolVar(&connect, "connect", false, "also reach the API and the sink")
	cmd.AddCommand(check)
	return cmd
}

// ConnectError lists every problem met reaching the API and the sink.
type ConnectError struct{ Problems []error }

func (e *ConnectError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d connection problem(s):", len(e.Problems))
	for _, p := range e.Problems {
		b.WriteString("\n  ")
		b.WriteString(p.Error())
	}
	return b.String()
}

func (e *ConnectError) Unwrap() []error { return e.Problems }

// checkConnections reaches the API and the sink, printing what worked and
// returning every problem.
func checkConnections(ctx context.Context, cfg *Config, stdout io.Writer) []error {
	var problems []error
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	cfg.API.QuotaBudget = 10 * time.Second
	member, app, err := cfg.Auth.TokenSources(nil)
	if err != nil {
		problems = append(problems, fmt.Errorf("authentication: %w", err))
	} else {
		cfg.API.TokenSource, cfg.API.AppTokenSource = member, app
		api, err := extract.New(cfg.API)
		switch {
		case err != nil:
			problems = append(problems, fmt.Errorf("API client: %w", err))
		case cfg.Auth.AccessToken != "" || cfg.Auth.RefreshToken != "":
			if cs, err := api.Contracts(ctx); err != nil {
				problems = append(problems, fmt.Errorf("API %s: listing contracts: %w", cfg.API.BaseURL, err))
			} else {
				fmt.Fprintf(stdout, "api: ok (%s, %d contract(s))\n", cfg.API.BaseURL, len(cs))
			}
		}
		if cfg.Auth.ClientID != "" {
			if _, err := app.Token(); err != nil {
				problems = append(problems, fmt.Errorf("client credentials at %s: %w", cfg.Auth.TokenURL, err))
			} else {
				fmt.Fprintln(stdout, "client credentials: ok")
			}
		}
	}
	switch cfg.Sink {
	case "clickhouse":
		ch, err := chsink.Open(ctx, cfg.ClickHouse)
		if err != nil {
			problems = append(problems, err)
		} else {
			where := chsink.RedactDSN(cfg.ClickHouse.DSN)
			if c := cfg.ClickHouse.Layout.Cluster; c != "" {
				where += fmt.Sprintf(", cluster %s: %s", c, strings.Join(ch.Shards(), "; "))
			}
			where += ", server version " + ch.Version().String()
			ch.Close()
			fmt.Fprintf(stdout, "sink: ok (ClickHouse %s)\n", where)
		}
	default:
		if storage.IsURL(cfg.Parquet.Dir) {
			if err := checkWritableBucket(ctx, cfg.Parquet.Dir, cfg.Blob); err != nil {
				problems = append(problems, fmt.Errorf("parquet storage: %w", err))
			} else {
				fmt.Fprintf(stdout, "sink: ok (Parquet %s)\n", cfg.Parquet.Dir)
			}
			break
		}
		if err := checkWritableDir(cfg.Parquet.Dir); err != nil {
			problems = append(problems, fmt.Errorf("parquet directory: %w", err))
		} else {
			fmt.Fprintf(stdout, "sink: ok (Parquet %s)\n", cfg.Parquet.Dir)
		}
	}
	return problems
}

// checkWritableDir creates dir when missing and a file in it.
func checkWritableDir(dir string) error {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".salesnav-check-*")
	if err != nil {
		return err
	}
	name := f.Name()
	f.Close()
	return os.Remove(filepath.Clean(name))
}

// checkWritableBucket opens the bucket of loc, writes an object in it and
// deletes it.
func checkWritableBucket(ctx context.Context, loc string, opts storage.BlobOptions) error {
	st, err := storage.OpenBlobStorage(ctx, loc, opts)
	if err != nil {
		return err
	}
	defer st.Close()
	name := fmt.Sprintf(".salesnav-check-%d", time.Now().UnixNano())
	if err := st.WriteAll(ctx, name, []byte("salesnav-etl config check\n")); err != nil {
		return err
	}
	return st.Remove(ctx, name)
}
