package cli

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"time"

	"github.com/sethvargo/go-envconfig"
	"github.com/spf13/cobra"

	"github.com/salesnav-etl/salesnav-etl/connector"
	"github.com/salesnav-etl/salesnav-etl/connector/airbyte"
	"github.com/salesnav-etl/salesnav-etl/internal/secret"
	"github.com/salesnav-etl/salesnav-etl/schema"
)

const airbyteHelp = `The Airbyte source protocol: each command writes Airbyte messages on standard
output, one JSON message a line, and nothing else (logs go as LOG messages).
--config is the connector configuration (JSON; salesnav-etl airbyte spec prints
its schema). Docker images run these commands without the word airbyte:
salesnav-etl spec, salesnav-etl read --config … (the image's AIRBYTE_ENTRYPOINT).
See docs/integrations.md.`

// airbyteCmds are the Airbyte commands, each made anew: once under
// "airbyte", once at the top (hidden), as the platform runs them.
type airbyteCmds struct {
	lookup         envconfig.Lookuper
	stop           <-chan struct{}
	stdout, stderr io.Writer
	secrets        *secret.Set
}

func newAirbyteCmd(a airbyteCmds) *cobra.Command {
	cmd := &cobra.Command{Use: "airbyte", Short: "Speak the Airbyte source protocol (spec, check, discover, read)", Long: airbyteHelp}
	cmd.AddCommand(a.commands(false)...)
	return cmd
}

// commands are spec, check, discover and read; hidden ones for the top
// level.
func (a airbyteCmds) commands(hidden bool) []*cobra.Command {
	var cfgPath, catalogPath, statePath, fakeNow string
	var debug bool
	flags := func(c *cobra.Command, withConfig bool) *cobra.Command {
		c.Hidden = hidden
		c.Args = cobra.NoArgs
		if withConfig {
			c.Flags().StringVar(&cfgPath, "config", "", "connector configuration (JSON)")
			c.Flags().StringVar(&fakeNow, "fake-now", "", "fix the clock at this RFC 3339 time (a fake API on loopback only)")
			_ = c.Flags().MarkHidden("fake-now")
		}
		c.Flags().BoolVar(&debug, "debug", false, "log at debug level")
		return c
	}
	spec := flags(&cobra.Command{Use: "spec", Short: "Print the connector's specification (SPEC)",
		RunE: func(*cobra.Command, []string) error {
			w := &airbyte.Writer{Out: connector.NewOutput(a.stdout)}
			return exitOn(w.Spec())
		}}, false)
	check := flags(&cobra.Command{Use: "check", Short: "Check the configuration and what the credentials reach (CONNECTION_STATUS)",
		RunE: func(cmd *cobra.Command, _ []string) error {
			w, log, now, err := a.setup(fakeNow, debug)
			if err != nil {
				return a.configFailed(w, err)
			}
			cc, err := readConnectorConfig(cfgPath, now(), a.secrets)
			if err == nil {
				err = checkFakeNow(fakeNow, cc)
			}
			if err != nil {
				// A configuration problem is a failed check (the protocol).
				return exitOn(w.Checked(err))
			}
			cfg, err := connectorRunConfig(cmd.Context(), a.lookup, cc, cc.Streams, now())
			if err != nil {
				return exitOn(w.Checked(err))
			}
			cfg.API.QuotaBudget = 10 * time.Second
			api, appToken, err := connectorAPI(cfg, log)
			if err != nil {
				return exitOn(w.Checked(err))
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), 2*time.Minute)
			defer cancel()
			return exitOn(w.Checked(connector.Check(ctx, api, cc, appToken)))
		}}, true)
	discover := flags(&cobra.Command{Use: "discover", Short: "Print the catalog of the configured streams (CATALOG)",
		RunE: func(*cobra.Command, []string) error {
			w, _, now, err := a.setup(fakeNow, debug)
			if err != nil {
				return a.configFailed(w, err)
			}
			cc, err := readConnectorConfig(cfgPath, now(), a.secrets)
			if err != nil {
				return a.configFailed(w, err)
			}
			return exitOn(w.Catalog(cc.Streams))
		}}, true)
	read := flags(&cobra.Command{Use: "read", Short: "Read the configured catalog's streams (RECORD, STATE, TRACE)",
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.read(cmd.Context(), cfgPath, catalogPath, statePath, fakeNow, debug)
		}}, true)
	read.Flags().StringVar(&catalogPath, "catalog", "", "configured catalog (JSON)")
	read.Flags().StringVar(&statePath, "state", "", "state: the array of state messages Airbyte passes back")
	return []*cobra.Command{spec, check, discover, read}
}

// setup makes the writer, the logger (LOG messages) and the clock.
func (a airbyteCmds) setup(fakeNow string, debug bool) (*airbyte.Writer, *slog.Logger, func() time.Time, error) {
	now, err := connectorClock(fakeNow)
	w := &airbyte.Writer{Out: connector.NewOutput(a.stdout), Now: now}
	level := slog.LevelInfo
	if lvl, ok := a.lookup.Lookup(envPrefix + "LOG_LEVEL"); ok {
		_ = level.UnmarshalText([]byte(lvl))
	}
	if debug {
		level = slog.LevelDebug
	}
	return w, slog.New(airbyte.LogHandler(w, level)), now, err
}

// configFailed writes a configuration problem as a config_error trace and
// exits 2.
func (a airbyteCmds) configFailed(w *airbyte.Writer, err error) error {
	_ = w.Error("", err.Error(), "", airbyte.ConfigError)
	return &exitError{ExitConfig, err}
}

func (a airbyteCmds) read(ctx context.Context, cfgPath, catalogPath, statePath, fakeNow string, debug bool) error {
	w, log, now, err := a.setup(fakeNow, debug)
	if err != nil {
		return a.configFailed(w, err)
	}
	cc, err := readConnectorConfig(cfgPath, now(), a.secrets)
	if err == nil {
		err = checkFakeNow(fakeNow, cc)
	}
	if err != nil {
		return a.configFailed(w, err)
	}
	if catalogPath == "" {
		return a.configFailed(w, &ConfigError{Problems: []error{errors.New("--catalog: required: the configured catalog (JSON)")}})
	}
	streams, err := readInput("catalog", catalogPath, airbyte.ParseCatalog)
	if err != nil {
		return a.configFailed(w, err)
	}
	incoming, err := readInput("state", statePath, airbyte.ParseState)
	if err != nil {
		return a.configFailed(w, err)
	}
	picked := make([]*schema.Stream, len(streams))
	for i, s := range streams {
		picked[i] = s.Stream
	}
	cfg, err := connectorRunConfig(ctx, a.lookup, cc, picked, now())
	if err != nil {
		return a.configFailed(w, err)
	}
	run, rejectsDir, cleanup, err := connectorRun(cfg, log, a.stop, now)
	if err != nil {
		return a.configFailed(w, err)
	}
	defer cleanup()
	r := &airbyte.Read{W: w, Streams: streams, State: incoming, Log: log,
		Rejects: func() ([]connector.RejectCount, error) { return connector.CountRejects(rejectsDir) }}
	sum, err := r.Run(ctx, run)
	code, err := connectorOutcome(sum, err)
	if code == ExitOK {
		return nil
	}
	return &exitError{code, err}
}

// exitOn exits 1 when the messages could not be written.
func exitOn(err error) error {
	if err != nil {
		return &exitError{ExitFailure, err}
	}
	return nil
}
