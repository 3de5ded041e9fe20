package cli

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/sethvargo/go-envconfig"
	"github.com/spf13/cobra"
)

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
