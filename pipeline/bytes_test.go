package pipeline_test

// Bad bytes never reach a sink, and nothing assumed is required: the fake
// API's content faults (InvalidUTF8Row, DocumentedColumnsOnly) through
// whole runs, read back with DuckDB and through ClickHouse's views.

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/salesnav-etl/salesnav-etl/fakeapi"
	"github.com/salesnav-etl/salesnav-etl/internal/testkit"
	"github.com/salesnav-etl/salesnav-etl/pipeline"
	"github.com/salesnav-etl/salesnav-etl/schema"
	"github.com/salesnav-etl/salesnav-etl/transform"
)

// The first row of every activity file holds invalid UTF-8 in activityId.
// DuckDB reads the whole Parquet dataset: the row is rejected (its line and
// column in the rejects file) or loaded repaired with U+FFFD, and the
// summary counts it either way.
func TestInvalidUTF8NeverReachesParquet(t *testing.T) {
	start, end := date("2026-03-01"), date("2026-03-03")
	for _, mode := range []transform.InvalidUTF8{transform.RejectInvalidUTF8, transform.ReplaceInvalidUTF8} {
		t.Run(map[transform.InvalidUTF8]string{transform.RejectInvalidUTF8: "reject", transform.ReplaceInvalidUTF8: "replace"}[mode], func(t *testing.T) {
			e := newEnv(t, 40)
			e.Server.SetFaults(fakeapi.Faults{InvalidUTF8Row: 1})
			sum := e.run(start, end, func(c *pipeline.Config) {
				c.Streams = []*schema.Stream{schema.Activity}
				c.InvalidUTF8 = mode
				c.MaxRejectRatio = 0.5
			})
			if sum.Status != pipeline.StatusComplete {
				t.Fatalf("status %s, errors %+v", sum.Status, sum.Errors)
			}
			served := len(e.fakeActivityIDs(start, end))
			bad := int64(len(reporting)) // one file per contract, its first row bad
			st := sum.Streams["activity"]
			wantRows, wantRejected, wantRepaired := int64(served)-bad, bad, int64(0)
			if mode == transform.ReplaceInvalidUTF8 {
				wantRows, wantRejected, wantRepaired = int64(served), 0, bad
			}
			if st.Rows != wantRows || st.Rejected != wantRejected || st.Repaired != wantRepaired {
				t.Errorf("summary rows %d rejected %d repaired %d, want %d %d %d", st.Rows, st.Rejected, st.Repaired, wantRows, wantRejected, wantRepaired)
			}
			glob := filepath.ToSlash(filepath.Join(e.dir, "activity")) + "/**/*.parquet"
			res := testkit.DuckDB(t, "SELECT count(*) AS n, count(DISTINCT activityId) AS ids, "+
				"count(*) FILTER (WHERE activityId LIKE '%' || chr(65533) || '%') AS repaired, "+
				"count(*) FILTER (WHERE substr(activityId, 2, 1) = chr(65533) AND length(activityId) - length(replace(activityId, chr(65533), '')) = 1) AS one_per_run "+
				"FROM read_parquet('"+glob+"', hive_partitioning=true)")
			row := res[0][0]
			if fmt.Sprint(row["n"]) != fmt.Sprint(wantRows) || fmt.Sprint(row["ids"]) != fmt.Sprint(wantRows) ||
				fmt.Sprint(row["repaired"]) != fmt.Sprint(wantRepaired) || fmt.Sprint(row["one_per_run"]) != fmt.Sprint(wantRepaired) {
				t.Errorf("DuckDB read %v, want %d rows, %d repaired", row, wantRows, wantRepaired)
			}
			if mode == transform.ReplaceInvalidUTF8 {
				return
			}
			var lines []string
			for _, f := range st.RejectFiles {
				raw, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				lines = append(lines, strings.Split(strings.TrimSpace(string(raw)), "\n")...)
			}
			if len(lines) != int(bad) {
				t.Fatalf("%d rejects on file, want %d", len(lines), bad)
			}
			for _, l := range lines {
				if !strings.Contains(l, `"line":2,`) || !strings.Contains(l, `"column":"activityId"`) || !strings.Contains(l, "not valid UTF-8") {
					t.Errorf("reject %s: want line 2, column activityId, the reason", l)
				}
			}
		})
	}
}

// Outcome and seat files with only the documented columns (the outcome's
// activityId and activityType; the seat's columns under names the
// connector does not know) load whole. Parquet: outcome rows, which have
// no day, go to the window's first day, and the same window loaded again
// replaces them.
func TestDocumentedColumnsOnlyLoadWhole(t *testing.T) {
	start, end := date("2026-03-01"), date("2026-03-08")
	e := newEnv(t, 30)
	e.Server.SetFaults(fakeapi.Faults{DocumentedColumnsOnly: true})
	only := func(c *pipeline.Config) { c.Streams = []*schema.Stream{schema.Seat, schema.ActivityOutcome} }
	outcomes := len(e.fakeOutcomeKeys(start, end))
	seats := 0
	for _, c := range reporting {
		seats += len(e.Server.Data().Seats(c, end.UnixMilli()-1))
	}
	for run := 1; run <= 2; run++ {
		sum := e.run(start, end, only, func(c *pipeline.Config) { c.Backfill = run == 2 }) // the same window again
		if sum.Status != pipeline.StatusComplete {
			t.Fatalf("run %d: status %s, errors %+v", run, sum.Status, sum.Errors)
		}
		if o, s := sum.Streams["activity_outcome"], sum.Streams["seat"]; o.Rows != int64(outcomes) || s.Rows != int64(seats) || o.Rejected+s.Rejected != 0 {
			t.Errorf("run %d: outcome %d rows, seat %d rows, %d rejected; the fake served %d and %d", run, o.Rows, s.Rows, o.Rejected+s.Rejected, outcomes, seats)
		}
		glob := func(st string) string { return filepath.ToSlash(filepath.Join(e.dir, st)) + "/**/*.parquet" }
		res := testkit.DuckDB(t,
			"SELECT CAST(date AS VARCHAR) AS day, count(*) AS n, count(createdAt) AS dated FROM read_parquet('"+glob("activity_outcome")+"', hive_partitioning=true) GROUP BY 1 ORDER BY 1",
			"SELECT count(*) AS n, count(DISTINCT linkedin_seatId) AS ids FROM read_parquet('"+glob("seat")+"', hive_partitioning=true)")
		if got := res[0]; len(got) != 1 || got[0]["day"] != "2026-03-01" || fmt.Sprint(got[0]["n"]) != fmt.Sprint(outcomes) || fmt.Sprint(got[0]["dated"]) != "0" {
			t.Errorf("run %d: outcome partitions %v, want all %d rows, without createdAt, in 2026-03-01", run, got, outcomes)
		}
		if got := res[1][0]; fmt.Sprint(got["n"]) != fmt.Sprint(seats) || fmt.Sprint(got["ids"]) != fmt.Sprint(seats) {
			t.Errorf("run %d: seat %v, want %d rows, each its own linkedin_seatId", run, got, seats)
		}
	}
}

// ClickHouse: outcome rows without a day share one partition, so windows
// that overlap (a lookback, a backfill) never show a row twice through the
// view; and a later file that has createdAt loads into the same table.
func TestDocumentedColumnsOnlyClickHouse(t *testing.T) {
	k := kinds()[1]
	r := newRig(t, k, fakeapi.Config{RowsPerDay: 30})
	r.fake.Server.SetFaults(fakeapi.Faults{DocumentedColumnsOnly: true})
	only := func(c *pipeline.Config) {
		c.Streams = []*schema.Stream{schema.Seat, schema.ActivityOutcome}
		c.Backfill = true // each window extracted whatever the cursor says
	}
	r.mustComplete(date("2026-03-01"), date("2026-03-08"), only)
	r.mustComplete(date("2026-03-05"), date("2026-03-12"), only)
	want := len(r.fake.OutcomeIDs(reporting, date("2026-03-01"), date("2026-03-12")))
	if got := len(r.target.Rows(t, "activity_outcome")); got != want {
		t.Errorf("%d outcome rows through the view after overlapping windows, the fake served %d", got, want)
	}
	seats := 0
	for _, c := range reporting {
		for _, end := range []string{"2026-03-08", "2026-03-12"} {
			seats += len(r.fake.Server.Data().Seats(c, date(end).UnixMilli()-1))
		}
	}
	if got := len(r.target.Rows(t, "seat")); got != seats {
		t.Errorf("%d seat rows, want two snapshots, %d", got, seats)
	}
	// The documented file again, with createdAt: into the same table.
	r.fake.Server.SetFaults(fakeapi.Faults{})
	r.mustComplete(date("2026-03-12"), date("2026-03-14"), only)
	want += len(r.fake.OutcomeIDs(reporting, date("2026-03-12"), date("2026-03-14")))
	rows := r.target.Rows(t, "activity_outcome")
	dated := 0
	for _, row := range rows {
		if !strings.Contains(row, `"createdAt":null`) {
			dated++
		}
	}
	if len(rows) != want || dated != want-len(r.fake.OutcomeIDs(reporting, date("2026-03-01"), date("2026-03-12"))) {
		t.Errorf("%d outcome rows (%d with createdAt), want %d", len(rows), dated, want)
	}
}
