package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/salesnav-etl/salesnav-etl/fakeapi"
	"github.com/salesnav-etl/salesnav-etl/internal/chtest"
	"github.com/salesnav-etl/salesnav-etl/internal/testkit"
	"github.com/salesnav-etl/salesnav-etl/pipeline"
)

// Issue 7: no secret in any output, on the paths where errors are made:
// a ClickHouse run under chaos (retries, failed downloads and jobs, all
// logged), a wrong ClickHouse password, config check --connect with wrong
// credentials. Everything the runs print, log and write (summary, metrics
// file) is searched for the access token, the client secret, the refresh
// token, tokens the fake issued, URL signatures and DSN passwords.
func TestNoSecretsInAnyOutput(t *testing.T) {
	ch := chtest.Start(t)
	t.Cleanup(ch.Close)
	fake := testkit.NewFake(t, fakeapi.Config{RowsPerDay: 40, Faults: fakeapi.Faults{Chaos: fakeapi.DefaultChaos(3)}})
	root := strings.TrimSuffix(fake.URL, "/v2")
	dir := t.TempDir()
	base := map[string]string{"SALESNAV_API_URL": fake.URL, "SALESNAV_TOKEN_URL": root + "/oauth/v2/accessToken",
		"SALESNAV_CLIENT_ID": fakeapi.DefaultClientID, "SALESNAV_CLIENT_SECRET": fakeapi.DefaultClientSecret,
		"SALESNAV_REFRESH_TOKEN": fakeapi.DefaultRefreshToken, "SALESNAV_SINK": "clickhouse", "SALESNAV_CLICKHOUSE_DSN": ch.DSN("secrets"),
		"SALESNAV_PARQUET_DIR": filepath.Join(dir, "out"), "SALESNAV_START": pipeline.Day(time.Now()).AddDate(0, 0, -4).Format(time.DateOnly),
		"SALESNAV_STREAMS":       "contracts,seat,activity,activity_outcome,crm_validation,profile_associations",
		"SALESNAV_CRM_INSTANCES": "urn:li:crmInstance:(SFDC,00D1)", "SALESNAV_POLL_INTERVAL": "5ms", "SALESNAV_RETRY_DELAY": "10ms",
		"SALESNAV_METRICS_FILE": filepath.Join(dir, "m.prom"), "SALESNAV_PROGRESS_INTERVAL": "1ms", "SALESNAV_LOG_LEVEL": "debug"}
	with := func(extra map[string]string) map[string]string {
		env := map[string]string{}
		for k, v := range base {
			env[k] = v
		}
		for k, v := range extra {
			env[k] = v
		}
		return env
	}
	var all strings.Builder
	faults := 0
	for range 3 {
		began := time.Now()
		code, stdout, stderr := runCLI(t, base, "run", "--summary", filepath.Join(dir, "summary.json"))
		t.Logf("run: exit %d in %v", code, time.Since(began))
		all.WriteString(stdout + stderr)
		if code != ExitOK {
			faults++
		}
		for _, f := range []string{"summary.json", "m.prom"} {
			raw, _ := os.ReadFile(filepath.Join(dir, f))
			all.Write(raw)
		}
	}
	wrongPW := "Wr0ng-pw-" + "7c1e"
	badDSN := strings.Replace(ch.DSN("secrets"), chtest.Password, wrongPW, 1)
	began := time.Now()
	code, stdout, stderr := runCLI(t, with(map[string]string{"SALESNAV_CLICKHOUSE_DSN": badDSN}), "run")
	t.Logf("wrong password: exit %d in %v", code, time.Since(began))
	began = time.Now()
	all.WriteString(stdout + stderr)
	if code == ExitOK || !strings.Contains(stderr, "secrets") {
		t.Errorf("a wrong ClickHouse password: exit %d, and the error should name the DSN without its password:\n%s", code, stderr)
	}
	code, stdout, stderr = runCLI(t, with(map[string]string{"SALESNAV_CLICKHOUSE_DSN": badDSN, "SALESNAV_CLIENT_SECRET": "wrong-client-secret-9d",
		"SALESNAV_ACCESS_TOKEN": "static-token-5b1"}), "config", "check", "--connect")
	all.WriteString(stdout + stderr)
	t.Logf("config check: exit %d in %v", code, time.Since(began))
	if code == ExitOK {
		t.Errorf("config check --connect passed with wrong credentials")
	}
	out := all.String()
	if !strings.Contains(out, "download failed") && !strings.Contains(out, "retryable status") && faults == 0 {
		t.Error("no fault reached the output: the search proves little")
	}
	for _, secret := range []string{chtest.Password, wrongPW, fakeapi.DefaultClientSecret, "wrong-client-secret-9d", fakeapi.DefaultRefreshToken,
		"static-token-5b1", "fake-issued-", "sig="} {
		if strings.Contains(out, secret) {
			i := strings.Index(out, secret)
			t.Errorf("%q appears in the output: …%s…", secret, out[max(0, i-200):min(len(out), i+100)])
		}
	}
}
