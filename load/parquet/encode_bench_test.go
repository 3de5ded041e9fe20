package parquet_test

import (
	"io"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/salesnav-etl/salesnav-etl/internal/testkit"
	"github.com/salesnav-etl/salesnav-etl/load/parquet"
)

// BenchmarkEncode is the encode stage alone: the 20 days of activity of
// BenchmarkParquetSink written as row groups of one file, with the sink's
// writer properties, to io.Discard. BenchmarkParquetSink less this is the
// cost of splitting rows by day and of twenty files instead of one.
func BenchmarkEncode(b *testing.B) {
	recs, s, w, rows := testkit.ActivityBatches(b, 20, 10_000)
	defer func() {
		for _, rec := range recs {
			rec.Release()
		}
	}()
	sink, err := parquet.NewSink(parquet.Config{Dir: b.TempDir(), Allocator: memory.DefaultAllocator})
	if err != nil {
		b.Fatal(err)
	}
	props := sink.WriterProperties(w.Stream)
	aprops := pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema())
	b.ResetTimer()
	for range b.N {
		fw, err := pqarrow.NewFileWriter(s, io.Discard, props, aprops)
		if err != nil {
			b.Fatal(err)
		}
		tbl := array.NewTableFromRecords(s, recs)
		if err := fw.WriteTable(tbl, parquet.DefaultRowGroupRows); err != nil {
			b.Fatal(err)
		}
		tbl.Release()
		if err := fw.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
