package lineage

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/salesnav-etl/salesnav-etl/internal/lineage/lineagetest"
	"github.com/salesnav-etl/salesnav-etl/pipeline"
	"github.com/salesnav-etl/salesnav-etl/schema"
)

var update = flag.Bool("update", false, "rewrite golden files")

const (
	testRunID    = "01890a5d-ac96-774b-bcce-b302099a8057"
	parentRunID  = "0190f0f4-6d6a-7c3a-9a53-6c1c2f0e5b11"
	testProducer = "https://github.com/salesnav-etl/salesnav-etl/tree/v1.4.0"
)

var (
	startedAt  = time.Date(2026, 2, 11, 3, 30, 0, 0, time.UTC)
	finishedAt = time.Date(2026, 2, 11, 3, 41, 7, 250_000_000, time.UTC)
)

func testPlan(target Target) Plan {
	return Plan{
		RunID: testRunID, Namespace: "salesnav-etl", Job: "salesnav-etl.run", Producer: testProducer,
		Parent:  &Parent{Namespace: "airflow-prod", Job: "salesnav_etl.load", RunID: parentRunID},
		APIURL:  "https://api.linkedin.com/v2",
		Streams: []*schema.Stream{schema.Contracts, schema.Seat, schema.Activity, schema.ActivityOutcome},
		Target:  target,
	}
}

// testSummary: contracts, seat and activity loaded (activity with a drift
// column), activity_outcome loaded nothing.
func testSummary() *pipeline.Summary {
	return &pipeline.Summary{
		Status: pipeline.StatusPartial,
		Streams: map[string]*pipeline.StreamSummary{
			"contracts":        {Windows: 1, Rows: 3, Files: 1, Bytes: 1_210},
			"seat":             {Windows: 2, Rows: 50, Files: 2, Bytes: 9_844},
			"activity":         {Windows: 2, Rows: 7_000, Files: 14, Bytes: 120_500, Drift: []string{"campaignId"}},
			"activity_outcome": {Failed: 1},
		},
		Errors: []pipeline.UnitError{{Stream: "activity_outcome", Contract: "urn:li:salesContract:1001", Window: "2026-02-01/2026-02-08",
			Error: "export job 7: FAILED_DUE_TO_INTERNAL_ERROR"}},
	}
}

func describe(t *testing.T, p Plan) *Description {
	t.Helper()
	d, err := Describe(p)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// encode is an event's JSON, checked against the spec's schemas.
func encode(t *testing.T, ev RunEvent) []byte {
	t.Helper()
	raw, err := json.MarshalIndent(ev, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := lineagetest.Validate(raw); err != nil {
		t.Errorf("%s event does not validate: %v\n%s", ev.EventType, err, raw)
	}
	return append(raw, '\n')
}

// The events of a run, START, COMPLETE into Parquet and FAIL into
// ClickHouse, are these golden files, and each validates.
func TestEventsGolden(t *testing.T) {
	pq := describe(t, testPlan(Target{Sink: "parquet", ParquetRoot: "/data/salesnav"}))
	ch := describe(t, testPlan(Target{Sink: "clickhouse", ClickHouseDSN: "clickhouse://etl:pw@ch1.internal:9000/salesnav"}))
	for name, ev := range map[string]RunEvent{
		"start.json":               pq.Start(startedAt),
		"complete_parquet.json":    pq.End(finishedAt, testSummary(), ""),
		"fail_clickhouse.json":     ch.End(finishedAt, testSummary(), "run partial: 1 error(s), see the summary"),
		"fail_before_loading.json": pq.End(finishedAt, nil, "opening the sink: permission denied"),
	} {
		got := encode(t, ev)
		golden := filepath.Join("testdata", "golden", name)
		if *update {
			if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(golden, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (go test ./internal/lineage -run TestEventsGolden -update writes it)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from the golden file:\n%s", name, got)
		}
	}
}

// One run id and job for every event; START has the parent and inputs and
// no outputs; the end event has one output per stream loaded, with the
// summary's figures and the registry's columns.
func TestEventsOfARun(t *testing.T) {
	for _, sink := range []string{"parquet", "clickhouse"} {
		t.Run(sink, func(t *testing.T) {
			target := Target{Sink: sink, ParquetRoot: "/data/salesnav", ClickHouseDSN: "clickhouse://ch:9000/salesnav"}
			d := describe(t, testPlan(target))
			sum := testSummary()
			start, end := d.Start(startedAt), d.End(finishedAt, sum, "")
			for _, ev := range []RunEvent{start, end} {
				encode(t, ev)
				if ev.Run.RunID != testRunID || ev.Job.Name != "salesnav-etl.run" || ev.Job.Namespace != "salesnav-etl" {
					t.Errorf("%s: run %s job %s/%s", ev.EventType, ev.Run.RunID, ev.Job.Namespace, ev.Job.Name)
				}
				if p := ev.Run.Facets.Parent; p == nil || p.Run.RunID != parentRunID || p.Job.Name != "salesnav_etl.load" || p.Job.Namespace != "airflow-prod" {
					t.Errorf("%s: parent facet %+v", ev.EventType, p)
				}
				if len(ev.Inputs) != 2 || ev.Inputs[0].Name != "/v2/salesContracts" || ev.Inputs[1].Name != "/v2/salesAnalyticsExportJobs" {
					t.Errorf("%s: inputs %+v", ev.EventType, ev.Inputs)
				}
			}
			if start.EventType != EventStart || !start.EventTime.Equal(startedAt) || len(start.Outputs) != 0 {
				t.Errorf("start: %s at %s, %d outputs", start.EventType, start.EventTime, len(start.Outputs))
			}
			if end.EventType != EventComplete || !end.EventTime.Equal(finishedAt) || end.Run.Facets.ErrorMessage != nil {
				t.Errorf("end: %s at %s, error facet %v", end.EventType, end.EventTime, end.Run.Facets.ErrorMessage)
			}
			var names []string
			for _, o := range end.Outputs {
				stream := o.Name[strings.LastIndexAny(o.Name, "/.")+1:]
				names = append(names, stream)
				st, err := schema.Lookup(stream)
				if err != nil {
					t.Fatal(err)
				}
				want := sum.Streams[stream]
				stats := o.OutputFacets.OutputStatistics
				if stats.RowCount != want.Rows || stats.Size != want.Bytes {
					t.Errorf("%s: rowCount %d size %d, summary rows %d bytes %d", stream, stats.RowCount, stats.Size, want.Rows, want.Bytes)
				}
				if (stats.FileCount != nil) != (sink == "parquet") || (stats.FileCount != nil && *stats.FileCount != int64(want.Files)) {
					t.Errorf("%s: fileCount %v into %s, %d files", stream, stats.FileCount, sink, want.Files)
				}
				var got []string
				for _, f := range o.Facets.Schema.Fields {
					got = append(got, f.Name)
				}
				wantFields := append(st.ColumnNames(), want.Drift...)
				if !st.Dimension() {
					if sink == "clickhouse" && slices.Contains(st.Key, schema.RowHash) {
						wantFields = append(wantFields, schema.RowHash)
					}
					for _, f := range st.LineageFields() {
						wantFields = append(wantFields, f.Name)
					}
				}
				if !slices.Equal(got, wantFields) {
					t.Errorf("%s: schema fields %v, want %v", stream, got, wantFields)
				}
			}
			if !slices.Equal(names, []string{"contracts", "seat", "activity"}) {
				t.Errorf("outputs %v, want the streams that loaded a window, in run order", names)
			}
		})
	}
}

// A failed run's event is FAIL with the failure and the summary's first
// errors as its message; the list is cut at ten.
func TestFailEvent(t *testing.T) {
	d := describe(t, testPlan(Target{Sink: "parquet", ParquetRoot: "/data/salesnav"}))
	sum := testSummary()
	for i := range 12 {
		sum.Errors = append(sum.Errors, pipeline.UnitError{Stream: "activity", Contract: fmt.Sprintf("urn:li:salesContract:%d", i), Error: "boom"})
	}
	sum.Errors = append(sum.Errors, pipeline.UnitError{Error: "run-level"})
	ev := d.End(finishedAt, sum, "run partial: 14 error(s), see the summary")
	encode(t, ev)
	if ev.EventType != EventFail || ev.Run.Facets.ErrorMessage == nil {
		t.Fatalf("event %s, facet %v", ev.EventType, ev.Run.Facets.ErrorMessage)
	}
	msg := ev.Run.Facets.ErrorMessage.Message
	lines := strings.Split(msg, "\n")
	if lines[0] != "run partial: 14 error(s), see the summary" || len(lines) != 12 || lines[11] != "… and 4 more" ||
		lines[1] != "activity_outcome urn:li:salesContract:1001 2026-02-01/2026-02-08: export job 7: FAILED_DUE_TO_INTERNAL_ERROR" {
		t.Errorf("message:\n%s", msg)
	}
	if ev.Run.Facets.ErrorMessage.ProgrammingLanguage != "GO" {
		t.Errorf("programmingLanguage %q", ev.Run.Facets.ErrorMessage.ProgrammingLanguage)
	}
	if got := failureMessage("x", &pipeline.Summary{Errors: []pipeline.UnitError{{Error: "run-level"}}}); got != "x\nrun-level" {
		t.Errorf("a run-level error: %q", got)
	}
}

// Without a parent, no parent facet.
func TestNoParent(t *testing.T) {
	p := testPlan(Target{Sink: "parquet", ParquetRoot: "/data/salesnav"})
	p.Parent = nil
	ev := describe(t, p).Start(startedAt)
	raw := encode(t, ev)
	if ev.Run.Facets.Parent != nil || bytes.Contains(raw, []byte(`"parent"`)) {
		t.Errorf("a parent facet without a parent:\n%s", raw)
	}
}

func TestDescribeRefuses(t *testing.T) {
	for name, mutate := range map[string]func(*Plan){
		"run id not a UUID": func(p *Plan) { p.RunID = "run-1" },
		"no job":            func(p *Plan) { p.Job = "" },
		"relative dir":      func(p *Plan) { p.Target.ParquetRoot = "out" },
		"unknown sink":      func(p *Plan) { p.Target.Sink = "csv" },
		"API URL":           func(p *Plan) { p.APIURL = "ftp://api" },
	} {
		p := testPlan(Target{Sink: "parquet", ParquetRoot: "/data/salesnav"})
		mutate(&p)
		if _, err := Describe(p); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestProducer(t *testing.T) {
	for version, want := range map[string]string{"dev": projectURI, "": projectURI, "v1.4.0": projectURI + "/tree/v1.4.0"} {
		if got := Producer(version); got != want {
			t.Errorf("Producer(%q) = %q, want %q", version, got, want)
		}
	}
}

func TestNewRunIDIsAUUIDv7(t *testing.T) {
	id, err := NewRunID()
	if err != nil {
		t.Fatal(err)
	}
	if len(id) != 36 || id[14] != '7' {
		t.Errorf("run id %q is not a UUIDv7", id)
	}
	p := testPlan(Target{Sink: "parquet", ParquetRoot: "/data/salesnav"})
	p.RunID = id
	if _, err := Describe(p); err != nil {
		t.Error(err)
	}
}

// The validator fails an event that breaks the spec: it can fail.
func TestValidateRejectsBrokenEvents(t *testing.T) {
	d := describe(t, testPlan(Target{Sink: "parquet", ParquetRoot: "/data/salesnav"}))
	good, _ := json.Marshal(d.End(finishedAt, testSummary(), "failed"))
	if err := lineagetest.Validate(good); err != nil {
		t.Fatalf("the good event: %v", err)
	}
	for name, breakIt := range map[string]func(ev map[string]any){
		"run id not a uuid": func(ev map[string]any) { ev["run"].(map[string]any)["runId"] = "run-1" },
		"no job name":       func(ev map[string]any) { delete(ev["job"].(map[string]any), "name") },
		"bad event type":    func(ev map[string]any) { ev["eventType"] = "DONE" },
		"facet without _producer": func(ev map[string]any) {
			delete(ev["run"].(map[string]any)["facets"].(map[string]any)["parent"].(map[string]any), "_producer")
		},
		"error facet without message": func(ev map[string]any) {
			delete(ev["run"].(map[string]any)["facets"].(map[string]any)["errorMessage"].(map[string]any), "message")
		},
		"rowCount not an integer": func(ev map[string]any) {
			out := ev["outputs"].([]any)[0].(map[string]any)
			out["outputFacets"].(map[string]any)["outputStatistics"].(map[string]any)["rowCount"] = "many"
		},
		"schema field without a name": func(ev map[string]any) {
			out := ev["outputs"].([]any)[0].(map[string]any)
			fields := out["facets"].(map[string]any)["schema"].(map[string]any)["fields"].([]any)
			delete(fields[0].(map[string]any), "name")
		},
		"a facet with no schema": func(ev map[string]any) {
			ev["run"].(map[string]any)["facets"].(map[string]any)["nominalTime"] = map[string]any{"_producer": testProducer, "_schemaURL": "https://x"}
		},
		"wrong _schemaURL": func(ev map[string]any) {
			ev["job"].(map[string]any)["facets"].(map[string]any)["jobType"].(map[string]any)["_schemaURL"] = "https://openlineage.io/spec/facets/1-0-0/JobTypeJobFacet.json#/$defs/JobTypeJobFacet"
		},
	} {
		var ev map[string]any
		if err := json.Unmarshal(good, &ev); err != nil {
			t.Fatal(err)
		}
		breakIt(ev)
		raw, _ := json.Marshal(ev)
		if err := lineagetest.Validate(raw); err == nil {
			t.Errorf("%s: the validator accepts it", name)
		}
	}
	if err := lineagetest.Validate([]byte("{")); err == nil {
		t.Error("not JSON: accepted")
	}
}
