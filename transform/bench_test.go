package transform_test

import (
	"bytes"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/csv"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/salesnav-etl/salesnav-etl/fakeapi"
	"github.com/salesnav-etl/salesnav-etl/schema"
	"github.com/salesnav-etl/salesnav-etl/transform"
)

var (
	benchOnce sync.Once
	benchCSV  []byte
	benchRows int
)

// activityCSV is an activity export of about 200k rows from the fake.
func activityCSV(b *testing.B) ([]byte, int) {
	benchOnce.Do(func() {
		var buf bytes.Buffer
		buf.WriteString("activityId,activityType,createdAt,seatId,memberIdentityKey\n")
		d := fakeapi.Data{Seed: 1, RowsPerDay: 10_000}
		start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		d.Activities("urn:li:salesContract:1001", start.UnixMilli(), start.AddDate(0, 0, 20).UnixMilli()-1, func(a fakeapi.Activity) bool {
			buf.WriteString(a.ActivityID + "," + a.ActivityType + "," + time.UnixMilli(a.CreatedAt).UTC().Format("01-02-2006 15:04:05") +
				"," + strconv.FormatInt(a.SeatID, 10) + "," + a.MemberIdentityKey + "\n")
			benchRows++
			return true
		})
		benchCSV = buf.Bytes()
	})
	return benchCSV, benchRows
}

// BenchmarkReader is this package's reader: every column typed and
// checked, lineage appended, rejects possible, as the pipeline reads an
// export (WithDictionaries).
func BenchmarkReader(b *testing.B) {
	data, rows := activityCSV(b)
	lin := transform.Lineage{Contract: "urn:li:salesContract:1001", JobID: 1, ExtractedAt: time.Now()}
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for range b.N {
		r, err := transform.NewReader(bytes.NewReader(data), schema.Activity, transform.WithLineage(lin), transform.WithDictionaries())
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for r.Next() {
			n += int(r.RecordBatch().NumRows())
		}
		if r.Err() != nil || n != rows {
			b.Fatalf("%d rows, %v", n, r.Err())
		}
		r.Release()
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkArrowCSVReader is arrow-go's own CSV reader on the same file,
// for comparison. It does less: createdAt stays a string (arrow cannot
// parse MM-DD-YYYY), no enum check, no lineage, and it stops at the first
// bad value instead of rejecting the row.
func BenchmarkArrowCSVReader(b *testing.B) {
	data, rows := activityCSV(b)
	sc := arrow.NewSchema([]arrow.Field{
		{Name: "activityId", Type: arrow.BinaryTypes.String},
		{Name: "activityType", Type: arrow.BinaryTypes.String},
		{Name: "createdAt", Type: arrow.BinaryTypes.String},
		{Name: "seatId", Type: arrow.PrimitiveTypes.Int64},
		{Name: "memberIdentityKey", Type: arrow.BinaryTypes.String, Nullable: true},
	}, nil)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for range b.N {
		r := csv.NewReader(bytes.NewReader(data), sc, csv.WithHeader(true), csv.WithChunk(transform.DefaultBatchSize),
			csv.WithAllocator(memory.DefaultAllocator), csv.WithNullReader(true, ""))
		n := 0
		for r.Next() {
			n += int(r.RecordBatch().NumRows())
		}
		if r.Err() != nil || n != rows {
			b.Fatalf("%d rows, %v", n, r.Err())
		}
		r.Release()
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
