package cli

import (
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/sethvargo/go-envconfig"
	"github.com/spf13/cobra"

	"github.com/salesnav-etl/salesnav-etl/load"
	"github.com/salesnav-etl/salesnav-etl/load/storage"
	"github.com/salesnav-etl/salesnav-etl/schema"
)

func newStateCmd(lookup envconfig.Lookuper, stdout, stderr io.Writer) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "state",
		Short: "Show or reset the cursors and jobs in flight (of the configured sink)",
	}
	// open opens the state; for writing (reset), under the leases of
	// every state file it rewrites: its own and its peers'.
	open := func(cmd *cobra.Command, write bool) (load.StateStore, func(), error) {
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
		if cfg.Sink != "clickhouse" && !storage.IsURL(cfg.StatePath) {
			// Checked before the sink opens, which would make the directory.
			if family, _ := load.StateFamily(cfg.StatePeers); len(family) == 0 {
				if _, err := os.Stat(cfg.StatePath); err != nil {
					return nil, nil, &exitError{ExitFailure, fmt.Errorf("no state at %s: %w", cfg.StatePath, err)}
				}
			}
		}
		release := func() {}
		if write {
			if release, err = takeLeases(cmd.Context(), cfg, log, cfg.StatePath); err != nil {
				return nil, nil, leaseExit(err)
			}
		}
		_, state, closeSink, err := openSink(cmd.Context(), cfg, log)
		if err != nil {
			release()
			return nil, nil, &exitError{ExitFailure, err}
		}
		done := func() { closeSink(); release() }
		// The run's own file, or any of its family (the shards').
		fs, ok := state.(*load.FileState)
		if ok && !fs.Found() {
			done()
			return nil, nil, &exitError{ExitFailure, fmt.Errorf("no state at %s: %w", fs.Path(), os.ErrNotExist)}
		}
		if write && ok {
			own := load.StateShard(cfg.StatePath)
			var peers []string
			for _, p := range fs.Peers() {
				if load.StateShard(p) != own {
					peers = append(peers, p)
				}
			}
			releasePeers, err := takeLeases(cmd.Context(), cfg, log, peers...)
			if err != nil {
				done()
				return nil, nil, leaseExit(err)
			}
			done = func() { closeSink(); releasePeers(); release() }
		}
		return state, done, nil
	}
	var asJSON bool
	show := &cobra.Command{
		Use:   "show",
		Short: "Print every cursor and job in flight",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			state, done, err := open(cmd, false)
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
				if e.Problem != "" {
					cur, job = "UNREADABLE", e.Problem
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
			state, done, err := open(cmd, true)
			if err != nil {
				return err
			}
			defer done()
			n, err := state.Reset(cmd.Context(), stream, contract)
			if err != nil {
				return &exitError{ExitFailure, err}
			}
			fmt.Fprintf(stdout, "reset %d cursor(s) of %s\n", n, stream)
			if stream == schema.CRMValidation.Name {
				// The exports loaded again may start before the
				// associations' watermarks (pipeline/assockeys.go): the
				// next run reads them all again.
				n, err := state.Reset(cmd.Context(), schema.ProfileAssociations.Name, contract)
				if err != nil {
					return &exitError{ExitFailure, err}
				}
				fmt.Fprintf(stdout, "reset %d watermark(s) of %s\n", n, schema.ProfileAssociations.Name)
			}
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
