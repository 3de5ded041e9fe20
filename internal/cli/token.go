package cli

import (
	"encoding/json"
	"io"
	"time"

	"github.com/sethvargo/go-envconfig"
	"github.com/spf13/cobra"
)

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
