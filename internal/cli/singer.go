package cli

import (
	"encoding/json"
	"errors"
	"io"

	"github.com/sethvargo/go-envconfig"
	"github.com/spf13/cobra"

	"github.com/salesnav-etl/salesnav-etl/connector"
	"github.com/salesnav-etl/salesnav-etl/connector/singer"
	"github.com/salesnav-etl/salesnav-etl/internal/secret"
	"github.com/salesnav-etl/salesnav-etl/schema"
)

// singerTap is the program name under which salesnav-etl is the Singer
// tap (a link or copy of the binary so named): Meltano runs an
// extractor's executable with the tap's own arguments.
const singerTap = "tap-salesnav"

func newSingerCmd(lookup envconfig.Lookuper, stop <-chan struct{}, stdout, stderr io.Writer, secrets *secret.Set) *cobra.Command {
	var cfgPath, catalogPath, propertiesPath, statePath, fakeNow string
	var discover bool
	cmd := &cobra.Command{
		Use:   "singer",
		Short: "Run as a Singer tap (Meltano): --discover, or sync to SCHEMA, RECORD and STATE messages",
		Long: `Run as a Singer tap: with --discover, print the catalog of every stream (those of
the configuration's streams selected); else sync the streams a catalog selects
(--catalog, or --properties; without one, the configuration's streams),
printing SCHEMA before a stream's first RECORD, then RECORD and STATE messages,
one JSON message a line on standard output. --state takes back the value of
the last STATE message. Logs go to standard error. A link to the binary named
tap-salesnav is this command. See docs/integrations.md.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			now, err := connectorClock(fakeNow)
			if err != nil {
				return &exitError{ExitConfig, err}
			}
			cc, err := readConnectorConfig(cfgPath, now(), secrets)
			if err == nil {
				err = checkFakeNow(fakeNow, cc)
			}
			if err != nil {
				return &exitError{ExitConfig, err}
			}
			if discover {
				enc := json.NewEncoder(stdout)
				enc.SetIndent("", "  ")
				return exitOn(enc.Encode(singer.CatalogOf(cc.Streams)))
			}
			if catalogPath != "" && propertiesPath != "" {
				return &exitError{ExitConfig, errors.New("--catalog and --properties: give one")}
			}
			streams := make([]singer.Selected, 0, len(cc.Streams))
			for _, st := range cc.Streams {
				streams = append(streams, singer.Selected{Stream: st, Incremental: connector.Incremental(st)})
			}
			flag, path := "catalog", catalogPath
			if propertiesPath != "" {
				flag, path = "properties", propertiesPath
			}
			if path != "" {
				if streams, err = readInput(flag, path, singer.ParseCatalog); err != nil {
					return &exitError{ExitConfig, err}
				}
			}
			incoming, err := readInput("state", statePath, singer.ParseState)
			if err != nil {
				return &exitError{ExitConfig, err}
			}
			picked := make([]*schema.Stream, len(streams))
			for i, s := range streams {
				picked[i] = s.Stream
			}
			cfg, err := connectorRunConfig(cmd.Context(), lookup, cc, picked, now())
			if err != nil {
				return &exitError{ExitConfig, err}
			}
			log := newLogger(stderr, cfg.LogLevel, cfg.LogFormat, isTerminal(stderr))
			run, rejectsDir, cleanup, err := connectorRun(cfg, log, stop, now)
			if err != nil {
				return &exitError{ExitConfig, err}
			}
			defer cleanup()
			s := &singer.Sync{W: &singer.Writer{Out: connector.NewOutput(stdout), Now: now}, Streams: streams, State: incoming, Log: log,
				Rejects: func() ([]connector.RejectCount, error) { return connector.CountRejects(rejectsDir) }}
			sum, err := s.Run(cmd.Context(), run)
			if sum != nil {
				sum.Log(log)
			}
			code, err := connectorOutcome(sum, err)
			if code == ExitOK {
				return nil
			}
			return &exitError{code, err}
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfgPath, "config", "", "connector configuration (JSON)")
	f.BoolVar(&discover, "discover", false, "print the catalog")
	f.StringVar(&catalogPath, "catalog", "", "catalog: the streams selected in their metadata are synced")
	f.StringVar(&propertiesPath, "properties", "", "the same as --catalog (older taps' name)")
	f.StringVar(&statePath, "state", "", "state: the value of the last STATE message")
	f.StringVar(&fakeNow, "fake-now", "", "fix the clock at this RFC 3339 time (a fake API on loopback only)")
	_ = f.MarkHidden("fake-now")
	return cmd
}
