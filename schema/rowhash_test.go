package schema

import (
	"slices"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

func TestHashColumns(t *testing.T) {
	var str, i64 arrow.DataType = arrow.BinaryTypes.String, arrow.PrimitiveTypes.Int64
	for _, tc := range []struct {
		name           string
		st             *Stream
		fields         []string
		identity, data []int
	}{
		{"seat with seatId", Seat, []string{"seatId", "firstName", LineageContract, LineageSnapshotDate}, []int{0}, []int{0, 1}},
		{"seat without seatId", Seat, []string{"firstName", "lastName", LineageContract}, nil, []int{0, 1}},
		{"crm validation: no identity", CRMValidation, []string{"recordId", "firstName", LineageCRMInstance, LineageJobID}, nil, []int{0, 1}},
		{"drift columns are data", Seat, []string{"seatId", "csv_date", LineageExtractedAt}, []int{0}, []int{0, 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var fs []arrow.Field
			for _, n := range tc.fields {
				typ := str
				if n == "seatId" {
					typ = i64
				}
				fs = append(fs, arrow.Field{Name: n, Type: typ, Nullable: true})
			}
			id, data := tc.st.HashColumns(arrow.NewSchema(fs, nil))
			if !slices.Equal(id, tc.identity) || !slices.Equal(data, tc.data) {
				t.Errorf("identity %v data %v, want %v %v", id, data, tc.identity, tc.data)
			}
		})
	}
	if !Seat.HasRowHash() || !CRMValidation.HasRowHash() || Activity.HasRowHash() || Contracts.HasRowHash() {
		t.Error("HasRowHash: seat and crm_validation have _row_hash in their key, activity and contracts do not")
	}
}

// A row with its identity hashes by it alone: the same seatId, other
// names, the same hash; without it (null), by every data column.
func TestRowHashes(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	sc := arrow.NewSchema([]arrow.Field{{Name: "seatId", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "firstName", Type: arrow.BinaryTypes.String, Nullable: true}}, nil)
	b := array.NewRecordBuilder(mem, sc)
	defer b.Release()
	ids, names := b.Field(0).(*array.Int64Builder), b.Field(1).(*array.StringBuilder)
	ids.AppendValues([]int64{7, 7, 0, 0, 0}, []bool{true, true, false, false, false})
	names.AppendValues([]string{"Ann", "Bob", "Ann", "Ann", "Bob"}, nil)
	rec := b.NewRecordBatch()
	defer rec.Release()
	identity, data := Seat.HashColumns(sc)
	h := RowHashes(rec, identity, data)
	if h[0] != h[1] {
		t.Error("two rows of one seatId hash differently")
	}
	if h[2] != h[3] || h[2] == h[4] || h[2] == h[0] {
		t.Errorf("rows without seatId hash by their data columns: %v", h)
	}
}
