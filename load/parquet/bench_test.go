package parquet_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/salesnav-etl/salesnav-etl/internal/testkit"
	"github.com/salesnav-etl/salesnav-etl/load/parquet"
	"github.com/salesnav-etl/salesnav-etl/load/storage"
)

// BenchmarkParquetSink writes 20 days of activity (about 200k rows, 20
// partitions) through the sink: zstd, dictionary, one file per day.
func BenchmarkParquetSink(b *testing.B) {
	sink, _ := parquet.NewSink(parquet.Config{Dir: b.TempDir(), Allocator: memory.DefaultAllocator})
	benchParquetWindow(b, sink)
}

// BenchmarkParquetSinkS3 is BenchmarkParquetSink into a bucket of the
// test's S3-compatible server (MinIO when installed, else s3rver) on
// loopback: the upload's cost over writing to disk.
func BenchmarkParquetSinkS3(b *testing.B) {
	srv := testkit.StartS3(b, "bench")
	srv.SetEnv(b)
	st, err := storage.OpenBlobStorage(context.Background(), "s3://bench/ds", storage.BlobOptions{S3Endpoint: srv.Endpoint})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	sink, _ := parquet.NewSink(parquet.Config{Storage: st, Allocator: memory.DefaultAllocator})
	benchParquetWindow(b, sink)
	b.Logf("%s", srv)
}

// benchParquetWindow writes the 20-day activity window through sink b.N
// times and reports rows/s, bytes/row and MB/s written.
func benchParquetWindow(b *testing.B, sink *parquet.Sink) {
	recs, s, w, rows := testkit.ActivityBatches(b, 20, 10_000)
	defer func() {
		for _, rec := range recs {
			rec.Release()
		}
	}()
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
	b.ReportMetric(float64(bytesOut)*float64(b.N)/b.Elapsed().Seconds()/1e6, "MB/s")
}

// BenchmarkS3Upload uploads 64 MiB objects (multipart, 8 MiB parts) to the
// test's S3-compatible server on loopback.
func BenchmarkS3Upload(b *testing.B) {
	srv := testkit.StartS3(b, "bench")
	srv.SetEnv(b)
	ctx := context.Background()
	st, err := storage.OpenBlobStorage(ctx, "s3://bench/up", storage.BlobOptions{S3Endpoint: srv.Endpoint})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	chunk := make([]byte, 1<<20)
	for i := range chunk {
		chunk[i] = byte(i * 7)
	}
	const size = 64 << 20
	b.SetBytes(size)
	b.ResetTimer()
	for i := range b.N {
		w, err := st.Create(ctx, fmt.Sprintf("obj-%d.bin", i))
		if err != nil {
			b.Fatal(err)
		}
		for range size / len(chunk) {
			if _, err := w.Write(chunk); err != nil {
				b.Fatal(err)
			}
		}
		if err := w.Commit(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("%s", srv)
}
