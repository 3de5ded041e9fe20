package singer

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/salesnav-etl/salesnav-etl/connector"
	"github.com/salesnav-etl/salesnav-etl/connector/protocoltest"
	"github.com/salesnav-etl/salesnav-etl/load"
	"github.com/salesnav-etl/salesnav-etl/pipeline"
	"github.com/salesnav-etl/salesnav-etl/schema"
	"github.com/salesnav-etl/salesnav-etl/transform"
)

var update = flag.Bool("update", false, "rewrite the golden files")

var fixed = func() time.Time { return time.Date(2026, 2, 11, 12, 0, 0, 0, time.UTC) }

// The discovered catalog is a valid Singer catalog (golden file): every
// stream, the configuration's selected, with key, replication method and
// key.
func TestCatalogOf(t *testing.T) {
	raw, err := json.MarshalIndent(CatalogOf([]*schema.Stream{schema.Activity, schema.Contracts}), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := protocoltest.Validate("SingerCatalog", raw); err != nil {
		t.Errorf("not a Singer catalog: %v", err)
	}
	path := filepath.Join("testdata", "golden", "catalog.json")
	raw = append(raw, '\n')
	if *update {
		os.WriteFile(path, raw, 0o644)
	}
	if want, _ := os.ReadFile(path); !bytes.Equal(raw, want) {
		t.Errorf("the catalog differs from %s (go test -update rewrites it)", path)
	}
	// Discovered as is, it selects what the configuration offers.
	sel, err := ParseCatalog(raw)
	if err != nil {
		t.Fatal(err)
	}
	if len(sel) != 2 || sel[0].Stream != schema.Contracts || sel[0].Incremental || sel[1].Stream != schema.Activity || !sel[1].Incremental {
		t.Errorf("selected %+v", sel)
	}
}

// Only streams whose stream-level metadata says selected: true run, with
// their replication method.
func TestParseCatalog(t *testing.T) {
	entry := func(id string, md string) string {
		return `{"tap_stream_id":"` + id + `","schema":{},"metadata":[{"breadcrumb":["properties","x"],"metadata":{"selected":true}},{"breadcrumb":[],"metadata":` + md + `}]}`
	}
	doc := `{"streams":[` + strings.Join([]string{
		entry("seat", `{"selected":true,"replication-method":"FULL_TABLE"}`),
		entry("activity", `{"selected":true}`),
		entry("activity_outcome", `{"selected":false}`),
		entry("crm_validation", `{}`),
		`{"tap_stream_id":"contracts","schema":{},"metadata":[{"breadcrumb":["properties","contract"],"metadata":{"selected":true}}]}`,
	}, ",") + `]}`
	sel, err := ParseCatalog([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if len(sel) != 2 || sel[0].Stream != schema.Seat || sel[0].Incremental || sel[1].Stream != schema.Activity || !sel[1].Incremental {
		t.Errorf("selected %+v", sel)
	}
	for _, tc := range []struct{ doc, want string }{
		{`{"streams":[` + entry("contracts", `{"selected":true,"replication-method":"INCREMENTAL"}`) + `]}`, "(contracts): replication-method INCREMENTAL"},
		{`{"streams":[` + entry("seat", `{"selected":true,"replication-method":"LOG_BASED"}`) + `]}`, `replication-method "LOG_BASED"`},
		{`{"streams":[` + entry("bogus", `{"selected":true}`) + `]}`, `streams[0].tap_stream_id: unknown stream "bogus"`},
		{`{"streams":[` + entry("seat", `{"selected":false}`) + `]}`, "no stream is selected"},
	} {
		if _, err := ParseCatalog([]byte(tc.doc)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("error %v, want %q", err, tc.want)
		}
	}
}

func TestParseState(t *testing.T) {
	for _, empty := range []string{"", "null", "{}"} {
		if st, err := ParseState([]byte(empty)); err != nil || len(st) != 0 {
			t.Errorf("%q: %v %v", empty, st, err)
		}
	}
	st, err := ParseState([]byte(`{"bookmarks":{"activity":{"version":1,"cursors":{"c":"2026-02-05"}}}}`))
	if err != nil || st["activity"].Cursors["c"] != "2026-02-05" {
		t.Errorf("%v %v", st, err)
	}
	for _, bad := range []string{`{"activity":{"version":1}}`, `{"bookmarks":{"activity":{"version":1,"cursors":{"c":"x"}}}}`, `[]`} {
		if _, err := ParseState([]byte(bad)); !errors.Is(err, connector.ErrBadState) {
			t.Errorf("%s: %v, want ErrBadState", bad, err)
		}
	}
}

// A sync writes every selected stream's SCHEMA first, then records and
// states, and a last state that keeps the bookmarks of streams it did not
// read; a FULL_TABLE stream reads from scratch.
func TestSync(t *testing.T) {
	var buf bytes.Buffer
	s := &Sync{W: &Writer{Out: connector.NewOutput(&buf), Now: fixed}, TempDir: t.TempDir(),
		Streams: []Selected{{Stream: schema.Seat}, {Stream: schema.Activity, Incremental: true}},
		State: map[string]connector.StreamState{
			"seat":             {Version: 1, Cursors: map[string]string{"c1": "2026-02-05"}},
			"activity_outcome": {Version: 1, Cursors: map[string]string{"c1": "2026-01-01"}},
		}}
	start := time.Date(2026, 2, 5, 0, 0, 0, 0, time.UTC)
	_, err := s.Run(context.Background(), func(ctx context.Context, sink load.Sink, state load.StateStore) (*pipeline.Summary, error) {
		if _, ok, _ := state.Cursor(ctx, "seat", "c1"); ok {
			t.Error("a FULL_TABLE stream starts from its bookmark")
		}
		tr, err := transform.NewReader(strings.NewReader("activityId,activityType,createdAt,seatId\na1,INMAIL_SENT,02-05-2026 10:00:00,7\n"), schema.Activity,
			transform.WithLineage(transform.Lineage{Contract: "c1", WindowStart: start, WindowEnd: start.AddDate(0, 0, 3).Add(-time.Millisecond), JobID: 1, ExtractedAt: fixed()}))
		if err != nil {
			t.Fatal(err)
		}
		defer tr.Release()
		ww, _ := sink.OpenWindow(ctx, load.Window{Stream: schema.Activity, Contract: "c1"}, tr.Schema())
		for tr.Next() {
			ww.Write(ctx, tr.RecordBatch())
		}
		ww.Commit(ctx)
		return &pipeline.Summary{Status: pipeline.StatusComplete}, state.SetCursor(ctx, "activity", "c1", start.AddDate(0, 0, 3))
	})
	if err != nil {
		t.Fatal(err)
	}
	out, err := protocoltest.Singer(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, m := range out.Messages {
		types = append(types, m.Type+" "+func() string { s, _ := m.Raw["stream"].(string); return s }())
	}
	if got := strings.Join(types, ","); got != "SCHEMA seat,SCHEMA activity,RECORD activity,STATE ,STATE " {
		t.Errorf("messages %s", got)
	}
	last := out.States[len(out.States)-1].Value
	if want := `{"bookmarks":{"activity":{"cursors":{"c1":"2026-02-08"},"version":1},"activity_outcome":{"cursors":{"c1":"2026-01-01"},"version":1}}}`; string(last) != want {
		t.Errorf("last state %s\nwant %s", last, want)
	}
	schemaMsg := out.Of("SCHEMA")[1].Raw
	if schemaMsg["bookmark_properties"].([]any)[0] != "_window_end" || len(schemaMsg["key_properties"].([]any)) != 2 {
		t.Errorf("SCHEMA of activity: %v %v", schemaMsg["key_properties"], schemaMsg["bookmark_properties"])
	}
}
