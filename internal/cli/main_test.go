package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sethvargo/go-envconfig"

	"github.com/salesnav-etl/salesnav-etl/extract"
	"github.com/salesnav-etl/salesnav-etl/fakeapi"
	"github.com/salesnav-etl/salesnav-etl/internal/testkit"
	"github.com/salesnav-etl/salesnav-etl/pipeline"
)

func runCLI(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := execute(context.Background(), nil, args, envconfig.MapLookuper(env), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestBadConfigExits2NamingEveryVariable(t *testing.T) {
	dir := t.TempDir()
	code, _, stderr := runCLI(t, map[string]string{
		"SALESNAV_START":            "2026-13-01",
		"SALESNAV_END":              "yesterday",
		"SALESNAV_MAX_REJECT_RATIO": "abc",
		"SALESNAV_STREAMS":          "seat,bogus",
		"SALESNAV_API_URL":          "http://api.example.com/v2",
		"SALESNAV_SINK":             "csv",
		"SALESNAV_CONCURRENCY":      "0",
		"SALESNAV_POLL_INTERVAL":    "soon",
		"SALESNAV_PARQUET_DIR":      dir,
	}, "run")
	if code != ExitConfig {
		t.Fatalf("exit %d, want %d; stderr:\n%s", code, ExitConfig, stderr)
	}
	for _, v := range []string{"SALESNAV_START", "SALESNAV_END", "SALESNAV_MAX_REJECT_RATIO", "SALESNAV_STREAMS: unknown stream \"bogus\"",
		"SALESNAV_API_URL", "SALESNAV_SINK", "SALESNAV_CONCURRENCY", "SALESNAV_POLL_INTERVAL", "SALESNAV_ACCESS_TOKEN"} {
		if !strings.Contains(stderr, v) {
			t.Errorf("stderr does not name %s:\n%s", v, stderr)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("a config error wrote %d entries", len(entries))
	}
}

func TestFlagErrorNamesTheFlag(t *testing.T) {
	code, _, stderr := runCLI(t, map[string]string{"SALESNAV_ACCESS_TOKEN": "x"}, "run", "--streams", "nope")
	if code != ExitConfig || !strings.Contains(stderr, "--streams") {
		t.Fatalf("exit %d, stderr %s", code, stderr)
	}
	code, _, stderr = runCLI(t, nil, "run", "--no-such-flag")
	if code != ExitConfig || !strings.Contains(stderr, "no-such-flag") {
		t.Fatalf("unknown flag: exit %d, stderr %s", code, stderr)
	}
}

func TestStartNotBeforeEnd(t *testing.T) {
	code, _, stderr := runCLI(t, map[string]string{"SALESNAV_ACCESS_TOKEN": "x", "SALESNAV_START": "2026-03-05", "SALESNAV_END": "2026-03-05"}, "run")
	if code != ExitConfig || !strings.Contains(stderr, "SALESNAV_START: 2026-03-05 is not before the end") {
		t.Fatalf("exit %d, stderr %s", code, stderr)
	}
}

func TestRunWithEmbeddedFakeAPI(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	summary := filepath.Join(dir, "summary.json")
	env := map[string]string{"SALESNAV_PARQUET_DIR": out, "SALESNAV_START": "2026-02-01", "SALESNAV_END": "2026-02-08"}
	code, stdout, stderr := runCLI(t, env, "run", "--fake-api", "--summary", summary)
	if code != ExitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "run complete") || !strings.Contains(stdout, "duckdb -c") || !strings.Contains(stdout, "pd.read_parquet") {
		t.Errorf("stdout lacks the summary or the read hints:\n%s", stdout)
	}
	var sum pipeline.Summary
	raw, err := os.ReadFile(summary)
	if err != nil || json.Unmarshal(raw, &sum) != nil {
		t.Fatalf("summary file: %v %s", err, raw)
	}
	for _, s := range []string{"seat", "activity", "activity_outcome"} {
		ds := testkit.ReadDataset(t, out, s)
		if len(ds.Rows) == 0 || int64(len(ds.Rows)) != sum.Streams[s].Rows {
			t.Errorf("%s: %d rows on disk, summary says %d", s, len(ds.Rows), sum.Streams[s].Rows)
		}
	}
	// DuckDB reads the dataset as a user would: the same rows, the types
	// analysts expect, and the Hive partition columns. A subtest, so that
	// the checks after it run even where DuckDB is missing (skipped locally).
	t.Run("duckdb", func(t *testing.T) {
		glob := func(stream string) string {
			return "read_parquet('" + filepath.ToSlash(out) + "/" + stream + "/**/*.parquet', hive_partitioning=true)"
		}
		res := testkit.DuckDB(t,
			"SELECT count(*) AS n, count(DISTINCT activityId) AS ids FROM "+glob("activity"),
			"SELECT count(*) AS n FROM "+glob("activity_outcome"),
			"SELECT count(*) AS n, count(DISTINCT date) AS dates FROM "+glob("seat"),
			"SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM "+glob("activity")+")",
			"SELECT count(*) AS n FROM "+glob("activity")+" WHERE CAST(createdAt AS DATE) <> date OR _contract NOT LIKE '%:' || contract",
		)
		if n, ids := res[0][0]["n"], res[0][0]["ids"]; n != ids || n != strconv.FormatInt(sum.Streams["activity"].Rows, 10) {
			t.Errorf("duckdb sees %v activity rows (%v distinct ids), the run loaded %d", n, ids, sum.Streams["activity"].Rows)
		}
		if n := res[1][0]["n"]; n != strconv.FormatInt(sum.Streams["activity_outcome"].Rows, 10) {
			t.Errorf("duckdb sees %v outcome rows, the run loaded %d", n, sum.Streams["activity_outcome"].Rows)
		}
		if n, dates := res[2][0]["n"], res[2][0]["dates"]; n != "50" || dates != "1" {
			t.Errorf("duckdb sees %v seat rows over %v dates, want 50 over 1", n, dates)
		}
		types := map[string]string{}
		for _, row := range res[3] {
			types[row["column_name"].(string)] = row["column_type"].(string)
		}
		for col, want := range map[string]string{"activityId": "VARCHAR", "createdAt": "TIMESTAMP WITH TIME ZONE", "seatId": "BIGINT",
			"_window_start": "TIMESTAMP WITH TIME ZONE", "_job_id": "BIGINT", "date": "DATE"} {
			if types[col] != want {
				t.Errorf("duckdb types %s as %q, want %s", col, types[col], want)
			}
		}
		if n := res[4][0]["n"]; n != "0" {
			t.Errorf("%v rows sit in a partition that is not their own date and contract", n)
		}
	})
	// Logs are JSON lines with structured keys, and never the token.
	for _, line := range strings.Split(strings.TrimSpace(stderr), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
	}
	if !strings.Contains(stderr, `"stream":"activity"`) || !strings.Contains(stderr, `"job":`) {
		t.Errorf("logs lack stream/job keys")
	}
	for _, s := range []string{"seat", "activity", "activity_outcome"} {
		want := fmt.Sprintf(`"msg":"stream summary","stream":"%s","windows":2,"rows":%d`, s, sum.Streams[s].Rows)
		if !strings.Contains(stderr, want) {
			t.Errorf("logs lack the summary line %s", want)
		}
	}
	if strings.Contains(stderr+stdout, "fake-token") {
		t.Error("the token appears in the output")
	}
	// A second run has nothing to do.
	before := testkit.ReadDataset(t, out, "activity")
	code, stdout, _ = runCLI(t, env, "run", "--fake-api")
	after := testkit.ReadDataset(t, out, "activity")
	if code != ExitOK || len(after.Rows) != len(before.Rows) || !strings.Contains(stdout, "activity        0") {
		t.Errorf("re-run: exit %d, rows %d → %d\n%s", code, len(before.Rows), len(after.Rows), stdout)
	}
}

func TestDefaultEndIsYesterday(t *testing.T) {
	e, err := LoadEnv(context.Background(), envconfig.MapLookuper(map[string]string{"SALESNAV_ACCESS_TOKEN": "x"}))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 27, 11, 0, 0, 0, time.UTC)
	cfg, err := e.Resolve(now, true)
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Pipeline.End.Format(time.DateOnly); got != "2026-11-26" {
		t.Errorf("default end %s, want 2026-11-26 (exclusive: data through 11-25)", got)
	}
	if got := cfg.Pipeline.Start.Format(time.DateOnly); got != "2026-10-27" {
		t.Errorf("default start %s, want 30 days before the end", got)
	}
	if cfg.StatePath != filepath.Join("out", "_state.json") || cfg.Pipeline.RejectsDir != filepath.Join("out", "_rejects") {
		t.Errorf("state %s, rejects %s", cfg.StatePath, cfg.Pipeline.RejectsDir)
	}
}

// The README's two-process flow: `salesnav-etl fake-api` on a port, and
// `run` pointed at it by SALESNAV_API_URL and SALESNAV_ACCESS_TOKEN.
func TestFakeAPICommandServesTheRun(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	var fakeErr bytes.Buffer
	go func() {
		done <- execute(ctx, nil, []string{"fake-api", "--addr", addr, "--token", "T0k", "--seed", "7", "--rows-per-day", "40",
			"--fault-429-every", "5", "--fault-5xx-every", "7", "--fault-drop-downloads", "1", "--url-ttl", "10m", "--token-ttl", "1h"},
			envconfig.MapLookuper(nil), io.Discard, &fakeErr)
	}()
	defer func() {
		cancel()
		if code := <-done; code != ExitOK {
			t.Errorf("fake-api exited %d: %s", code, fakeErr.String())
		}
	}()
	// Wait for the listener.
	for i := 0; ; i++ {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			break
		}
		if i > 200 {
			t.Fatalf("fake-api did not listen on %s: %s", addr, fakeErr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	out := t.TempDir()
	env := map[string]string{"SALESNAV_API_URL": "http://" + addr + "/v2", "SALESNAV_ACCESS_TOKEN": "T0k",
		"SALESNAV_PARQUET_DIR": out, "SALESNAV_START": "2026-02-01", "SALESNAV_END": "2026-02-03",
		"SALESNAV_POLL_INTERVAL": "5ms", "SALESNAV_STREAMS": "activity"}
	code, stdout, stderr := runCLI(t, env, "run")
	if code != ExitOK {
		t.Fatalf("run exited %d\n%s\n%s", code, stdout, stderr)
	}
	if n := len(testkit.ReadDataset(t, out, "activity").Rows); n < 2*2*32 || n > 2*2*48 {
		t.Errorf("%d activity rows for 2 contracts × 2 days at 40/day ±20%%", n)
	}
	// A wrong token fails the run with exit 1 and LinkedIn's 401 message.
	env["SALESNAV_ACCESS_TOKEN"] = "wrong"
	code, _, stderr = runCLI(t, env, "run")
	if code != ExitFailure || !strings.Contains(stderr, "HTTP 401") {
		t.Errorf("wrong token: exit %d, stderr %s", code, stderr)
	}
}

func TestContractsAndTokenCommands(t *testing.T) {
	code, stdout, stderr := runCLI(t, nil, "contracts", "--fake-api")
	if code != ExitOK || strings.Count(stdout, "urn:li:salesContract:") != 3 || !strings.Contains(stdout, "Acme Corp Trial") {
		t.Fatalf("contracts: %d\n%s\n%s", code, stdout, stderr)
	}
	code, stdout, _ = runCLI(t, nil, "contracts", "--fake-api", "--json")
	var cs []struct {
		Contract           string `json:"contract"`
		HasReportingAccess bool   `json:"hasReportingAccess"`
	}
	if code != ExitOK || json.Unmarshal([]byte(stdout), &cs) != nil || len(cs) != 3 || cs[2].HasReportingAccess {
		t.Fatalf("contracts --json: %d %s", code, stdout)
	}
	code, stdout, stderr = runCLI(t, nil, "token", "--fake-api")
	var tok struct {
		Token      string `json:"token"`
		ExpiryTime int64  `json:"expiryTime"`
		ExpiresAt  string `json:"expiresAt"`
	}
	if code != ExitOK || json.Unmarshal([]byte(stdout), &tok) != nil || tok.Token == "" {
		t.Fatalf("token: %d %s %s", code, stdout, stderr)
	}
	exp, err := time.Parse(time.RFC3339, tok.ExpiresAt)
	if err != nil || !exp.After(time.Now()) || exp.After(time.Now().Add(2*time.Hour)) || exp.Unix() != tok.ExpiryTime {
		t.Errorf("expiresAt %q (expiryTime %d): want a future RFC 3339 time from seconds", tok.ExpiresAt, tok.ExpiryTime)
	}
	if strings.Contains(stderr, tok.Token) {
		t.Error("the token appears in the logs")
	}
	if code, _, stderr := runCLI(t, nil, "token"); code != ExitConfig || !strings.Contains(stderr, "SALESNAV_ACCESS_TOKEN") {
		t.Errorf("token without credentials: %d %s", code, stderr)
	}
	// Sink settings do not concern these commands.
	if code, _, stderr := runCLI(t, map[string]string{"SALESNAV_SINK": "clickhouse"}, "contracts", "--fake-api"); code != ExitOK {
		t.Errorf("contracts with an incomplete sink configuration: %d %s", code, stderr)
	}
}

func TestSplitURNs(t *testing.T) {
	got := splitURNs(" urn:li:crmInstance:(SFDC,00D1),urn:li:crmInstance:(DYNAMICS,org-2);\nurn:li:crmInstance:(SFDC,00D3) ")
	want := []string{"urn:li:crmInstance:(SFDC,00D1)", "urn:li:crmInstance:(DYNAMICS,org-2)", "urn:li:crmInstance:(SFDC,00D3)"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("splitURNs = %q, want %q", got, want)
	}
}

func TestCRMConfigErrorsNameTheirVariable(t *testing.T) {
	dir := t.TempDir()
	keys := filepath.Join(dir, "keys.csv")
	os.WriteFile(keys, []byte("instanceId,partner,recordId\n00D1,SFDC,r1\n00D1,,r2\n"), 0o600)
	code, _, stderr := runCLI(t, map[string]string{"SALESNAV_ACCESS_TOKEN": "x", "SALESNAV_PARQUET_DIR": dir,
		"SALESNAV_STREAMS": "crm_validation,profile_associations", "SALESNAV_ASSOCIATION_KEYS_FILE": keys,
		"SALESNAV_ASSOCIATION_BATCH_SIZE": "1000"}, "run")
	for _, want := range []string{"SALESNAV_CRM_INSTANCES: not set", "SALESNAV_ASSOCIATION_KEYS_FILE: " + keys + ": line 3: column partner is empty",
		"SALESNAV_ASSOCIATION_BATCH_SIZE"} {
		if code != ExitConfig || !strings.Contains(stderr, want) {
			t.Errorf("exit %d, stderr lacks %q:\n%s", code, want, stderr)
		}
	}
	code, _, stderr = runCLI(t, map[string]string{"SALESNAV_ACCESS_TOKEN": "x", "SALESNAV_PARQUET_DIR": dir,
		"SALESNAV_STREAMS": "crm_validation", "SALESNAV_CRM_INSTANCES": "urn:li:crmInstance:(SFDC,00D1) urn:li:crmInstance:SFDC"}, "run")
	if code != ExitConfig || !strings.Contains(stderr, `SALESNAV_CRM_INSTANCES: "urn:li:crmInstance:SFDC" is not urn:li:crmInstance:(PARTNER,INSTANCE_ID)`) {
		t.Errorf("bad CRM instance: exit %d\n%s", code, stderr)
	}
}

func TestAssociationsCommand(t *testing.T) {
	dir := t.TempDir()
	keys := filepath.Join(dir, "keys.csv")
	os.WriteFile(keys, []byte("instanceId,partner,recordId\n00D1,SFDC,003abc\n00D1,SFDC,\"a,b(c):d\"\n00D1,SFDC,error-1\n00D1,SFDC,x5\n"), 0o600)
	code, stdout, stderr := runCLI(t, nil, "associations", "--fake-api", "--input", keys)
	if code != ExitOK || strings.Count(stdout, "\n") != 5 || !strings.Contains(stdout, "a,b(c):d  MATCHED") || !strings.Contains(stdout, "ERROR") {
		t.Fatalf("associations: %d\n%s\n%s", code, stdout, stderr)
	}
	out := filepath.Join(dir, "out")
	code, stdout, stderr = runCLI(t, map[string]string{"SALESNAV_PARQUET_DIR": out}, "associations", "--fake-api", "--input", keys, "--json", "--load", "--batch-size", "3")
	var res []struct {
		RecordID string `json:"recordId"`
		Status   string `json:"status"`
	}
	if code != ExitOK || json.Unmarshal([]byte(stdout), &res) != nil || len(res) != 4 {
		t.Fatalf("associations --json --load: %d\n%s\n%s", code, stdout, stderr)
	}
	ds := testkit.ReadDataset(t, out, "profile_associations")
	if len(ds.Rows) != 4 {
		t.Fatalf("--load wrote %d rows, want 4", len(ds.Rows))
	}
	loaded := map[string]string{}
	for _, row := range ds.Rows {
		var m map[string]any
		json.Unmarshal([]byte(row), &m)
		loaded[fmt.Sprint(m["recordId"])] = fmt.Sprint(m["status"])
	}
	for _, r := range res {
		if loaded[r.RecordID] != r.Status {
			t.Errorf("printed %+v, loaded %q", r, loaded[r.RecordID])
		}
	}
	// Loaded again: still one row per key.
	runCLI(t, map[string]string{"SALESNAV_PARQUET_DIR": out}, "associations", "--fake-api", "--input", keys, "--load")
	if n := len(testkit.ReadDataset(t, out, "profile_associations").Rows); n != 4 {
		t.Errorf("%d rows after loading twice, want 4", n)
	}
	// Client credentials alone are enough for lookups.
	fake := testkit.NewFake(t, fakeapi.Config{})
	code, stdout, stderr = runCLI(t, map[string]string{"SALESNAV_API_URL": fake.URL,
		"SALESNAV_TOKEN_URL": strings.TrimSuffix(fake.URL, "/v2") + "/oauth/v2/accessToken",
		"SALESNAV_CLIENT_ID": fakeapi.DefaultClientID, "SALESNAV_CLIENT_SECRET": fakeapi.DefaultClientSecret}, "associations", "--input", keys)
	if code != ExitOK || strings.Count(stdout, "\n") != 5 {
		t.Errorf("associations with client credentials only: %d\n%s\n%s", code, stdout, stderr)
	}
	// An error never replaces an answer loaded before.
	cfg := &Config{Sink: "parquet"}
	cfg.Parquet.Dir = out
	k := extract.AssociationKey{InstanceID: "00D1", Partner: "SFDC", RecordID: "003abc"}
	log := slog.New(slog.DiscardHandler)
	if err := loadAssociations(context.Background(), cfg, log, []extract.AssociationResult{{Key: k, Status: 500, Error: "boom"}}); err != nil {
		t.Fatal(err)
	}
	for _, row := range testkit.ReadDataset(t, out, "profile_associations").Rows {
		if strings.Contains(row, `"recordId":"003abc"`) && !strings.Contains(row, `"status":"UNMATCHED"`) {
			t.Errorf("an error replaced the earlier answer: %s", row)
		}
	}
	for _, tc := range []struct{ args, want string }{
		{"", "--input: required"},
		{"--input " + filepath.Join(dir, "none.csv"), "none.csv"},
		{"--input " + keys + " --batch-size 0", "--batch-size"},
	} {
		code, _, stderr := runCLI(t, nil, append([]string{"associations", "--fake-api"}, strings.Fields(tc.args)...)...)
		if code != ExitConfig || !strings.Contains(stderr, tc.want) {
			t.Errorf("%q: exit %d, stderr %s", tc.args, code, stderr)
		}
	}
}

// CRM validation and profile associations need only the application's
// client credentials (2-legged): a CRM-only run works without a member
// token, and a member stream is then a configuration error.
func TestCRMOnlyRunWithClientCredentials(t *testing.T) {
	fake := testkit.NewFake(t, fakeapi.Config{})
	root := strings.TrimSuffix(fake.URL, "/v2")
	out := t.TempDir()
	env := map[string]string{"SALESNAV_API_URL": fake.URL, "SALESNAV_TOKEN_URL": root + "/oauth/v2/accessToken",
		"SALESNAV_CLIENT_ID": fakeapi.DefaultClientID, "SALESNAV_CLIENT_SECRET": fakeapi.DefaultClientSecret,
		"SALESNAV_PARQUET_DIR": out, "SALESNAV_START": pipeline.Day(time.Now()).AddDate(0, 0, -2).Format(time.DateOnly),
		"SALESNAV_POLL_INTERVAL": "5ms", "SALESNAV_STREAMS": "crm_validation,profile_associations",
		"SALESNAV_CRM_INSTANCES": "urn:li:crmInstance:(SFDC,00D1)"}
	code, stdout, stderr := runCLI(t, env, "run")
	if code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	crm := len(testkit.ReadDataset(t, out, "crm_validation").Rows)
	if pa := len(testkit.ReadDataset(t, out, "profile_associations").Rows); crm < 90 || pa != crm {
		t.Errorf("%d CRM rows, %d associations", crm, pa)
	}
	if strings.Contains(stderr, fakeapi.DefaultClientSecret) {
		t.Error("the client secret appears in the logs")
	}
	env["SALESNAV_STREAMS"] = "activity"
	code, _, stderr = runCLI(t, env, "run")
	if code != ExitConfig || !strings.Contains(stderr, "SALESNAV_ACCESS_TOKEN: not set") {
		t.Errorf("activity with client credentials only: exit %d\n%s", code, stderr)
	}
}

// --fake-now fixes the run's clock; it needs --fake-api and an RFC 3339 time.
func TestFixedClock(t *testing.T) {
	if now, err := fixedClock("", false); err != nil || now == nil {
		t.Fatalf("no --fake-now: %v", err)
	}
	now, err := fixedClock("2026-02-11T13:00:00+01:00", true)
	if err != nil || !now().Equal(time.Date(2026, 2, 11, 12, 0, 0, 0, time.UTC)) || now().Location() != time.UTC {
		t.Fatalf("fixed clock: %v, %v", now(), err)
	}
	if _, err := fixedClock("2026-02-11T12:00:00Z", false); err == nil || !strings.Contains(err.Error(), "--fake-now needs --fake-api") {
		t.Errorf("without --fake-api: %v", err)
	}
	if _, err := fixedClock("2026-02-11", true); err == nil || !strings.Contains(err.Error(), `--fake-now "2026-02-11"`) {
		t.Errorf("a date alone: %v", err)
	}
}

// Issue 17: an end day after today is refused, naming the variable (or
// flag); today itself is the latest end (it loads up to yesterday).
func TestEndAfterTodayRefused(t *testing.T) {
	dir := t.TempDir()
	now := "2026-03-10T08:00:00Z"
	env := map[string]string{"SALESNAV_ACCESS_TOKEN": "x", "SALESNAV_PARQUET_DIR": dir, "SALESNAV_END": "2026-03-11"}
	code, _, stderr := runCLI(t, env, "run", "--fake-api", "--fake-now", now)
	if code != ExitConfig || !strings.Contains(stderr, "SALESNAV_END: 2026-03-11 is after today (2026-03-10") {
		t.Errorf("exit %d, stderr:\n%s", code, stderr)
	}
	env["SALESNAV_END"], env["SALESNAV_START"] = "2026-03-10", "2026-03-08"
	if code, _, stderr := runCLI(t, env, "run", "--fake-api", "--fake-now", now); code != ExitOK {
		t.Errorf("end today: exit %d, stderr:\n%s", code, stderr)
	}
	code, _, stderr = runCLI(t, map[string]string{"SALESNAV_ACCESS_TOKEN": "x", "SALESNAV_PARQUET_DIR": dir}, "run", "--from", "2026-03-01", "--to", "2999-01-01")
	if code != ExitConfig || !strings.Contains(stderr, "--to: 2999-01-01 is after today") {
		t.Errorf("backfill to 2999: exit %d, stderr:\n%s", code, stderr)
	}
}
