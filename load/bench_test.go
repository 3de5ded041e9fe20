package load_test

import (
	"context"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/salesnav-etl/salesnav-etl/internal/testkit"
	"github.com/salesnav-etl/salesnav-etl/load"
)

// BenchmarkParquetSink writes 20 days of activity (about 200k rows, 20
// partitions) through the sink: zstd, dictionary, one file per day.
func BenchmarkParquetSink(b *testing.B) {
	recs, s, w, rows := testkit.ActivityBatches(b, 20, 10_000)
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
