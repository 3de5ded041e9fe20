package connector

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/salesnav-etl/salesnav-etl/fakeapi"
	"github.com/salesnav-etl/salesnav-etl/internal/testkit"
	"github.com/salesnav-etl/salesnav-etl/load"
	"github.com/salesnav-etl/salesnav-etl/pipeline"
	"github.com/salesnav-etl/salesnav-etl/schema"
)

// testFrame frames a record as {"stream":…,"data":DATA}.
type testFrame struct{}

func (testFrame) Record(stream string, _ time.Time) ([]byte, []byte) {
	return []byte(`{"stream":"` + stream + `","data":`), []byte("}")
}

// line is one line a sync wrote: a record or a state.
type line struct {
	Stream string            `json:"stream"`
	Data   map[string]any    `json:"data"`
	State  map[string]string `json:"state"` // cursors, by contract
}

// syncWith runs the pipeline against fake into a Sink and a State that
// write to one buffer, and returns its lines and the run's summary.
func syncWith(t *testing.T, fake *testkit.Fake, mutate func(*pipeline.Config)) ([]line, *pipeline.Summary) {
	t.Helper()
	var buf bytes.Buffer
	out := NewOutput(&buf)
	state := NewState(nil, func(stream string, st StreamState, _ map[string]StreamState) error {
		return out.JSON(line{Stream: stream, State: st.Cursors})
	}, fixed)
	sink := NewSink(SinkConfig{Out: out, Frame: testFrame{}, TempDir: t.TempDir(), Now: fixed})
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	sum, err := testkit.Run(t, fake.URL, sink, state, t.TempDir(), mem, testkit.Date("2026-02-01"), testkit.Date("2026-02-09"),
		func(c *pipeline.Config) {
			c.Now, c.WindowDays = fixed, 3
			if mutate != nil {
				mutate(c)
			}
		})
	if err != nil {
		t.Fatal(err)
	}
	var lines []line
	dec := json.NewDecoder(&buf)
	for dec.More() {
		var l line
		if err := dec.Decode(&l); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, l)
	}
	return lines, sum
}

// The cursor-last rule holds through the protocols' sink: every record
// of a window comes before the first state whose cursor covers it, and
// every record is covered by a state in the end.
func TestSinkCursorLast(t *testing.T) {
	fake := testkit.NewFake(t, fakeapi.Config{RowsPerDay: 30, Now: fixed})
	lines, sum := syncWith(t, fake, nil)
	if sum.Status != pipeline.StatusComplete {
		t.Fatalf("run %s: %v", sum.Status, sum.Errors)
	}
	records := 0
	for i, l := range lines {
		if l.Data == nil {
			continue
		}
		records++
		contract, _ := l.Data[schema.LineageContract].(string)
		end, err := time.Parse(time.RFC3339Nano, l.Data[schema.LineageWindowEnd].(string))
		if err != nil {
			t.Fatal(err)
		}
		covers := end.Add(time.Millisecond).Format(time.DateOnly) // the window's cursor
		covered := false
		for j, s := range lines {
			if s.State == nil || s.Stream != l.Stream {
				continue
			}
			if c, ok := s.State[contract]; ok && c >= covers {
				if j < i {
					t.Fatalf("line %d: a record of %s %s (window to %s) after state line %d with cursor %s", i, l.Stream, contract, covers, j, c)
				}
				covered = true
				break
			}
		}
		if !covered {
			t.Errorf("line %d: no state covers the record of %s %s (window to %s)", i, l.Stream, contract, covers)
		}
	}
	var want int64
	for _, st := range []string{"seat", "activity", "activity_outcome"} {
		want += sum.Streams[st].Rows
	}
	if records == 0 || int64(records) != want {
		t.Errorf("%d records written, the run loaded %d rows", records, want)
	}
}

// A window whose download is cut and tried again, and a window refused
// for its rejected rows, write nothing of their failed tries: no record
// twice, none of a window not loaded.
func TestSinkAbortedWindowsWriteNothing(t *testing.T) {
	fake := testkit.NewFake(t, fakeapi.Config{RowsPerDay: 30, Now: fixed, Faults: fakeapi.Faults{DropDownloads: 2}})
	lines, sum := syncWith(t, fake, nil)
	if sum.Status != pipeline.StatusComplete {
		t.Fatalf("run %s: %v", sum.Status, sum.Errors)
	}
	windows := 0
	for _, st := range sum.Streams {
		windows += st.Windows
	}
	if dl := fake.Server.Calls()["download"]; dl != windows+2 {
		t.Fatalf("%d downloads for %d windows: the two cut ones were not tried again", dl, windows)
	}
	seen := map[string]bool{}
	n := 0
	for _, l := range lines {
		if l.Stream != "activity" || l.Data == nil {
			continue
		}
		k := fmt.Sprint(l.Data["_contract"], l.Data["activityId"])
		if seen[k] {
			t.Fatalf("activity %s written twice", k)
		}
		seen[k] = true
		n++
	}
	if ids := fake.ActivityIDs([]string{"urn:li:salesContract:1001", "urn:li:salesContract:1002"}, testkit.Date("2026-02-01"), testkit.Date("2026-02-09")); n != len(ids) {
		t.Errorf("%d activity records, the fake serves %d", n, len(ids))
	}

	refused := testkit.NewFake(t, fakeapi.Config{RowsPerDay: 30, Now: fixed})
	refused.Mangle = func(b []byte) []byte { return bytes.ReplaceAll(b, []byte(",INMAIL_SENT,"), []byte(",INMAIL_SEND,")) }
	lines, sum = syncWith(t, refused, nil)
	if sum.Streams["activity"].Failed == 0 {
		t.Fatalf("no activity window was refused: %+v", sum.Streams["activity"])
	}
	for _, l := range lines {
		if l.Stream == "activity" && (l.Data != nil || len(l.State) > 0) {
			t.Fatalf("a refused window wrote %+v", l)
		}
	}
}

// The Sink keeps the CRM record ids of the exports it wrote for the
// profile associations of the same sync (load.ExportReader), after the
// watermark of each instance.
func TestSinkExportReader(t *testing.T) {
	var buf bytes.Buffer
	s := NewSink(SinkConfig{Out: NewOutput(&buf), Frame: testFrame{}, TempDir: t.TempDir(), Now: fixed})
	s.remember(schema.CRMValidation.Name, exportRecords{owner: "urn:a", start: 1, next: 10, ids: []string{"r2", "r1"}})
	s.remember(schema.CRMValidation.Name, exportRecords{owner: "urn:b", start: 1, next: 20, ids: []string{"r3"}})
	cols := []string{schema.LineageCRMInstance, schema.CRMRecordIDColumn, schema.LineageNextExportStartAt}
	got, _ := s.DistinctAfter(context.Background(), schema.CRMValidation.Name, cols, map[string]int64{"urn:a": 10})
	if fmt.Sprint(got) != "[[urn:b r3 20]]" {
		t.Errorf("after urn:a's watermark: %v", got)
	}
	got, _ = s.DistinctAfter(context.Background(), schema.CRMValidation.Name, cols, nil)
	if fmt.Sprint(got) != "[[urn:a r1 10] [urn:a r2 10] [urn:b r3 20]]" {
		t.Errorf("all: %v", got)
	}
	if rows, err := s.Latest(context.Background(), schema.ProfileAssociations, nil, load.RowFilter{}); rows != nil || err != nil {
		t.Errorf("Latest: %v %v", rows, err)
	}
}
