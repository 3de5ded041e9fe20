package load_test

import (
	"bytes"
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/salesnav-etl/salesnav-etl/fakeapi"
	"github.com/salesnav-etl/salesnav-etl/load"
	sschema "github.com/salesnav-etl/salesnav-etl/schema"
	"github.com/salesnav-etl/salesnav-etl/transform"
)

// BenchmarkParquetSink writes 20 days of activity (about 200k rows, 20
// partitions) through the sink: zstd, dictionary, one file per day.
func BenchmarkParquetSink(b *testing.B) {
	var buf bytes.Buffer
	buf.WriteString(header)
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	end := start.AddDate(0, 0, 20)
	rows := 0
	fakeapi.Data{Seed: 1, RowsPerDay: 10_000}.Activities("urn:li:salesContract:1001", start.UnixMilli(), end.UnixMilli()-1, func(a fakeapi.Activity) bool {
		buf.WriteString(a.ActivityID + "," + a.ActivityType + "," + time.UnixMilli(a.CreatedAt).UTC().Format("01-02-2006 15:04:05") +
			"," + strconv.FormatInt(a.SeatID, 10) + "," + a.MemberIdentityKey + "\n")
		rows++
		return true
	})
	w := load.Window{Stream: sschema.Activity, Contract: "urn:li:salesContract:1001", PartitionID: "1001", Start: start, End: end, JobID: 1}
	r, err := transform.NewReader(bytes.NewReader(buf.Bytes()), sschema.Activity, transform.WithLineage(transform.Lineage{
		Contract: w.Contract, WindowStart: start, WindowEnd: end.Add(-time.Millisecond), JobID: 1, ExtractedAt: start}))
	if err != nil {
		b.Fatal(err)
	}
	var recs []arrow.RecordBatch
	for r.Next() {
		rec := r.RecordBatch()
		rec.Retain()
		recs = append(recs, rec)
	}
	s := r.Schema()
	r.Release()
	dir := b.TempDir()
	sink, _ := load.NewParquetSink(load.ParquetConfig{Dir: dir, Allocator: memory.DefaultAllocator})
	var bytesOut int64
	b.ResetTimer()
	for range b.N {
		ww, err := sink.OpenWindow(context.Background(), w, s)
		if err != nil {
			b.Fatal(err)
		}
		for _, rec := range recs {
			if err := ww.Write(context.Background(), rec); err != nil {
				b.Fatal(err)
			}
		}
		st, err := ww.Commit(context.Background())
		if err != nil || st.Rows != int64(rows) {
			b.Fatalf("%+v %v", st, err)
		}
		bytesOut = st.Bytes
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(bytesOut)/float64(rows), "bytes/row")
	for _, rec := range recs {
		rec.Release()
	}
}
