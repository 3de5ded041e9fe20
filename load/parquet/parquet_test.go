package parquet_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/apache/arrow-go/v18/parquet/schema"

	"github.com/salesnav-etl/salesnav-etl/load"
	"github.com/salesnav-etl/salesnav-etl/load/parquet"
	sschema "github.com/salesnav-etl/salesnav-etl/schema"
	"github.com/salesnav-etl/salesnav-etl/transform"
)

var day1 = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

// batchFromCSV builds record batches of stream from CSV text.
func batches(t *testing.T, mem memory.Allocator, st *sschema.Stream, csv string, w load.Window, opts ...transform.Option) (*arrow.Schema, []arrow.RecordBatch) {
	t.Helper()
	opts = append([]transform.Option{transform.WithAllocator(mem), transform.WithBatchSize(3),
		transform.WithLineage(transform.Lineage{Contract: w.Contract, WindowStart: w.Start, WindowEnd: w.End.Add(-time.Millisecond),
			JobID: w.JobID, ExtractedAt: day1, SnapshotDate: w.SnapshotDate()})}, opts...)
	r, err := transform.NewReader(strings.NewReader(csv), st, opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Release()
	var out []arrow.RecordBatch
	for r.Next() {
		rec := r.RecordBatch()
		rec.Retain()
		out = append(out, rec)
	}
	if r.Err() != nil || r.Rejected() != 0 {
		t.Fatalf("transform: %v, %d rejected", r.Err(), r.Rejected())
	}
	return r.Schema(), out
}

func load1(t *testing.T, sink load.Sink, mem memory.Allocator, st *sschema.Stream, w load.Window, csv string, opts ...transform.Option) load.Stats {
	t.Helper()
	s, recs := batches(t, mem, st, csv, w, opts...)
	ww, err := sink.OpenWindow(context.Background(), w, s)
	if err != nil {
		t.Fatal(err)
	}
	for _, rec := range recs {
		if err := ww.Write(context.Background(), rec); err != nil {
			t.Fatal(err)
		}
		rec.Release()
	}
	stats, err := ww.Commit(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return stats
}

const header = "activityId,activityType,createdAt,seatId,memberIdentityKey\n"

// Rows out of time order, spanning two days, with a day (03-03) empty.
const threeDays = header +
	"a1,SAVED_LEAD,03-01-2026 00:00:00,1,\n" +
	"a2,INMAIL_SENT,03-02-2026 10:00:00,2,urn:li:member:2\n" +
	"a3,SAVED_LEAD,03-01-2026 23:59:59,3,urn:li:member:3\n" +
	"a4,PROFILE_VIEWED,03-02-2026 00:00:00,4,urn:li:member:4\n" +
	"a5,PROFILE_VIEWED,03-02-2026 00:00:01,5,urn:li:member:5\n"

func readParquet(t *testing.T, path string) (arrow.Table, *file.Reader) {
	t.Helper()
	rdr, err := file.OpenParquetFile(path, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rdr.Close() })
	fr, err := pqarrow.NewFileReader(rdr, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := fr.ReadTable(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tbl.Release)
	return tbl, rdr
}

func ids(t *testing.T, tbl arrow.Table) []string {
	t.Helper()
	idx := tbl.Schema().FieldIndices("activityId")[0]
	var out []string
	for _, ch := range tbl.Column(idx).Data().Chunks() {
		s := ch.(*array.String)
		for i := range s.Len() {
			out = append(out, s.Value(i))
		}
	}
	sort.Strings(out)
	return out
}

func TestParquetPartitionsAndTypes(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	dir := t.TempDir()
	sink, err := parquet.NewSink(parquet.Config{Dir: dir, Allocator: mem})
	if err != nil {
		t.Fatal(err)
	}
	w := load.Window{Stream: sschema.Activity, Contract: "urn:li:salesContract:1001", PartitionID: "1001", Start: day1, End: day1.AddDate(0, 0, 3), JobID: 7}
	stats := load1(t, sink, mem, sschema.Activity, w, threeDays)
	if stats.Rows != 5 || stats.Files != 2 {
		t.Fatalf("stats %+v, want 5 rows in 2 files", stats)
	}
	p1 := filepath.Join(dir, "activity/contract=1001/date=2026-03-01/data.parquet")
	p2 := filepath.Join(dir, "activity/contract=1001/date=2026-03-02/data.parquet")
	tbl, rdr := readParquet(t, p1)
	if got := ids(t, tbl); strings.Join(got, ",") != "a1,a3" {
		t.Errorf("2026-03-01 holds %v", got)
	}
	tbl2, _ := readParquet(t, p2)
	if got := ids(t, tbl2); strings.Join(got, ",") != "a2,a4,a5" {
		t.Errorf("2026-03-02 holds %v", got)
	}
	if _, err := os.Stat(filepath.Join(dir, "activity/contract=1001/date=2026-03-03")); !os.IsNotExist(err) {
		t.Errorf("an empty day got a partition: %v", err)
	}
	// Arrow types survive the round trip.
	f, _ := tbl.Schema().FieldsByName("createdAt")
	if ts, ok := f[0].Type.(*arrow.TimestampType); !ok || ts.Unit != arrow.Millisecond || ts.TimeZone != "UTC" {
		t.Errorf("createdAt read back as %s", f[0].Type)
	}
	// Parquet logical types: timestamp adjusted to UTC, strings.
	sc := rdr.MetaData().Schema
	for i := range sc.NumColumns() {
		col := sc.Column(i)
		switch col.Name() {
		case "createdAt", "_window_start", "_extracted_at":
			lt, ok := col.LogicalType().(schema.TimestampLogicalType)
			if !ok || !lt.IsAdjustedToUTC() || lt.TimeUnit() != schema.TimeUnitMillis {
				t.Errorf("%s logical type %s, want TIMESTAMP(MILLIS, UTC)", col.Name(), col.LogicalType())
			}
		case "activityId", "memberIdentityKey", "_contract":
			if _, ok := col.LogicalType().(schema.StringLogicalType); !ok {
				t.Errorf("%s logical type %s, want STRING", col.Name(), col.LogicalType())
			}
		}
	}
	cc, err := rdr.MetaData().RowGroup(0).ColumnChunk(0)
	if err != nil {
		t.Fatal(err)
	}
	if got := cc.Compression(); got != compress.Codecs.Zstd {
		t.Errorf("compression %s, want zstd", got)
	}
}

func TestSnapshotDatePartition(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	dir := t.TempDir()
	sink, _ := parquet.NewSink(parquet.Config{Dir: dir, Allocator: mem})
	w := load.Window{Stream: sschema.Seat, Contract: "c:1", PartitionID: "1", Start: day1, End: day1.AddDate(0, 0, 7), JobID: 1}
	load1(t, sink, mem, sschema.Seat, w, "seatId,firstName\n1,Ada\n2,Grace\n")
	p := filepath.Join(dir, "seat/contract=1/date=2026-03-07/data.parquet")
	tbl, rdr := readParquet(t, p)
	if tbl.NumRows() != 2 {
		t.Fatalf("%d rows", tbl.NumRows())
	}
	sc := rdr.MetaData().Schema
	i := sc.ColumnIndexByName("_snapshot_date")
	if _, ok := sc.Column(i).LogicalType().(schema.DateLogicalType); !ok {
		t.Errorf("_snapshot_date logical type %s, want DATE", sc.Column(i).LogicalType())
	}
}

// Overlapping windows replace whole partitions: no duplicate, and a day
// that lost its rows loses its file.
func TestReplacePartitions(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	dir := t.TempDir()
	sink, _ := parquet.NewSink(parquet.Config{Dir: dir, Allocator: mem})
	w := load.Window{Stream: sschema.Activity, Contract: "c:1", PartitionID: "1", Start: day1, End: day1.AddDate(0, 0, 3), JobID: 1}
	load1(t, sink, mem, sschema.Activity, w, threeDays)
	load1(t, sink, mem, sschema.Activity, w, threeDays) // the same window again
	// A later window overlapping 03-02: now only a2 is there.
	w2 := load.Window{Stream: sschema.Activity, Contract: "c:1", PartitionID: "1", Start: day1.AddDate(0, 0, 1), End: day1.AddDate(0, 0, 2), JobID: 2}
	stats := load1(t, sink, mem, sschema.Activity, w2, header+"a2,INMAIL_SENT,03-02-2026 10:00:00,2,\n")
	if stats.Files != 1 {
		t.Errorf("stats %+v", stats)
	}
	tbl, _ := readParquet(t, filepath.Join(dir, "activity/contract=1/date=2026-03-02/data.parquet"))
	if got := ids(t, tbl); strings.Join(got, ",") != "a2" {
		t.Errorf("after replacement 2026-03-02 holds %v", got)
	}
	tbl1, _ := readParquet(t, filepath.Join(dir, "activity/contract=1/date=2026-03-01/data.parquet"))
	if got := ids(t, tbl1); strings.Join(got, ",") != "a1,a3" {
		t.Errorf("2026-03-01 holds %v after two loads", got)
	}
	// The same day, now empty, loses its file.
	stats = load1(t, sink, mem, sschema.Activity, w2, header)
	if stats.Removed != 1 {
		t.Errorf("stats %+v, want 1 removed partition", stats)
	}
	if _, err := os.Stat(filepath.Join(dir, "activity/contract=1/date=2026-03-02/data.parquet")); !os.IsNotExist(err) {
		t.Errorf("emptied partition still has its file")
	}
	assertNoStaging(t, dir)
}

// Staging files left by a killed run are removed by the next commit of
// their partition.
func TestStaleStagingCleaned(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	dir := t.TempDir()
	part := filepath.Join(dir, "activity/contract=1/date=2026-03-01")
	os.MkdirAll(part, 0o750)
	stale := filepath.Join(part, ".staging-data.parquet-123.tmp")
	os.WriteFile(stale, []byte("half a file"), 0o600)
	sink, _ := parquet.NewSink(parquet.Config{Dir: dir, Allocator: mem})
	w := load.Window{Stream: sschema.Activity, Contract: "c:1", PartitionID: "1", Start: day1, End: day1.AddDate(0, 0, 3), JobID: 1}
	load1(t, sink, mem, sschema.Activity, w, threeDays)
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("stale staging file kept: %v", err)
	}
}

func TestAbortKeepsPreviousAndLeavesNothing(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	dir := t.TempDir()
	sink, _ := parquet.NewSink(parquet.Config{Dir: dir, Allocator: mem})
	w := load.Window{Stream: sschema.Activity, Contract: "c:1", PartitionID: "1", Start: day1, End: day1.AddDate(0, 0, 3), JobID: 1}
	load1(t, sink, mem, sschema.Activity, w, threeDays)
	s, recs := batches(t, mem, sschema.Activity, header+"z9,SAVED_LEAD,03-01-2026 05:00:00,1,\n", w)
	ww, _ := sink.OpenWindow(context.Background(), w, s)
	for _, r := range recs {
		if err := ww.Write(context.Background(), r); err != nil {
			t.Fatal(err)
		}
		r.Release()
	}
	// Staged files exist now, and none matches *.parquet.
	matches, _ := filepath.Glob(filepath.Join(dir, "activity/contract=1/date=2026-03-01/*"))
	if len(matches) != 2 {
		t.Errorf("want the published file and one staged file, got %v", matches)
	}
	for _, m := range matches {
		if strings.HasSuffix(m, ".parquet") && filepath.Base(m) != parquet.DataFileName {
			t.Errorf("staged file %s matches *.parquet", m)
		}
	}
	if err := ww.Abort(); err != nil {
		t.Fatal(err)
	}
	tbl, _ := readParquet(t, filepath.Join(dir, "activity/contract=1/date=2026-03-01/data.parquet"))
	if got := ids(t, tbl); strings.Join(got, ",") != "a1,a3" {
		t.Errorf("abort changed the data: %v", got)
	}
	if _, err := ww.Commit(context.Background()); !errors.Is(err, load.ErrWindowClosed) {
		t.Errorf("Commit after Abort: %v", err)
	}
	assertNoStaging(t, dir)
}

func TestRowOutsideWindowRefused(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	sink, _ := parquet.NewSink(parquet.Config{Dir: t.TempDir(), Allocator: mem})
	wide := load.Window{Stream: sschema.Activity, Contract: "c:1", PartitionID: "1", Start: day1, End: day1.AddDate(0, 0, 3)}
	s, recs := batches(t, mem, sschema.Activity, threeDays, wide)
	narrow := wide
	narrow.End = day1.AddDate(0, 0, 1)
	ww, _ := sink.OpenWindow(context.Background(), narrow, s)
	var err error
	for _, r := range recs {
		if err == nil {
			err = ww.Write(context.Background(), r)
		}
		r.Release()
	}
	ww.Abort()
	if !errors.Is(err, parquet.ErrOutsideWindow) {
		t.Fatalf("error %v, want ErrOutsideWindow", err)
	}
}

func assertNoStaging(t *testing.T, dir string) {
	t.Helper()
	filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && strings.HasPrefix(info.Name(), ".staging-") {
			t.Errorf("staging file left: %s", p)
		}
		return nil
	})
}

func TestPartitionID(t *testing.T) {
	tests := []struct{ urn, want string }{
		{"urn:li:salesContract:1001", "1001"},
		{"urn:li:contract:abc_DEF-9", "abc_DEF-9"},
		{"urn:li:contract:..", "h"},
		{"urn:li:contract:../../etc", "h"},
		{"urn:li:contract:a/b", "h"},
		{"urn:li:contract:", "h"},
		{"urn:li:contract:x\x00y", "h"},
		{"urn:li:contract:'; DROP TABLE x; --", "h"},
		{"urn:li:crmInstance:(SFDC,00D5e000000abc)", "SFDC_00D5e000000abc"},
		{"urn:li:crmInstance:(DYNAMICS,org-2)", "DYNAMICS_org-2"},
		{"urn:li:crmInstance:(SF_DC,x)", "h"},
		{"urn:li:crmInstance:(SFDC,../x)", "h"},
		{"urn:li:crmInstance:(SFDC,a,b)", "h"},
	}
	for _, tt := range tests {
		got := load.PartitionID(tt.urn)
		if tt.want == "h" {
			if len(got) != 17 || got[0] != 'h' || strings.ContainsAny(got, "/\\.") {
				t.Errorf("PartitionID(%q) = %q, want h+16 hex", tt.urn, got)
			}
			continue
		}
		if got != tt.want {
			t.Errorf("PartitionID(%q) = %q, want %q", tt.urn, got, tt.want)
		}
	}
	if load.PartitionID("urn:li:contract:a/b") == load.PartitionID("urn:li:contract:a/c") {
		t.Error("distinct URNs share a hashed id")
	}
}

// peakAlloc loads days of time-ordered activity, rowsPerDay a day, and
// returns the allocator's peak between batches and the files' row groups.
func peakAlloc(t *testing.T, days, rowsPerDay int) (int, []int) {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	dir := t.TempDir()
	sink, _ := parquet.NewSink(parquet.Config{Dir: dir, Allocator: mem, RowGroupRows: 4000})
	w := load.Window{Stream: sschema.Activity, Contract: "c:1", PartitionID: "1", Start: day1, End: day1.AddDate(0, 0, days), JobID: 1}
	var b strings.Builder
	b.WriteString(header)
	for d := range days {
		for i := range rowsPerDay {
			ts := day1.AddDate(0, 0, d).Add(time.Duration(i) * 86400 * time.Second / time.Duration(rowsPerDay))
			fmt.Fprintf(&b, "id-%d-%d,SAVED_LEAD,%s,1,urn:li:member:%d\n", d, i, ts.Format("01-02-2006 15:04:05"), i)
		}
	}
	r, err := transform.NewReader(strings.NewReader(b.String()), sschema.Activity, transform.WithAllocator(mem), transform.WithBatchSize(1000),
		transform.WithLineage(transform.Lineage{Contract: "c:1", WindowStart: w.Start, WindowEnd: w.End.Add(-time.Millisecond), JobID: 1, ExtractedAt: day1}))
	if err != nil {
		t.Fatal(err)
	}
	ww, _ := sink.OpenWindow(context.Background(), w, r.Schema())
	peak := 0
	for r.Next() {
		if err := ww.Write(context.Background(), r.RecordBatch()); err != nil {
			t.Fatal(err)
		}
		peak = max(peak, mem.CurrentAlloc())
	}
	r.Release()
	if _, err := ww.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	var groups []int
	for d := range days {
		rdr, err := file.OpenParquetFile(filepath.Join(dir, parquet.PartitionName("activity", "1", day1.AddDate(0, 0, d))), false)
		if err != nil {
			t.Fatal(err)
		}
		groups = append(groups, rdr.NumRowGroups())
		rdr.Close()
	}
	return peak, groups
}

// Memory does not hold the window's rows: finished days are written out
// as the export moves on. 40 days are 8 times the rows of 5; what still
// grows is each open partition file's small fixed overhead (about 15 KB),
// so the peak stays well under 3 times. Holding the rows until Commit, as
// this sink once did, made it grow 8 times.
func TestParquetMemoryFlatOverLongWindows(t *testing.T) {
	short, groups := peakAlloc(t, 5, 3000)
	long, _ := peakAlloc(t, 40, 3000)
	if long > 3*short {
		t.Errorf("peak allocation %d bytes over 40 days, %d over 5: memory grows with the window", long, short)
	}
	// 3000 rows a day, under the 4000-row cap: one row group per day.
	for d, g := range groups {
		if g != 1 {
			t.Errorf("day %d has %d row groups, want 1", d, g)
		}
	}
	t.Logf("peak allocation: %d bytes (5 days), %d bytes (40 days)", short, long)
}
