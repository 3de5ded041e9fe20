package cli

// Issue: alerts and dashboards tested on the real thing. The run command
// pushes to Debian's Pushgateway, started by the test on a loopback port.

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/salesnav-etl/salesnav-etl/fakeapi"
	"github.com/salesnav-etl/salesnav-etl/internal/promtest"
	"github.com/salesnav-etl/salesnav-etl/internal/testkit"
	"github.com/salesnav-etl/salesnav-etl/pipeline"
)

// Two runs push to a real Pushgateway, read back through its API: the
// run's group under instance and mode with the rows of each stream, and a
// last-success group per stream. The second run, which finds nothing new
// to load, replaces the first run's figures (its rows are 0, not added).
// The gateway's password (in the URL; a gateway without authentication
// ignores it), the client secret and the refresh token appear neither in
// the logs nor in what the gateway holds.
func TestRunPushesToPushgateway(t *testing.T) {
	pg := promtest.StartPushgateway(t, nil)
	fake := testkit.NewFake(t, fakeapi.Config{RowsPerDay: 20})
	const pgPW = "pg-Pa55-run-4d2"
	dir := t.TempDir()
	streams := []string{"contracts", "activity", "seat"}
	env := map[string]string{"SALESNAV_API_URL": fake.URL, "SALESNAV_TOKEN_URL": strings.TrimSuffix(fake.URL, "/v2") + "/oauth/v2/accessToken",
		"SALESNAV_CLIENT_ID": fakeapi.DefaultClientID, "SALESNAV_CLIENT_SECRET": fakeapi.DefaultClientSecret,
		"SALESNAV_REFRESH_TOKEN": fakeapi.DefaultRefreshToken, "SALESNAV_PARQUET_DIR": filepath.Join(dir, "out"),
		"SALESNAV_START": pipeline.Day(time.Now()).AddDate(0, 0, -3).Format(time.DateOnly), "SALESNAV_POLL_INTERVAL": "5ms",
		"SALESNAV_STREAMS": strings.Join(streams, ","), "SALESNAV_METRICS_INSTANCE": "prod-eu",
		"SALESNAV_PUSHGATEWAY_URL": strings.Replace(pg.URL, "://", "://ops:"+pgPW+"@", 1)}
	runKey := map[string]string{"job": "salesnav_etl", "instance": "prod-eu", "mode": "scheduled"}
	var logs strings.Builder
	run := func() promtest.Group {
		t.Helper()
		code, stdout, stderr := runCLI(t, env, "run")
		logs.WriteString(stdout + stderr)
		if code != ExitOK || !strings.Contains(stderr, `"msg":"metrics pushed"`) {
			t.Fatalf("exit %d, or no push logged:\n%s", code, stderr)
		}
		groups, err := pg.Groups(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(groups) != 1+len(streams) {
			t.Errorf("%d groups, want %d: the run's and a last success per stream: %v", len(groups), 1+len(streams), promtest.Keys(groups))
		}
		for _, s := range streams {
			g, ok := promtest.GroupWith(groups, map[string]string{"job": "salesnav_etl", "instance": "prod-eu", "stream": s})
			if v, _ := g.Value("salesnav_etl_last_success_timestamp_seconds", "stream", s); !ok || v <= 0 {
				t.Errorf("no last success for %s: %v", s, g.Metrics["salesnav_etl_last_success_timestamp_seconds"])
			}
		}
		g, ok := promtest.GroupWith(groups, runKey)
		if !ok {
			t.Fatalf("no group %v: %v", runKey, promtest.Keys(groups))
		}
		return g
	}

	first := run()
	loaded, _ := first.Value("salesnav_etl_rows_loaded_total", "stream", "activity")
	if loaded <= 0 {
		t.Errorf("the first run pushed %v activity rows, want > 0", loaded)
	}
	if v, ok := first.Value("salesnav_etl_exit_code"); !ok || v != ExitOK {
		t.Errorf("exit code pushed: %v (%v)", v, ok)
	}
	second := run()
	if v, ok := second.Value("salesnav_etl_rows_loaded_total", "stream", "activity"); !ok || v != 0 {
		t.Errorf("after a second run that loaded nothing, activity rows = %v (found %v), want 0: the second push replaces the first's %v", v, ok, loaded)
	}
	raw, err := pg.API(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	all := logs.String() + string(raw)
	for _, secret := range []string{pgPW, fakeapi.DefaultClientSecret, fakeapi.DefaultRefreshToken, "fake-issued-"} {
		if strings.Contains(all, secret) {
			t.Errorf("%q appears in the logs or the Pushgateway", secret)
		}
	}
}
