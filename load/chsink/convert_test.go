package chsink

import (
	"reflect"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/salesnav-etl/salesnav-etl/schema"
	"github.com/salesnav-etl/salesnav-etl/transform"
)

// A batch with dictionary columns (transform.WithDictionaries) converts to
// the same column values, row hashes and table columns as the same rows
// without dictionaries.
func TestDictionaryColumnsConvertAsDense(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	csv := "activityId,activityType,createdAt,seatId,memberIdentityKey\n" +
		"a1,SAVED_LEAD,03-01-2026 00:00:00,1,\n" +
		"a2,INMAIL_SENT,03-02-2026 10:00:00,2,urn:li:member:2\n" +
		"a3,PROFILE_VIEWED,03-02-2026 11:00:00,2,urn:li:member:3\n"
	read := func(opts ...transform.Option) arrow.RecordBatch {
		opts = append(opts, transform.WithAllocator(mem), transform.WithLineage(transform.Lineage{Contract: "urn:li:salesContract:1", JobID: 9}))
		r, err := transform.NewReader(strings.NewReader(csv), schema.Activity, opts...)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Release()
		if !r.Next() {
			t.Fatal(r.Err())
		}
		rec := r.RecordBatch()
		rec.Retain()
		return rec
	}
	dense, dict := read(), read(transform.WithDictionaries())
	defer dense.Release()
	defer dict.Release()
	encoded := 0
	for i, f := range dense.Schema().Fields() {
		if _, ok := dict.Column(i).(*array.Dictionary); ok {
			encoded++
		}
		want, err := columnValues(dense.Column(i), f.Nullable)
		if err != nil {
			t.Fatal(err)
		}
		got, err := columnValues(dict.Column(i), f.Nullable)
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %v, want %v", f.Name, got, want)
		}
	}
	if encoded != 6 { // activityType and five lineage columns
		t.Errorf("%d dictionary columns, want 6", encoded)
	}
	all := make([]int, dense.NumCols())
	for i := range all {
		all[i] = i
	}
	if got, want := schema.RowHashes(dict, []int{0}, all), schema.RowHashes(dense, []int{0}, all); !reflect.DeepEqual(got, want) {
		t.Errorf("row hashes %v, want %v", got, want)
	}
	dc, err := TableColumns(schema.Activity, dict.Schema())
	if err != nil {
		t.Fatal(err)
	}
	pc, _ := TableColumns(schema.Activity, dense.Schema())
	if !reflect.DeepEqual(dc, pc) {
		t.Errorf("table columns %v, want %v", dc, pc)
	}
}
