package connector

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/salesnav-etl/salesnav-etl/schema"
	"github.com/salesnav-etl/salesnav-etl/transform"
)

// BenchmarkRows encodes activity batches as the pipeline reads them
// (dictionaries, lineage) into framed record lines, as a window's spool
// receives them: rows/s beside the transform's (docs/development.md).
func BenchmarkRows(b *testing.B) {
	var csv strings.Builder
	csv.WriteString("activityId,activityType,createdAt,seatId,memberIdentityKey\n")
	const n = 65536
	for i := range n {
		fmt.Fprintf(&csv, "act-%08d,%s,02-%02d-2026 %02d:%02d:%02d,%d,member-%d\n", i, schema.ActivityTypes[i%7], 1+i%7, i%24, i%60, i%60, 1000+i%50, i%300)
	}
	start := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	tr, err := transform.NewReader(strings.NewReader(csv.String()), schema.Activity, transform.WithAllocator(memory.DefaultAllocator),
		transform.WithBatchSize(n), transform.WithDictionaries(),
		transform.WithLineage(transform.Lineage{Contract: "urn:li:salesContract:1001", WindowStart: start, WindowEnd: start.AddDate(0, 0, 7).Add(-time.Millisecond), JobID: 1, ExtractedAt: start}))
	if err != nil {
		b.Fatal(err)
	}
	defer tr.Release()
	if !tr.Next() {
		b.Fatal(tr.Err())
	}
	rec := tr.RecordBatch()
	prefix, suffix := []byte(`{"type":"RECORD","record":{"stream":"activity","emitted_at":1770000000000,"data":`), []byte("}}")
	buf := make([]byte, 0, 1<<20)
	b.ResetTimer()
	var bytes int64
	for b.Loop() {
		rows, err := NewRows(schema.Activity, rec)
		if err != nil {
			b.Fatal(err)
		}
		for i := range rows.Len() {
			buf = append(buf[:0], prefix...)
			buf = rows.Append(buf, i)
			buf = append(buf, suffix...)
			bytes += int64(len(buf)) + 1
		}
	}
	b.ReportMetric(float64(int64(b.N)*n)/b.Elapsed().Seconds()/1e6, "Mrows/s")
	b.ReportMetric(float64(bytes)/b.Elapsed().Seconds()/1e6, "MB/s")
}
