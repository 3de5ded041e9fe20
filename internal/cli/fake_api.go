package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/salesnav-etl/salesnav-etl/fakeapi"
)

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
		redirects   []string
	)
	cmd := &cobra.Command{
		Use:   "fake-api",
		Short: "Serve the embedded fake Sales Navigator API (deterministic data)",
		Long: `Serve the embedded fake Sales Navigator API: every operation of the real API
under /v2, deterministic data for a seed, jobs that complete on their second
poll, and signed download URLs that expire after an hour. Point the connector
at it with SALESNAV_API_URL=http://ADDR/v2 SALESNAV_ACCESS_TOKEN=TOKEN, or sign in
through its OAuth endpoints (/oauth/v2/authorization, accessToken,
introspectToken; client fake-client, secret fake-secret) with
SALESNAV_AUTH_URL=http://ADDR/oauth/v2/authorization
SALESNAV_TOKEN_URL=http://ADDR/oauth/v2/accessToken salesnav-etl auth login.`,
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
				Gzip: gz, CRMCreateBody: crmBody, URLTTL: urlTTL, MemberTokenTTL: tokenTTL, Faults: faults, Logger: log, CacheDir: cacheDir,
				RedirectURLs: redirects})
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
	f.DurationVar(&tokenTTL, "token-ttl", 60*24*time.Hour, "life of the member's access tokens issued by /oauth/v2/accessToken")
	f.StringSliceVar(&redirects, "redirect-url", []string{fakeapi.DefaultRedirectURL}, "redirect URLs registered for the fake application (client "+fakeapi.DefaultClientID+"), for auth login")
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
	f.BoolVar(&faults.DeclineAuthorization, "fault-decline-authorization", false, "the member declines at the authorization endpoint (error=user_cancelled_authorize)")
	f.BoolVar(&faults.NoRefreshToken, "fault-no-refresh-token", false, "the authorization code grant gives no refresh token (an app that is not an approved partner)")
	f.BoolVar(&faults.RevokedTokens, "fault-revoked-tokens", false, "every token is revoked: the API and the token endpoint refuse them, introspection says revoked")
	f.IntVar(&contracts, "contracts", 0, "serve this many contracts with reporting access, and one without (0: the default two and one)")
	f.Int64Var(&chaosSeed, "chaos-seed", 0, "mix every fault at random, drawn from this seed (fakeapi.DefaultChaos; 0: off)")
	return cmd
}
