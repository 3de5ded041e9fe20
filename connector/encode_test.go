package connector

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/salesnav-etl/salesnav-etl/schema"
	"github.com/salesnav-etl/salesnav-etl/transform"
)

func TestAppendString(t *testing.T) {
	for _, s := range []string{"", "plain", `q"uote`, `back\slash`, "tab\tnl\ncr\r", "\x00\x01\x1f\x7f", "é ü 東京 😀",
		"bad \xff byte", "cut \xe6\x9d", "<html>&amp;", "\u2028\u2029", "mixed \"\\\n\xc3"} {
		got := AppendString(nil, s)
		if !json.Valid(got) {
			t.Errorf("%q: not valid JSON: %s", s, got)
			continue
		}
		var back, want string
		_ = json.Unmarshal(got, &back)
		ref, _ := json.Marshal(s)
		_ = json.Unmarshal(ref, &want)
		if back != want {
			t.Errorf("%q: reads back as %q, encoding/json's as %q", s, back, want)
		}
	}
	if got := string(AppendString(nil, "a\"b\\c\n\x01")); got != `"a\"b\\c\n\u0001"` {
		t.Errorf("escapes: %s", got)
	}
}

func TestAppendFloat(t *testing.T) {
	for _, f := range []float64{0, 1, -1, 0.1, 1.5e-7, 123456789.125, 1e21, 1e20, -2.5e-6, 1e-6, math.MaxFloat64, math.SmallestNonzeroFloat64} {
		want, _ := json.Marshal(f)
		if got := AppendFloat(nil, f); string(got) != string(want) {
			t.Errorf("%v: %s, encoding/json writes %s", f, got, want)
		}
	}
	for _, f := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		if got := string(AppendFloat(nil, f)); got != "null" {
			t.Errorf("%v: %s, want null", f, got)
		}
	}
}

// A batch as the transform makes one for exports (dictionary enum and
// lineage columns, nulls, a drift column) encodes to the JSON objects
// StreamSchema describes, and validates against it.
func TestRows(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	csv := "activityId,activityType,createdAt,seatId,memberIdentityKey,extra\n" +
		"a1,INMAIL_SENT,02-03-2026 10:11:12,7,\"m\"\"1\",x\n" +
		"a2,SAVED_LEAD,02-03-2026 23:59:59,8,,\n"
	start := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	tr, err := transform.NewReader(strings.NewReader(csv), schema.Activity, transform.WithAllocator(mem), transform.WithDictionaries(),
		transform.WithLineage(transform.Lineage{Contract: "urn:li:contract:1", WindowStart: start, WindowEnd: start.AddDate(0, 0, 7).Add(-time.Millisecond),
			JobID: 42, ExtractedAt: time.Date(2026, 2, 9, 1, 2, 3, 400e6, time.UTC)}))
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Release()
	if !tr.Next() {
		t.Fatal(tr.Err())
	}
	rows, err := NewRows(schema.Activity, tr.RecordBatch())
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`{"activityId":"a1","activityType":"INMAIL_SENT","createdAt":"2026-02-03T10:11:12.000Z","seatId":7,"memberIdentityKey":"m\"1","extra":"x",` +
			`"_contract":"urn:li:contract:1","_window_start":"2026-02-01T00:00:00.000Z","_window_end":"2026-02-07T23:59:59.999Z","_job_id":42,"_extracted_at":"2026-02-09T01:02:03.400Z"}`,
		`{"activityId":"a2","activityType":"SAVED_LEAD","createdAt":"2026-02-03T23:59:59.000Z","seatId":8,"memberIdentityKey":null,"extra":null,` +
			`"_contract":"urn:li:contract:1","_window_start":"2026-02-01T00:00:00.000Z","_window_end":"2026-02-07T23:59:59.999Z","_job_id":42,"_extracted_at":"2026-02-09T01:02:03.400Z"}`,
	}
	if rows.Len() != len(want) {
		t.Fatalf("%d rows", rows.Len())
	}
	for i, w := range want {
		if got := string(rows.Append(nil, i)); got != w {
			t.Errorf("row %d:\n got %s\nwant %s", i, got, w)
		}
	}
}

// Seat rows carry _row_hash (seat's key), the hash ClickHouse stores, as
// a string; a date column reads YYYY-MM-DD; floats as numbers.
func TestRowsRowHashAndDate(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	csv := "seatId,firstName,socialSellingIndex\n7,Ann,61.5\n,Bob,\n"
	start := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	tr, err := transform.NewReader(strings.NewReader(csv), schema.Seat, transform.WithAllocator(mem),
		transform.WithLineage(transform.Lineage{Contract: "c", WindowStart: start, WindowEnd: start.AddDate(0, 0, 7).Add(-time.Millisecond), JobID: 1,
			ExtractedAt: start, SnapshotDate: start.AddDate(0, 0, 6)}))
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Release()
	if !tr.Next() {
		t.Fatal(tr.Err())
	}
	rec := tr.RecordBatch()
	rows, err := NewRows(schema.Seat, rec)
	if err != nil {
		t.Fatal(err)
	}
	identity, data := schema.Seat.HashColumns(rec.Schema())
	hashes := schema.RowHashes(rec, identity, data)
	for i := range rows.Len() {
		var m map[string]any
		if err := json.Unmarshal(rows.Append(nil, i), &m); err != nil {
			t.Fatal(err)
		}
		if m["_row_hash"] != jsonUint(hashes[i]) || m["_snapshot_date"] != "2026-02-07" {
			t.Errorf("row %d: _row_hash %v (want %d), _snapshot_date %v", i, m["_row_hash"], hashes[i], m["_snapshot_date"])
		}
		if i == 0 && m["socialSellingIndex"] != 61.5 {
			t.Errorf("socialSellingIndex %v", m["socialSellingIndex"])
		}
		if i == 1 && (m["seatId"] != nil || m["socialSellingIndex"] != nil) {
			t.Errorf("row 1: nulls read %v %v", m["seatId"], m["socialSellingIndex"])
		}
	}
}

func jsonUint(u uint64) string {
	b, _ := json.Marshal(u)
	return string(b)
}

// A column of a type no stream has is refused, naming it.
func TestRowsUnknownType(t *testing.T) {
	mem := memory.NewGoAllocator()
	b := array.NewRecordBuilder(mem, arrow.NewSchema([]arrow.Field{{Name: "blob", Type: arrow.BinaryTypes.Binary}}, nil))
	defer b.Release()
	b.Field(0).(*array.BinaryBuilder).Append([]byte{1})
	rec := b.NewRecordBatch()
	defer rec.Release()
	if _, err := NewRows(schema.Activity, rec); err == nil || !strings.Contains(err.Error(), "column blob") {
		t.Errorf("error %v, want one naming the column", err)
	}
}
