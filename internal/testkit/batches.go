package testkit

import (
	"bytes"
	"strconv"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/salesnav-etl/salesnav-etl/fakeapi"
	"github.com/salesnav-etl/salesnav-etl/load"
	"github.com/salesnav-etl/salesnav-etl/schema"
	"github.com/salesnav-etl/salesnav-etl/transform"
)

// ActivityBatches transforms days of the fake's activity for one contract
// (rowsPerDay a day, from 2026-01-01) into record batches, for the writers'
// benchmarks, as the pipeline reads them (transform.WithDictionaries). The
// caller releases the batches.
func ActivityBatches(tb testing.TB, days, rowsPerDay int) (recs []arrow.RecordBatch, s *arrow.Schema, w load.Window, rows int) {
	tb.Helper()
	var buf bytes.Buffer
	buf.WriteString("activityId,activityType,createdAt,seatId,memberIdentityKey\n")
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	end := start.AddDate(0, 0, days)
	fakeapi.Data{Seed: 1, RowsPerDay: rowsPerDay}.Activities("urn:li:salesContract:1001", start.UnixMilli(), end.UnixMilli()-1, func(a fakeapi.Activity) bool {
		buf.WriteString(a.ActivityID + "," + a.ActivityType + "," + time.UnixMilli(a.CreatedAt).UTC().Format("01-02-2006 15:04:05") +
			"," + strconv.FormatInt(a.SeatID, 10) + "," + a.MemberIdentityKey + "\n")
		rows++
		return true
	})
	w = load.Window{Stream: schema.Activity, Contract: "urn:li:salesContract:1001", PartitionID: "1001", Start: start, End: end, JobID: 1}
	r, err := transform.NewReader(bytes.NewReader(buf.Bytes()), schema.Activity, transform.WithDictionaries(), transform.WithLineage(transform.Lineage{
		Contract: w.Contract, WindowStart: start, WindowEnd: end.Add(-time.Millisecond), JobID: 1, ExtractedAt: start}))
	if err != nil {
		tb.Fatal(err)
	}
	defer r.Release()
	for r.Next() {
		rec := r.RecordBatch()
		rec.Retain()
		recs = append(recs, rec)
	}
	if err := r.Err(); err != nil {
		tb.Fatal(err)
	}
	return recs, r.Schema(), w, rows
}
