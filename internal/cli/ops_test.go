package cli

// Issue 6: what operators see: help, version, config check, logs,
// progress lines and metrics.

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/sethvargo/go-envconfig"
	"github.com/vbauerster/mpb/v8"

	"github.com/salesnav-etl/salesnav-etl/fakeapi"
	"github.com/salesnav-etl/salesnav-etl/internal/metrics"
	"github.com/salesnav-etl/salesnav-etl/internal/testkit"
	"github.com/salesnav-etl/salesnav-etl/pipeline"
	"github.com/salesnav-etl/salesnav-etl/schema"
)

// Every variable of Env is documented once in varDocs, and --help of the
// root and of run lists each with its default, and every subcommand.
func TestHelpListsEveryVariableAndCommand(t *testing.T) {
	defs := envDefaults()
	var documented []string
	for _, v := range varDocs {
		if _, ok := defs[v.Env]; !ok {
			t.Errorf("varDocs documents %s, which Env does not read", v.Env)
		}
		if slices.Contains(documented, v.Env) {
			t.Errorf("%s documented twice", v.Env)
		}
		documented = append(documented, v.Env)
	}
	for name := range defs {
		if !slices.Contains(documented, name) {
			t.Errorf("SALESNAV_%s has no varDocs entry", name)
		}
	}
	for _, args := range [][]string{{"--help"}, {"run", "--help"}, {"config", "check", "--help"}, {"contracts", "--help"}, {"token", "--help"},
		{"state", "show", "--help"}, {"state", "reset", "--help"}, {"associations", "--help"}, {"schema", "--help"},
		{"auth", "login", "--help"}, {"auth", "status", "--help"}} {
		code, stdout, _ := runCLI(t, nil, args...)
		if code != ExitOK {
			t.Fatalf("%v: exit %d", args, code)
		}
		for name, def := range defs {
			if !strings.Contains(stdout, "SALESNAV_"+name) {
				t.Errorf("%v lacks SALESNAV_%s", args, name)
			}
			if def != "" && !strings.Contains(stdout, "[default "+def+"]") {
				t.Errorf("%v lacks the default of SALESNAV_%s (%s)", args, name, def)
			}
		}
		if !strings.Contains(stdout, "75  temporary") {
			t.Errorf("%v lacks the exit codes", args)
		}
	}
	_, root, _ := runCLI(t, nil, "--help")
	for _, c := range []string{"run", "fake-api", "schema", "state", "contracts", "token", "associations", "version", "config", "auth"} {
		if !regexp.MustCompile(`(?m)^  ` + c + `\s`).MatchString(root) {
			t.Errorf("--help does not list the %s command", c)
		}
	}
	_, run, _ := runCLI(t, nil, "run", "--help")
	for _, f := range []string{"--fake-api", "--summary", "--from", "--to", "--parquet-dir", "--streams", "--state-path"} {
		if !strings.Contains(run, f) {
			t.Errorf("run --help lacks %s", f)
		}
	}
}

// The configuration reference (docs/configuration.md) names every
// variable.
func TestREADMEConfigurationTableHasEveryVariable(t *testing.T) {
	raw, err := os.ReadFile("../../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	_, table, ok := strings.Cut(string(raw), "# Configuration")
	table, _, _ = strings.Cut(table, "\n## ")
	if !ok {
		t.Fatal("docs/configuration.md has no Configuration title")
	}
	for name := range envDefaults() {
		if !strings.Contains(table, "| `SALESNAV_"+name+"`") && !strings.Contains(table, "`SALESNAV_"+name+"` (") && !strings.Contains(table, ", `SALESNAV_"+name+"`") {
			t.Errorf("README's configuration table lacks SALESNAV_%s", name)
		}
	}
}

func TestVersionCommand(t *testing.T) {
	code, stdout, _ := runCLI(t, nil, "version")
	if code != ExitOK || !strings.HasPrefix(stdout, "salesnav-etl ") || !strings.Contains(stdout, "commit ") || !strings.Contains(stdout, runtime.Version()) {
		t.Errorf("version: %d %q", code, stdout)
	}
}

func TestConfigCheck(t *testing.T) {
	code, _, stderr := runCLI(t, map[string]string{"SALESNAV_SINK": "nope", "SALESNAV_LOG_FORMAT": "xml", "SALESNAV_PUSHGATEWAY_URL": "ftp://x"}, "config", "check")
	for _, v := range []string{"SALESNAV_ACCESS_TOKEN", "SALESNAV_SINK", "SALESNAV_LOG_FORMAT", "SALESNAV_PUSHGATEWAY_URL"} {
		if code != ExitConfig || !strings.Contains(stderr, v) {
			t.Errorf("exit %d, stderr does not name %s:\n%s", code, v, stderr)
		}
	}
	fake := testkit.NewFake(t, fakeapi.Config{})
	root := strings.TrimSuffix(fake.URL, "/v2")
	env := map[string]string{"SALESNAV_API_URL": fake.URL, "SALESNAV_ACCESS_TOKEN": fakeapi.DefaultToken,
		"SALESNAV_TOKEN_URL": root + "/oauth/v2/accessToken", "SALESNAV_CLIENT_ID": fakeapi.DefaultClientID,
		"SALESNAV_CLIENT_SECRET": fakeapi.DefaultClientSecret, "SALESNAV_PARQUET_DIR": filepath.Join(t.TempDir(), "new")}
	code, stdout, stderr := runCLI(t, env, "config", "check", "--connect")
	if code != ExitOK || !strings.Contains(stdout, "api: ok") || !strings.Contains(stdout, "3 contract(s)") ||
		!strings.Contains(stdout, "client credentials: ok") || !strings.Contains(stdout, "sink: ok") {
		t.Fatalf("check --connect: %d\n%s\n%s", code, stdout, stderr)
	}
	// Every problem at once: a wrong token, a wrong secret, a directory
	// that cannot be made.
	blocker := filepath.Join(t.TempDir(), "file")
	os.WriteFile(blocker, nil, 0o600)
	env["SALESNAV_ACCESS_TOKEN"], env["SALESNAV_CLIENT_SECRET"], env["SALESNAV_PARQUET_DIR"] = "wrong", "wrong-secret", filepath.Join(blocker, "out")
	code, _, stderr = runCLI(t, env, "config", "check", "--connect")
	for _, want := range []string{"3 connection problem(s)", "listing contracts", "HTTP 401", "client credentials", "parquet directory"} {
		if code != ExitFailure || !strings.Contains(stderr, want) {
			t.Errorf("exit %d, stderr lacks %q:\n%s", code, want, stderr)
		}
	}
	if strings.Contains(stderr, "wrong-secret") {
		t.Error("the client secret appears in the output")
	}
}

func TestLoggerFormat(t *testing.T) {
	var b bytes.Buffer
	newLogger(&b, slog.LevelInfo, "auto", false).Info("hello", "stream", "activity")
	newLogger(&b, slog.LevelInfo, "auto", true).Info("hello", "stream", "activity")
	newLogger(&b, slog.LevelWarn, "json", true).Info("hidden")
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], `{"time"`) || !strings.Contains(lines[1], `level=INFO msg=hello stream=activity`) {
		t.Errorf("auto picks JSON off a terminal and text on one, the level filters:\n%s", b.String())
	}
}

// A full run of every stream with the refresh-token flow: the metrics file
// gets non-zero rows for each stream; progress lines are logged; no token,
// secret or refresh token appears anywhere. (TestRunPushesToPushgateway
// pushes to a Pushgateway.)
func TestRunMetricsProgressAndNoSecrets(t *testing.T) {
	fake := testkit.NewFake(t, fakeapi.Config{RowsPerDay: 50})
	root := strings.TrimSuffix(fake.URL, "/v2")
	dir := t.TempDir()
	metricsFile := filepath.Join(dir, "salesnav.prom")
	summary := filepath.Join(dir, "summary.json")
	env := map[string]string{"SALESNAV_API_URL": fake.URL, "SALESNAV_TOKEN_URL": root + "/oauth/v2/accessToken",
		"SALESNAV_CLIENT_ID": fakeapi.DefaultClientID, "SALESNAV_CLIENT_SECRET": fakeapi.DefaultClientSecret,
		"SALESNAV_REFRESH_TOKEN": fakeapi.DefaultRefreshToken, "SALESNAV_PARQUET_DIR": filepath.Join(dir, "out"),
		"SALESNAV_START": pipeline.Day(time.Now()).AddDate(0, 0, -4).Format(time.DateOnly), "SALESNAV_POLL_INTERVAL": "5ms",
		"SALESNAV_STREAMS":       "contracts,seat,activity,activity_outcome,crm_validation,profile_associations",
		"SALESNAV_CRM_INSTANCES": "urn:li:crmInstance:(SFDC,00D1)",
		"SALESNAV_METRICS_FILE":  metricsFile, "SALESNAV_PROGRESS_INTERVAL": "1ms"}
	code, stdout, stderr := runCLI(t, env, "run", "--summary", summary)
	if code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	raw, err := os.ReadFile(metricsFile)
	if err != nil {
		t.Fatal(err)
	}
	fams := parseMetrics(t, raw)
	streams := []string{"contracts", "seat", "activity", "activity_outcome", "crm_validation", "profile_associations"}
	for _, s := range streams {
		for _, m := range []string{"salesnav_etl_rows_loaded_total", "salesnav_etl_rows_extracted_total"} {
			if v := value(fams, m, "stream", s); v <= 0 {
				t.Errorf("%s{stream=%q} = %v, want > 0", m, s, v)
			}
		}
		if v := value(fams, "salesnav_etl_last_success_timestamp_seconds", "stream", s); v < float64(time.Now().Add(-time.Hour).Unix()) {
			t.Errorf("last success of %s = %v", s, v)
		}
	}
	if v := value(fams, "salesnav_etl_downloaded_bytes_total", "stream", "activity"); v <= 0 {
		t.Errorf("no bytes downloaded for activity")
	}
	if v := value(fams, "salesnav_etl_api_calls_total", "operation", "createAnalyticsExport"); v != 3*2 {
		t.Errorf("%v createAnalyticsExport calls counted, want 6", v)
	}
	if v := value(fams, "salesnav_etl_api_calls_total", "operation", "batchGetProfileAssociations"); v < 1 {
		t.Errorf("%v batch association calls counted", v)
	}
	if fams["salesnav_etl_job_wait_seconds"] == nil || value(fams, "salesnav_etl_exit_code", "", "") != 0 || value(fams, "salesnav_etl_run_duration_seconds", "", "") <= 0 {
		t.Errorf("job waits, exit code or duration missing:\n%s", raw)
	}
	if !strings.Contains(stderr, `"msg":"progress"`) || !strings.Contains(stderr, `"activity":{"rows":`) {
		t.Errorf("no progress line in the logs")
	}
	// Job state changes carry what an operator needs.
	if !regexp.MustCompile(`"msg":"window loaded".*"stream":"activity".*"contract":"urn:li:salesContract:100\d".*"window_start":.*"job":\d+.*"rows":\d+.*"bytes":\d+.*"duration":`).MatchString(stderr) {
		t.Errorf("no complete 'window loaded' line")
	}
	sum, _ := os.ReadFile(summary)
	all := stdout + stderr + string(raw) + string(sum)
	for _, secret := range []string{fakeapi.DefaultClientSecret, fakeapi.DefaultRefreshToken, "fake-issued-", "sig="} {
		if strings.Contains(all, secret) {
			t.Errorf("%q appears in the output, logs, summary or metrics", secret)
		}
	}
}

func parseMetrics(t *testing.T, raw []byte) map[string]*dto {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("metrics file is not the text format: %v", err)
	}
	out := map[string]*dto{}
	for name, f := range fams {
		d := &dto{}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			v := m.GetCounter().GetValue() + m.GetGauge().GetValue() + m.GetUntyped().GetValue()
			if h := m.GetHistogram(); h != nil {
				v = float64(h.GetSampleCount())
			}
			d.samples = append(d.samples, sample{labels, v})
		}
		out[name] = d
	}
	return out
}

type sample struct {
	labels map[string]string
	v      float64
}

type dto struct{ samples []sample }

// value sums the samples of a metric whose label has the value (any when
// label is "").
func value(fams map[string]*dto, name, label, v string) float64 {
	d := fams[name]
	if d == nil {
		return -1
	}
	sum := 0.0
	for _, s := range d.samples {
		if label == "" || s.labels[label] == v {
			sum += s.v
		}
	}
	return sum
}

// syncBuffer is a bytes.Buffer safe for the bars' goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// On a terminal, a bar per stream shows rows and bytes as they grow, and
// log lines appear above the bars.
func TestProgressBars(t *testing.T) {
	var out syncBuffer
	m := metrics.New([]string{"activity", "seat"})
	p := startBars(&out, []string{"activity", "seat"}, m, mpb.WithAutoRefresh(), mpb.WithWidth(100))
	m.Progress("activity", 1234, 3<<20)
	log := newLogger(p.Writer, slog.LevelInfo, "text", true)
	log.Info("window loaded", "stream", "activity")
	time.Sleep(400 * time.Millisecond)
	m.Progress("seat", 25, 2048)
	p.stop()
	log.Info("after the bars")
	got := out.String()
	for _, want := range []string{"activity", "1234 rows", "3.0 MiB", "seat", "25 rows", "2.0 KiB", "msg=\"window loaded\"", "msg=\"after the bars\""} {
		if !strings.Contains(got, want) {
			t.Errorf("progress output lacks %q:\n%s", want, got)
		}
	}
}

// The default SALESNAV_STREAMS is the stream registry's DefaultOn streams:
// a stream registered with DefaultOn joins it, in the help and in a run's
// configuration.
func TestStreamsDefaultFromRegistry(t *testing.T) {
	if got := envDefaults()["STREAMS"]; got != "contracts,seat,activity,activity_outcome" {
		t.Errorf("default streams %q", got)
	}
	extra := &schema.Stream{Name: "extra_events", Extract: schema.AnalyticsExport, Action: "exportExtra", Partitioning: schema.SnapshotDay,
		Write: schema.Replace, DefaultOn: true, Columns: []schema.Column{{Name: "id"}}, Key: []string{schema.LineageContract, schema.LineageSnapshotDate, schema.RowHash}}
	unregister, err := schema.Register(extra)
	if err != nil {
		t.Fatal(err)
	}
	defer unregister()
	if got := envDefaults()["STREAMS"]; got != "contracts,seat,activity,activity_outcome,extra_events" {
		t.Errorf("default streams with a registered one %q", got)
	}
	env, err := LoadEnv(context.Background(), envconfig.MapLookuper(nil))
	if err != nil || env.Streams != "contracts,seat,activity,activity_outcome,extra_events" {
		t.Errorf("SALESNAV_STREAMS unset: %q, %v", env.Streams, err)
	}
	env, err = LoadEnv(context.Background(), envconfig.MapLookuper(map[string]string{"SALESNAV_STREAMS": "seat"}))
	if err != nil || env.Streams != "seat" {
		t.Errorf("SALESNAV_STREAMS=seat: %q, %v", env.Streams, err)
	}
}

// Every declared parse kind, with the messages Resolve reports, and the
// association batch bound kept in step with the pipeline's.
func TestDeclaredParseKinds(t *testing.T) {
	byEnv := map[string]varDoc{}
	for _, v := range varDocs {
		byEnv[v.Env] = v
	}
	for _, c := range []struct {
		env, raw string
		want     any
		problem  string
	}{
		{"POLL_INTERVAL", "5s", 5 * time.Second, ""},
		{"POLL_INTERVAL", "0s", time.Duration(0), `"0s" is not a positive duration (such as 30s, 5m)`},
		{"PROGRESS_INTERVAL", "0", time.Duration(0), ""},
		{"PROGRESS_INTERVAL", "-1s", time.Duration(0), `"-1s" is not a duration (such as 30s; 0 for none)`},
		{"CONCURRENCY", "64", 64, ""},
		{"CONCURRENCY", "65", 65, `"65" is not a whole number from 1 to 64`},
		{"JOB_RETRIES", "0", 0, ""},
		{"JOB_RETRIES", "x", 0, `"x" is not a whole number from 0 to 20`},
		{"MAX_REJECT_RATIO", "0.5", 0.5, ""},
		{"MAX_REJECT_RATIO", "2", float64(0), `"2" is not a ratio between 0 and 1`},
		{"LOG_FORMAT", "json", "json", ""},
		{"LOG_FORMAT", "xml", "xml", `"xml" is not a log format (auto, json, text)`},
		{"ASSOCIATION_BATCH_SIZE", fmt.Sprint(pipeline.MaxAssociationBatch), pipeline.MaxAssociationBatch, ""},
		{"ASSOCIATION_BATCH_SIZE", fmt.Sprint(pipeline.MaxAssociationBatch + 1), pipeline.MaxAssociationBatch + 1,
			fmt.Sprintf("%q is not a whole number from 1 to %d", fmt.Sprint(pipeline.MaxAssociationBatch+1), pipeline.MaxAssociationBatch)},
	} {
		got, problem := byEnv[c.env].parseValue(c.raw)
		if got != c.want || problem != c.problem {
			t.Errorf("%s=%q: %v, %q; want %v, %q", c.env, c.raw, got, problem, c.want, c.problem)
		}
	}
	// Every declared kind parses its own default.
	for _, v := range varDocs {
		if v.Parse == "" {
			continue
		}
		if _, problem := v.parseValue(envDefaults()[v.Env]); problem != "" {
			t.Errorf("SALESNAV_%s: its default: %s", v.Env, problem)
		}
	}
}
