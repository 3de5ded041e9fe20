package airbyte

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/salesnav-etl/salesnav-etl/connector"
	"github.com/salesnav-etl/salesnav-etl/connector/protocoltest"
	"github.com/salesnav-etl/salesnav-etl/extract"
	"github.com/salesnav-etl/salesnav-etl/load"
	"github.com/salesnav-etl/salesnav-etl/pipeline"
	"github.com/salesnav-etl/salesnav-etl/schema"
	"github.com/salesnav-etl/salesnav-etl/transform"
)

var update = flag.Bool("update", false, "rewrite the golden files")

var fixed = func() time.Time { return time.Date(2026, 2, 11, 12, 0, 0, 0, time.UTC) }

func writer() (*Writer, *bytes.Buffer) {
	var buf bytes.Buffer
	return &Writer{Out: connector.NewOutput(&buf), Now: fixed}, &buf
}

// golden compares got with testdata/golden/name (rewritten by -update).
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it):\n%s", name, got)
	}
}

func indent(t *testing.T, line []byte) []byte {
	var b bytes.Buffer
	if err := json.Indent(&b, line, "", "  "); err != nil {
		t.Fatal(err)
	}
	return append(b.Bytes(), '\n')
}

// SPEC and CATALOG are valid messages, as the golden files show them: the
// configuration's schema; every stream of the registry with its schema,
// sync modes, cursor and key.
func TestSpecAndCatalog(t *testing.T) {
	w, buf := writer()
	if err := w.Spec(); err != nil {
		t.Fatal(err)
	}
	if err := protocoltest.Validate("AirbyteMessage", buf.Bytes()); err != nil {
		t.Errorf("SPEC: %v", err)
	}
	golden(t, "spec.json", indent(t, buf.Bytes()))
	buf.Reset()
	if err := w.Catalog(schema.All()); err != nil {
		t.Fatal(err)
	}
	if err := protocoltest.Validate("AirbyteMessage", buf.Bytes()); err != nil {
		t.Errorf("CATALOG: %v", err)
	}
	golden(t, "catalog.json", indent(t, buf.Bytes()))
	for _, s := range CatalogOf(schema.All()).Streams {
		if _, err := protocoltest.Compile(s.JSONSchema); err != nil {
			t.Errorf("%s: json_schema: %v", s.Name, err)
		}
	}
}

// Logs are LOG messages on the same output, at their level, the record
// in slog's text form without time and level.
func TestLogHandler(t *testing.T) {
	w, buf := writer()
	log := slog.New(LogHandler(w, slog.LevelInfo)).With("stream", "activity")
	log.Debug("hidden")
	log.Info("window loaded", "rows", 12)
	log.WithGroup("g").Warn("slow", "ms", 5)
	log.Error("failed", "error", errors.New(`bad "quote"`))
	out, err := protocoltest.Airbyte(buf.Bytes(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range out.Of(TypeLog) {
		l := m.Raw["log"].(map[string]any)
		got = append(got, l["level"].(string)+" "+l["message"].(string))
	}
	want := []string{`INFO msg="window loaded" stream=activity rows=12`, `WARN msg=slow stream=activity g.ms=5`,
		`ERROR msg=failed stream=activity error="bad \"quote\""`}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("logs:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestParseCatalog(t *testing.T) {
	cat := func(streams ...string) []byte {
		return []byte(`{"streams":[` + strings.Join(streams, ",") + `]}`)
	}
	s := func(name, mode string) string {
		return fmt.Sprintf(`{"stream":{"name":%q,"json_schema":{},"supported_sync_modes":["full_refresh"]},"sync_mode":%q,"destination_sync_mode":"append"}`, name, mode)
	}
	got, err := ParseCatalog(cat(s("activity", "incremental"), s("contracts", "full_refresh"), s("seat", "full_refresh")))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].Stream != schema.Contracts || got[1].Stream != schema.Seat || got[1].Incremental || !got[2].Incremental {
		t.Errorf("parsed %+v", got)
	}
	for _, tc := range []struct {
		doc  []byte
		want []string
	}{
		{cat(s("bogus", "incremental")), []string{`streams[0].stream.name: unknown stream "bogus"`}},
		{cat(s("contracts", "incremental"), s("seat", "sometimes")), []string{"streams[0].sync_mode: stream contracts is read whole each sync", `streams[1].sync_mode: "sometimes"`}},
		{cat(s("seat", "incremental"), s("seat", "incremental")), []string{"streams[1]: stream seat is configured twice"}},
		{cat(), []string{"streams: none configured"}},
		{[]byte(`{"streams": 5}`), []string{"not a configured catalog"}},
	} {
		_, err := ParseCatalog(tc.doc)
		for _, w := range tc.want {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %v, want %q", tc.doc, err, w)
			}
		}
	}
}

func TestParseState(t *testing.T) {
	for _, empty := range []string{"", " ", "null", "[]", "{}"} {
		if st, err := ParseState([]byte(empty)); err != nil || len(st) != 0 {
			t.Errorf("%q: %v %v", empty, st, err)
		}
	}
	got, err := ParseState([]byte(`[{"type":"STREAM","stream":{"stream_descriptor":{"name":"activity"},"stream_state":{"version":1,"cursors":{"c":"2026-02-05"}}}},
		{"type":"STREAM","stream":{"stream_descriptor":{"name":"seat"},"stream_state":{}}}]`))
	if err != nil || len(got) != 1 || got["activity"].Cursors["c"] != "2026-02-05" {
		t.Errorf("%v %v", got, err)
	}
	for _, bad := range []string{`[{"type":"GLOBAL","global":{"stream_states":[]}}]`, `{"type":"LEGACY","data":{}}`, `[{"type":"STREAM","stream":{"stream_descriptor":{"name":"a"},"stream_state":{"version":9}}}]`, `[1]`} {
		if _, err := ParseState([]byte(bad)); !errors.Is(err, connector.ErrBadState) {
			t.Errorf("%s: %v, want ErrBadState", bad, err)
		}
	}
}

// window loads one window of st's rows (csv) into sink and saves its
// cursor, as the pipeline does.
func window(ctx context.Context, t *testing.T, sink load.Sink, state load.StateStore, st *schema.Stream, contract, csv string, start time.Time) {
	t.Helper()
	end := start.AddDate(0, 0, 3)
	tr, err := transform.NewReader(strings.NewReader(csv), st, transform.WithLineage(transform.Lineage{Contract: contract, WindowStart: start,
		WindowEnd: end.Add(-time.Millisecond), JobID: 1, ExtractedAt: fixed(), SnapshotDate: end.AddDate(0, 0, -1)}))
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Release()
	ww, err := sink.OpenWindow(ctx, load.Window{Stream: st, Contract: contract, Start: start, End: end}, tr.Schema())
	if err != nil {
		t.Fatal(err)
	}
	for tr.Next() {
		if err := ww.Write(ctx, tr.RecordBatch()); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := ww.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := state.SetCursor(ctx, st.Name, contract, end); err != nil {
		t.Fatal(err)
	}
}

const activityCSV = "activityId,activityType,createdAt,seatId\na1,INMAIL_SENT,02-05-2026 10:00:00,7\na2,SAVED_LEAD,02-06-2026 10:00:00,8\n"

// A read writes STARTED, then RUNNING, records and a state per window,
// then a state for each stream that emitted none, errors, and COMPLETE or
// INCOMPLETE; every message valid, each record valid against its stream's
// schema; a full_refresh stream reads from scratch whatever its state.
func TestRead(t *testing.T) {
	start := time.Date(2026, 2, 5, 0, 0, 0, 0, time.UTC)
	incoming := map[string]connector.StreamState{
		"activity": {Version: 1, Cursors: map[string]string{"c1": "2026-02-05"}},
		"seat":     {Version: 1, Cursors: map[string]string{"c1": "2026-02-05"}},
	}
	streams := []ConfiguredStream{{Stream: schema.Seat}, {Stream: schema.Activity, Incremental: true}, {Stream: schema.ActivityOutcome, Incremental: true}}
	unauthorized := fmt.Errorf("creating activity_outcome export: %w", &extract.APIError{Op: "createAnalyticsExport", StatusCode: 401})
	w, buf := writer()
	r := &Read{W: w, Streams: streams, State: incoming, TempDir: t.TempDir(),
		Rejects: func() ([]connector.RejectCount, error) {
			return []connector.RejectCount{{Stream: "activity", Column: "seatId", Reason: "not an integer", Rows: 2}}, nil
		}}
	sum, err := r.Run(context.Background(), func(ctx context.Context, sink load.Sink, state load.StateStore) (*pipeline.Summary, error) {
		if c, ok, _ := state.Cursor(ctx, "activity", "c1"); !ok || !c.Equal(start) {
			t.Errorf("incremental activity starts from %v %v, want its state", c, ok)
		}
		if _, ok, _ := state.Cursor(ctx, "seat", "c1"); ok {
			t.Error("full_refresh seat starts from its state")
		}
		window(ctx, t, sink, state, schema.Activity, "c1", activityCSV, start)
		return &pipeline.Summary{Status: pipeline.StatusPartial, Errors: []pipeline.UnitError{
			{Stream: "activity_outcome", Contract: "c1", Window: "2026-02-05/2026-02-08", Error: unauthorized.Error(), Cause: unauthorized}}}, nil
	})
	if err != nil || sum == nil {
		t.Fatalf("%v %v", sum, err)
	}
	schemas := map[string]any{}
	for _, s := range CatalogOf(schema.All()).Streams {
		schemas[s.Name] = s.JSONSchema
	}
	out, err := protocoltest.Airbyte(buf.Bytes(), schemas)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range out.Messages {
		switch m.Type {
		case TypeTrace:
			tr := m.Raw["trace"].(map[string]any)
			switch tr["type"] {
			case TraceStreamStatus:
				ss := tr["stream_status"].(map[string]any)
				got = append(got, "status "+ss["stream_descriptor"].(map[string]any)["name"].(string)+" "+ss["status"].(string))
			case TraceError:
				e := tr["error"].(map[string]any)
				got = append(got, "error "+e["failure_type"].(string)+" "+e["message"].(string))
			case TraceAnalytics:
				a := tr["analytics"].(map[string]any)
				got = append(got, "analytics "+a["type"].(string)+" "+a["value"].(string))
			}
		case TypeRecord:
			got = append(got, "record "+m.Raw["record"].(map[string]any)["stream"].(string))
		case TypeState:
			s := m.Raw["state"].(map[string]any)["stream"].(map[string]any)
			st, _ := json.Marshal(s["stream_state"])
			got = append(got, "state "+s["stream_descriptor"].(map[string]any)["name"].(string)+" "+string(st))
		case TypeLog:
			got = append(got, "log "+m.Raw["log"].(map[string]any)["message"].(string))
		}
	}
	want := []string{
		"status seat STARTED", "status activity STARTED", "status activity_outcome STARTED",
		"status activity RUNNING", "record activity", "record activity",
		`state activity {"cursors":{"c1":"2026-02-08"},"version":1}`,
		"analytics rejected_rows activity:2",
		`state seat {"cursors":{},"version":1}`, `state activity_outcome {"cursors":{},"version":1}`,
		"error config_error stream activity_outcome, c1, window 2026-02-05/2026-02-08: the API refused the configuration's credentials: creating activity_outcome export: createAnalyticsExport: HTTP 401",
		"status seat COMPLETE", "status activity COMPLETE", "status activity_outcome INCOMPLETE",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("messages:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// Time cures a spent quota and a stop: transient errors, every stream
// incomplete; LinkedIn's late data is no failure: the stream is complete.
func TestReadOutcomes(t *testing.T) {
	reset := time.Date(2026, 2, 12, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name   string
		sum    *pipeline.Summary
		runErr error
		want   []string
	}{
		{"quota", &pipeline.Summary{Status: pipeline.StatusTemporary, QuotaResetAt: &reset}, extract.ErrQuotaExhausted,
			[]string{"error transient_error LinkedIn's API quota is spent; it resets at 2026-02-12T00:00:00Z", "activity INCOMPLETE"}},
		{"stopped", &pipeline.Summary{Status: pipeline.StatusTemporary, Stopped: true}, nil,
			[]string{"error transient_error the read was stopped", "activity INCOMPLETE"}},
		{"deferred", &pipeline.Summary{Status: pipeline.StatusTemporary, Deferred: []pipeline.UnitError{{Stream: "activity", Contract: "c1", Error: "data delay"}}}, nil,
			[]string{`WARN msg="deferred to the next sync`, "activity COMPLETE"}},
		{"could not start", nil, errors.New("no client"), []string{"error system_error the read could not start: no client", "activity INCOMPLETE"}},
		{"run-level failure", &pipeline.Summary{Status: pipeline.StatusFailed, Errors: []pipeline.UnitError{{Error: "listing contracts: boom", Cause: errors.New("boom")}}}, nil,
			[]string{"error system_error listing contracts: boom", "activity INCOMPLETE"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, buf := writer()
			r := &Read{W: w, Streams: []ConfiguredStream{{Stream: schema.Activity, Incremental: true}}, Log: slog.New(LogHandler(w, slog.LevelInfo))}
			_, _ = r.Run(context.Background(), func(context.Context, load.Sink, load.StateStore) (*pipeline.Summary, error) { return tc.sum, tc.runErr })
			out, err := protocoltest.Airbyte(buf.Bytes(), nil)
			if err != nil {
				t.Fatal(err)
			}
			var text []string
			for _, m := range out.Messages {
				if tr, ok := m.Raw["trace"].(map[string]any); ok && tr["type"] == TraceError {
					e := tr["error"].(map[string]any)
					text = append(text, "error "+e["failure_type"].(string)+" "+e["message"].(string))
				}
				if tr, ok := m.Raw["trace"].(map[string]any); ok && tr["type"] == TraceStreamStatus {
					ss := tr["stream_status"].(map[string]any)
					text = append(text, "activity "+ss["status"].(string))
				}
				if l, ok := m.Raw["log"].(map[string]any); ok {
					text = append(text, l["level"].(string)+" "+l["message"].(string))
				}
			}
			all := strings.Join(text, "\n")
			for _, w := range tc.want {
				if !strings.Contains(all, w) {
					t.Errorf("%q not in:\n%s", w, all)
				}
			}
		})
	}
}
