package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"text/tabwriter"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/sethvargo/go-envconfig"
	"github.com/spf13/cobra"

	"github.com/salesnav-etl/salesnav-etl/extract"
	"github.com/salesnav-etl/salesnav-etl/pipeline"
	"github.com/salesnav-etl/salesnav-etl/schema"
)

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
			if doLoad {
				// The lease of the run's output, before the first lookup:
				// a run going on means no API call is spent.
				release, err := takeLeases(ctx, cfg, log, cfg.StatePath)
				if err != nil {
					return leaseExit(err)
				}
				defer release()
			}
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
	stats, err := pipeline.MergeAssociations(ctx, sink, results, time.Now(), memory.DefaultAllocator)
	if err != nil {
		return err
	}
	if stats.Rows > 0 {
		log.Info("profile associations loaded", "stream", schema.ProfileAssociations.Name, "rows", stats.Rows)
	}
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
