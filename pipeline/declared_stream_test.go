package pipeline_test

// Issue 16: a stream of an existing kind is declared in one place. This
// file is the whole of note_events: its registry entry and the fake API's
// data for it. Nothing else in the code knows it, and it loads end to end
// through both sinks.

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/salesnav-etl/salesnav-etl/fakeapi"
	"github.com/salesnav-etl/salesnav-etl/pipeline"
	"github.com/salesnav-etl/salesnav-etl/schema"
)

// noteEvents is an analytics export of events with their own dates.
var noteEvents = &schema.Stream{
	Name:         "note_events",
	Extract:      schema.AnalyticsExport,
	Action:       "exportNoteEvents",
	Partitioning: schema.ByRecordDay,
	DayColumn:    "createdAt",
	Write:        schema.MergeByKey,
	Columns: []schema.Column{
		{Name: "noteId", Kind: schema.String, Required: true, Distinct: true},
		{Name: "createdAt", Kind: schema.Timestamp, Required: true},
		{Name: "author", Kind: schema.String, Nullable: true},
		{Name: "words", Kind: schema.Int64, Required: true},
	},
	Key: []string{schema.LineageContract, "noteId"},
}

// noteRecords is the fake's data: two notes a day per contract, at 09:00
// and 16:30 UTC, the second one without an author.
func noteRecords(contract string, startMs, endMs int64) [][]string {
	var out [][]string
	day := time.UnixMilli(startMs).UTC().Truncate(24 * time.Hour)
	for ; day.UnixMilli() <= endMs; day = day.AddDate(0, 0, 1) {
		for i, at := range []time.Time{day.Add(9 * time.Hour), day.Add(16*time.Hour + 30*time.Minute)} {
			if at.UnixMilli() < startMs || at.UnixMilli() > endMs {
				continue
			}
			author := "ann"
			if i == 1 {
				author = ""
			}
			id := fmt.Sprintf("%s/%s/%d", contract, day.Format("20060102"), i)
			out = append(out, []string{id, fakeapi.ExportTime(at), author, fmt.Sprint(10 + i)})
		}
	}
	return out
}

func TestStreamDeclaredInOneFile(t *testing.T) {
	unregister, err := schema.Register(noteEvents)
	if err != nil {
		t.Fatal(err)
	}
	defer unregister()
	exports := map[string]fakeapi.Export{noteEvents.Action: fakeapi.RecordsExport{Stream: noteEvents, Records: noteRecords}}
	forBoth(t, func(t *testing.T, k sinkKind) {
		r := newRig(t, k, fakeapi.Config{Exports: exports})
		start, end := date("2026-03-01"), date("2026-03-04") // three days
		notes := func(c *pipeline.Config) { c.Streams = []*schema.Stream{noteEvents}; c.LookbackDays = 0 }
		sum := r.mustComplete(start, end, notes)
		rows := r.target.Rows(t, noteEvents.Name)
		contracts := reportingContracts()
		if want := 3 * 2 * len(contracts); len(rows) != want || sum.Streams[noteEvents.Name].Rows != int64(want) {
			t.Fatalf("%d rows loaded (summary %d), want %d", len(rows), sum.Streams[noteEvents.Name].Rows, want)
		}
		nulls := 0
		for _, row := range rows {
			var m map[string]any
			if err := json.Unmarshal([]byte(row), &m); err != nil {
				t.Fatal(err)
			}
			if m["author"] == nil {
				nulls++
			}
		}
		if nulls != len(rows)/2 {
			t.Errorf("%d rows without an author, want %d", nulls, len(rows)/2)
		}
		for _, c := range contracts {
			cur, ok, err := r.target.State.Cursor(context.Background(), noteEvents.Name, c)
			if err != nil || !ok || !cur.Equal(end) {
				t.Errorf("cursor of %s: %v %v %v, want %s", c, cur, ok, err, end.Format(time.DateOnly))
			}
		}
		// A backfill of the same days loads them again: nothing doubles.
		r.mustComplete(start, end, notes, func(c *pipeline.Config) { c.Backfill = true })
		if again := r.target.Rows(t, noteEvents.Name); !slices.Equal(again, rows) {
			t.Errorf("after a backfill: %d rows, before %d", len(again), len(rows))
		}
	})
}

// reportingContracts are the fake's contracts with reporting access.
func reportingContracts() []string {
	var out []string
	for _, c := range fakeapi.DefaultContracts {
		if c.HasReportingAccess {
			out = append(out, c.URN)
		}
	}
	return out
}
