package parquet_test

import (
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	pq "github.com/apache/arrow-go/v18/parquet"

	"github.com/salesnav-etl/salesnav-etl/load"
	"github.com/salesnav-etl/salesnav-etl/load/parquet"
	sschema "github.com/salesnav-etl/salesnav-etl/schema"
	"github.com/salesnav-etl/salesnav-etl/transform"
)

// Batches with dictionary columns (transform.WithDictionaries) make files
// that read back exactly as the files of the same rows without them: the
// same Arrow schema stored, the same table. Their enum and lineage
// columns are dictionary-encoded in the file, as before.
func TestDictionaryBatchesReadBackAsBefore(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	w := load.Window{Stream: sschema.Activity, Contract: "urn:li:salesContract:1001", PartitionID: "1001", Start: day1, End: day1.AddDate(0, 0, 3), JobID: 7}
	dirs := map[bool]string{}
	for _, dict := range []bool{false, true} {
		dirs[dict] = t.TempDir()
		sink, err := parquet.NewSink(parquet.Config{Dir: dirs[dict], Allocator: mem})
		if err != nil {
			t.Fatal(err)
		}
		var opts []transform.Option
		if dict {
			opts = append(opts, transform.WithDictionaries())
		}
		if st := load1(t, sink, mem, sschema.Activity, w, threeDays, opts...); st.Rows != 5 || st.Files != 2 {
			t.Fatalf("dictionaries %v: stats %+v", dict, st)
		}
	}
	for _, day := range []string{"2026-03-01", "2026-03-02"} {
		name := filepath.Join("activity/contract=1001/date="+day, parquet.DataFileName)
		want, wrdr := readParquet(t, filepath.Join(dirs[false], name))
		got, grdr := readParquet(t, filepath.Join(dirs[true], name))
		if !got.Schema().Equal(want.Schema()) {
			t.Errorf("%s read back as %s, want %s", day, got.Schema(), want.Schema())
		}
		if !array.TableEqual(got, want) {
			t.Errorf("%s: the tables differ", day)
		}
		gm, wm := grdr.MetaData().KeyValueMetadata(), wrdr.MetaData().KeyValueMetadata()
		if g, w := gm.FindValue("ARROW:schema"), wm.FindValue("ARROW:schema"); g == nil || w == nil || *g != *w {
			t.Errorf("%s: stored Arrow schema differs", day)
		}
		for _, col := range []string{"activityType", "_contract", "_job_id"} {
			i := grdr.MetaData().Schema.ColumnIndexByName(col)
			cc, err := grdr.MetaData().RowGroup(0).ColumnChunk(i)
			if err != nil {
				t.Fatal(err)
			}
			dictEncoded := false
			for _, e := range cc.Encodings() {
				dictEncoded = dictEncoded || e == pq.Encodings.RLEDict
			}
			if !cc.HasDictionaryPage() || !dictEncoded {
				t.Errorf("%s: column %s encodings %v, dictionary page %v", day, col, cc.Encodings(), cc.HasDictionaryPage())
			}
		}
	}
}

// Statistics are written where they prune reads (times, numbers) and not
// where computing them costs more than they prune (ids, enums, lineage).
func TestStatisticsWhereTheyPrune(t *testing.T) {
	dir := t.TempDir()
	sink, err := parquet.NewSink(parquet.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	w := load.Window{Stream: sschema.Activity, Contract: "urn:li:salesContract:1001", PartitionID: "1001", Start: day1, End: day1.AddDate(0, 0, 3), JobID: 7}
	load1(t, sink, memory.DefaultAllocator, sschema.Activity, w, threeDays, transform.WithDictionaries())
	_, rdr := readParquet(t, filepath.Join(dir, "activity/contract=1001/date=2026-03-02", parquet.DataFileName))
	want := map[string]bool{"createdAt": true, "seatId": true, "activityId": false, "activityType": false,
		"memberIdentityKey": false, "_contract": false, "_window_start": false, "_job_id": false, "_extracted_at": false}
	for col, stats := range want {
		cc, err := rdr.MetaData().RowGroup(0).ColumnChunk(rdr.MetaData().Schema.ColumnIndexByName(col))
		if err != nil {
			t.Fatal(err)
		}
		set, err := cc.StatsSet()
		if err != nil {
			t.Fatal(err)
		}
		if set != stats {
			t.Errorf("%s: statistics %v, want %v", col, set, stats)
		}
	}
}
