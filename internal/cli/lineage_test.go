package cli

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sethvargo/go-envconfig"

	"github.com/salesnav-etl/salesnav-etl/fakeapi"
	"github.com/salesnav-etl/salesnav-etl/internal/lineage"
	"github.com/salesnav-etl/salesnav-etl/internal/lineage/lineagetest"
	"github.com/salesnav-etl/salesnav-etl/internal/testkit"
	"github.com/salesnav-etl/salesnav-etl/pipeline"
	"github.com/salesnav-etl/salesnav-etl/schema"
)

const (
	lineageKey    = "ol-api-key-5c2e81"
	lineageParent = "airflow-prod/salesnav_etl.load/0190f0f4-6d6a-7c3a-9a53-6c1c2f0e5b11"
)

// lineageRunEnv is a run of every analytics stream and the contracts into
// dir, sending events to url.
func lineageRunEnv(dir, url string) map[string]string {
	return map[string]string{"SALESNAV_PARQUET_DIR": dir, "SALESNAV_STREAMS": "contracts,seat,activity,activity_outcome",
		"SALESNAV_START": "2026-02-05", "SALESNAV_END": "2026-02-08", "SALESNAV_POLL_INTERVAL": "5ms",
		"SALESNAV_OPENLINEAGE_URL": url, "SALESNAV_OPENLINEAGE_API_KEY": lineageKey, lineageParentVar: lineageParent}
}

// readSummary reads a run's --summary file.
func readSummary(t *testing.T, path string) (*pipeline.Summary, string) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var sum pipeline.Summary
	if err := json.Unmarshal(raw, &sum); err != nil {
		t.Fatal(err)
	}
	return &sum, string(raw)
}

// events decodes and validates the events a lineage server received: each
// a POST to /api/v1/lineage with the API key as a bearer token.
func events(t *testing.T, srv *lineagetest.Server) []lineage.RunEvent {
	t.Helper()
	var out []lineage.RunEvent
	for _, r := range srv.Requests() {
		if err := lineagetest.Validate(r.Body); err != nil {
			t.Errorf("event does not validate: %v\n%s", err, r.Body)
		}
		if r.Method != "POST" || r.Path != "/api/v1/lineage" || r.Authorization != "Bearer "+lineageKey {
			t.Errorf("request %s %s, Authorization %q", r.Method, r.Path, r.Authorization)
		}
		var ev lineage.RunEvent
		if err := json.Unmarshal(r.Body, &ev); err != nil {
			t.Fatal(err)
		}
		out = append(out, ev)
	}
	return out
}

// checkOutputs checks that an end event has one output per stream that
// loaded a window, named after the dataset root, with the registry's
// columns and the summary's figures.
func checkOutputs(t *testing.T, ev lineage.RunEvent, sum *pipeline.Summary, root string) {
	t.Helper()
	var loaded []string
	for name, st := range sum.Streams {
		if st.Windows > 0 {
			loaded = append(loaded, name)
		}
	}
	if len(ev.Outputs) != len(loaded) || len(loaded) == 0 {
		t.Errorf("%d outputs, %d streams loaded (%v)", len(ev.Outputs), len(loaded), loaded)
	}
	for _, o := range ev.Outputs {
		name := strings.TrimPrefix(o.Name, filepath.ToSlash(root)+"/")
		st, err := schema.Lookup(name)
		if err != nil || o.Namespace != "file" {
			t.Errorf("output %s/%s is no stream's directory under %s", o.Namespace, o.Name, root)
			continue
		}
		s := sum.Streams[name]
		if stats := o.OutputFacets.OutputStatistics; stats == nil || stats.RowCount != s.Rows || stats.Size != s.Bytes ||
			stats.FileCount == nil || *stats.FileCount != int64(s.Files) {
			t.Errorf("%s: statistics %+v, the summary says rows %d bytes %d files %d", name, stats, s.Rows, s.Bytes, s.Files)
		}
		want := append(st.ColumnNames(), s.Drift...)
		if !st.Dimension() {
			for _, f := range st.LineageFields() {
				want = append(want, f.Name)
			}
		}
		var got []string
		for _, f := range o.Facets.Schema.Fields {
			got = append(got, f.Name)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: schema fields %v, want the registry's %v", name, got, want)
		}
	}
}

// A run sends START, then COMPLETE, with one run id, the job, Airflow's
// parent, the API as input and one output per stream loaded; the API key
// is a bearer token and appears in no output.
func TestLineageEventsOfARun(t *testing.T) {
	srv := lineagetest.NewServer(t, lineagetest.Accept)
	dir := t.TempDir()
	out, summary := filepath.Join(dir, "out"), filepath.Join(dir, "summary.json")
	code, stdout, stderr := runCLI(t, lineageRunEnv(out, srv.URL), "run", "--fake-api", "--fake-now", leaseFakeNow, "--summary", summary)
	if code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	sum, rawSum := readSummary(t, summary)
	evs := events(t, srv)
	if len(evs) != 2 || evs[0].EventType != lineage.EventStart || evs[1].EventType != lineage.EventComplete {
		t.Fatalf("%d events, want START then COMPLETE", len(evs))
	}
	for _, ev := range evs {
		if ev.Run.RunID != evs[0].Run.RunID || ev.Job.Namespace != "salesnav-etl" || ev.Job.Name != lineageJob {
			t.Errorf("%s: run %s, job %s/%s", ev.EventType, ev.Run.RunID, ev.Job.Namespace, ev.Job.Name)
		}
		if p := ev.Run.Facets.Parent; p == nil || p.Job.Namespace+"/"+p.Job.Name+"/"+p.Run.RunID != lineageParent {
			t.Errorf("%s: parent %+v, want %s", ev.EventType, p, lineageParent)
		}
		if ev.EventTime.Format("2006-01-02T15:04:05Z07:00") != leaseFakeNow {
			t.Errorf("%s: eventTime %s, want the run's clock %s", ev.EventType, ev.EventTime, leaseFakeNow)
		}
		if len(ev.Inputs) != 2 || !strings.HasPrefix(ev.Inputs[0].Namespace, "http://127.0.0.1:") || ev.Inputs[1].Name != "/v2/salesAnalyticsExportJobs" {
			t.Errorf("%s: inputs %+v", ev.EventType, ev.Inputs)
		}
	}
	if len(evs[0].Outputs) != 0 {
		t.Errorf("START has %d outputs", len(evs[0].Outputs))
	}
	checkOutputs(t, evs[1], sum, out)
	if !strings.Contains(stderr, `"msg":"OpenLineage run","run_id":"`+evs[0].Run.RunID+`"`) {
		t.Errorf("the log does not name the run id")
	}
	if strings.Contains(stdout+stderr+rawSum, lineageKey) {
		t.Error("the API key appears in the output")
	}
}

// A run that fails (here: partial, exit 3) sends FAIL with its error, and
// the outputs of the streams that loaded.
func TestLineageFailingRunSendsFAIL(t *testing.T) {
	srv := lineagetest.NewServer(t, lineagetest.Accept)
	fake := testkit.NewFake(t, fakeapi.Config{RowsPerDay: 20, Faults: fakeapi.Faults{FailJobs: 1, FailStatus: "FAILED_DUE_TO_INTERNAL_ERROR"}})
	dir := t.TempDir()
	out, summary := filepath.Join(dir, "out"), filepath.Join(dir, "summary.json")
	env := lineageRunEnv(out, srv.URL)
	env["SALESNAV_STREAMS"] = "activity"
	env["SALESNAV_API_URL"], env["SALESNAV_ACCESS_TOKEN"], env["SALESNAV_JOB_RETRIES"] = fake.URL, fakeapi.DefaultToken, "0"
	code, stdout, stderr := runCLI(t, env, "run", "--summary", summary)
	if code != ExitPartial {
		t.Fatalf("exit %d, want %d (one job failed)\n%s\n%s", code, ExitPartial, stdout, stderr)
	}
	sum, _ := readSummary(t, summary)
	evs := events(t, srv)
	if len(evs) != 2 || evs[0].EventType != lineage.EventStart || evs[1].EventType != lineage.EventFail || evs[1].Run.RunID != evs[0].Run.RunID {
		t.Fatalf("%d events, want START then FAIL of one run", len(evs))
	}
	f := evs[1].Run.Facets.ErrorMessage
	if f == nil || !strings.HasPrefix(f.Message, "exit 3: run partial") || !strings.Contains(f.Message, "FAILED_DUE_TO_INTERNAL_ERROR") {
		t.Errorf("error message facet %+v", f)
	}
	checkOutputs(t, evs[1], sum, out)
	for _, r := range srv.Requests() {
		if strings.Contains(string(r.Body), fakeapi.DefaultToken) || strings.Contains(string(r.Body), lineageKey) {
			t.Errorf("a secret in the event:\n%s", r.Body)
		}
	}
}

// A lineage server that fails or hangs changes nothing: the run exits 0,
// the emitter gives up on each event by its own deadline and says so in a
// warning, and neither the key nor the URL's password appears anywhere.
func TestLineageServerDownOrSlowNeverChangesTheRun(t *testing.T) {
	for _, tc := range []struct {
		name string
		mode lineagetest.Mode
		want string
	}{
		{"fails", lineagetest.Fail, "HTTP 500"},
		{"hangs", lineagetest.Hang, lineage.ErrTimedOut.Error() + " within 100ms"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := lineagetest.NewServer(t, tc.mode)
			dir := t.TempDir()
			summary := filepath.Join(dir, "summary.json")
			env := lineageRunEnv(filepath.Join(dir, "out"), strings.Replace(srv.URL, "http://", "http://ol:ol-url-pw-8d1f@", 1))
			env["SALESNAV_OPENLINEAGE_TIMEOUT"] = "100ms"
			code, stdout, stderr := runCLI(t, env, "run", "--fake-api", "--fake-now", leaseFakeNow, "--summary", summary)
			if code != ExitOK {
				t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
			}
			warnings := strings.Count(stderr, `"level":"WARN","msg":"OpenLineage event not sent; the run goes on"`)
			if warnings != 2 || strings.Count(stderr, tc.want) != 2 {
				t.Errorf("%d warnings, want 2 saying %q:\n%s", warnings, tc.want, stderr)
			}
			if n := len(srv.Requests()); n != 2 {
				t.Errorf("the server got %d events, want 2", n)
			}
			_, rawSum := readSummary(t, summary)
			for _, s := range []string{lineageKey, "ol-url-pw-8d1f"} {
				if strings.Contains(stdout+stderr+rawSum, s) {
					t.Errorf("%q appears in the output", s)
				}
			}
		})
	}
}

// Bad OpenLineage settings are configuration errors naming their
// variable; OPENLINEAGE_PARENT_ID only counts when events are sent.
func TestLineageConfig(t *testing.T) {
	base := map[string]string{"SALESNAV_ACCESS_TOKEN": "x", "SALESNAV_OPENLINEAGE_URL": "https://marquez.example:5000"}
	for _, tc := range []struct {
		set  map[string]string
		want string // "" : valid
	}{
		{map[string]string{}, ""},
		{map[string]string{lineageParentVar: lineageParent}, ""},
		{map[string]string{"SALESNAV_OPENLINEAGE_URL": "ftp://marquez"}, "SALESNAV_OPENLINEAGE_URL"},
		{map[string]string{"SALESNAV_OPENLINEAGE_URL": "https://ol:ol-pw-x1@:5000"}, "SALESNAV_OPENLINEAGE_URL"},
		{map[string]string{lineageParentVar: "airflow-prod/salesnav_etl.load/manual__2026-02-11"}, lineageParentVar},
		{map[string]string{"SALESNAV_OPENLINEAGE_URL": "", lineageParentVar: "not-a-parent"}, ""},
		{map[string]string{"SALESNAV_OPENLINEAGE_TIMEOUT": "30s"}, "SALESNAV_OPENLINEAGE_TIMEOUT"},
		{map[string]string{"SALESNAV_OPENLINEAGE_TIMEOUT": "soon"}, "SALESNAV_OPENLINEAGE_TIMEOUT"},
		{map[string]string{"SALESNAV_OPENLINEAGE_NAMESPACE": " "}, "SALESNAV_OPENLINEAGE_NAMESPACE"},
	} {
		env := map[string]string{}
		for k, v := range base {
			env[k] = v
		}
		for k, v := range tc.set {
			env[k] = v
		}
		code, _, stderr := runCLI(t, env, "config", "check")
		switch {
		case tc.want == "" && code != ExitOK:
			t.Errorf("%v: exit %d, want 0\n%s", tc.set, code, stderr)
		case tc.want != "" && (code != ExitConfig || !strings.Contains(stderr, tc.want+":")):
			t.Errorf("%v: exit %d, want %d naming %s\n%s", tc.set, code, ExitConfig, tc.want, stderr)
		}
		if strings.Contains(stderr, "ol-pw-x1") {
			t.Errorf("the URL's password appears: %s", stderr)
		}
	}
}

// The FAIL event's message goes through the mask of the environment's
// secrets, as everything the command line writes: an error that quotes a
// credential reaches the lineage server masked.
func TestLineageFailureMessageMasked(t *testing.T) {
	srv := lineagetest.NewServer(t, lineagetest.Accept)
	env := map[string]string{"SALESNAV_ACCESS_TOKEN": "member-token-4f1a", "SALESNAV_OPENLINEAGE_URL": srv.URL,
		"SALESNAV_OPENLINEAGE_API_KEY": lineageKey, "SALESNAV_STREAMS": "activity", "SALESNAV_PARQUET_DIR": t.TempDir()}
	e, err := LoadEnv(context.Background(), envconfig.MapLookuper(env))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := e.Resolve(time.Date(2026, 2, 11, 12, 0, 0, 0, time.UTC), true)
	if err != nil {
		t.Fatal(err)
	}
	now := func() time.Time { return time.Date(2026, 2, 11, 12, 0, 0, 0, time.UTC) }
	lin := startLineage(context.Background(), cfg, envconfig.MapLookuper(env), now, slog.New(slog.DiscardHandler))
	if lin == nil {
		t.Fatal("no lineage run")
	}
	lin.finish(context.Background(), nil, ExitFailure, errors.New("listing contracts with member-token-4f1a and "+lineageKey+": 401"))
	evs := events(t, srv)
	if len(evs) != 2 || evs[1].Run.Facets.ErrorMessage == nil {
		t.Fatalf("%d events, want START and FAIL with a message", len(evs))
	}
	msg := evs[1].Run.Facets.ErrorMessage.Message
	if strings.Contains(msg, "member-token-4f1a") || strings.Contains(msg, lineageKey) || !strings.Contains(msg, "exit 1: listing contracts with xxxxx and xxxxx: 401") {
		t.Errorf("message %q", msg)
	}
}
