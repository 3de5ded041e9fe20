package parquet_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/salesnav-etl/salesnav-etl/internal/testkit"
	"github.com/salesnav-etl/salesnav-etl/load/parquet"
	"github.com/salesnav-etl/salesnav-etl/schema"
)

// association builds a profile associations batch of (recordId, status).
func associations(mem memory.Allocator, fetched time.Time, rows ...[2]string) arrow.RecordBatch {
	b := array.NewRecordBuilder(mem, schema.ProfileAssociations.Schema())
	defer b.Release()
	for _, r := range rows {
		b.Field(0).(*array.StringBuilder).Append("00D1")
		b.Field(1).(*array.StringBuilder).Append("SFDC")
		b.Field(2).(*array.StringBuilder).Append(r[0])
		b.Field(3).(*array.StringBuilder).Append(r[1])
		b.Field(4).(*array.Int64Builder).Append(200)
		for i := 5; i <= 8; i++ {
			b.Field(i).AppendNull()
		}
		b.Field(9).(*array.TimestampBuilder).Append(arrow.Timestamp(fetched.UnixMilli()))
	}
	return b.NewRecordBatch()
}

// A merge replaces the rows of the keys it loads and keeps the others;
// Distinct reads them back. No Arrow memory is left behind.
func TestMergeDimensionAndDistinct(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	dir := t.TempDir()
	p, err := parquet.NewSink(parquet.Config{Dir: dir, Allocator: mem})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st := schema.ProfileAssociations
	if rows, err := p.Distinct(ctx, st.Name, []string{"recordId"}); err != nil || len(rows) != 0 {
		t.Fatalf("Distinct of a dataset never loaded = %v, %v", rows, err)
	}
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for _, batch := range [][][2]string{
		{{"r1", "MATCHED"}, {"r2", "ERROR"}, {"r3", "UNMATCHED"}},
		{{"r2", "MATCHED"}, {"r4", "UNMATCHED"}},
		{{"r4", "UNMATCHED"}},
	} {
		rec := associations(mem, t0, batch...)
		stats, err := p.MergeDimension(ctx, st, rec)
		rec.Release()
		if err != nil || stats.Rows != int64(len(batch)) {
			t.Fatalf("merge: %+v, %v", stats, err)
		}
		t0 = t0.Add(time.Hour)
	}
	got, err := p.Distinct(ctx, st.Name, []string{"recordId", "status"})
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{{"r1", "MATCHED"}, {"r2", "MATCHED"}, {"r3", "UNMATCHED"}, {"r4", "UNMATCHED"}}
	if !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("after three merges: %v, want %v", got, want)
	}
	if n := len(testkit.ReadDataset(t, dir, st.Name).Rows); n != 4 {
		t.Errorf("%d rows in the file, want 4", n)
	}
	if rows, _ := p.Distinct(ctx, st.Name, []string{"recordId", "nope"}); len(rows) != 0 {
		t.Errorf("Distinct of a missing column = %v", rows)
	}
	// A file of other columns is refused, not mixed; a broken one too.
	cb := array.NewRecordBuilder(mem, schema.Contracts.Schema())
	cb.Field(0).(*array.StringBuilder).Append("urn:li:contract:1")
	for i := 1; i < 5; i++ {
		cb.Field(i).AppendNull()
	}
	contracts := cb.NewRecordBatch()
	cb.Release()
	_, err = p.ReplaceDimension(ctx, &schema.Stream{Name: st.Name}, contracts)
	contracts.Release()
	if err != nil {
		t.Fatal(err)
	}
	rec := associations(mem, t0, [2]string{"r5", "MATCHED"})
	defer rec.Release()
	if _, err := p.MergeDimension(ctx, st, rec); err == nil || !strings.Contains(err.Error(), "has other columns") {
		t.Errorf("merge into a file of other columns: %v", err)
	}
	os.WriteFile(filepath.Join(dir, parquet.DimensionName(st.Name)), []byte("not parquet"), 0o600)
	if _, err := p.MergeDimension(ctx, st, rec); err == nil {
		t.Error("merge into a broken file succeeded")
	}
}

func TestExportPartitionName(t *testing.T) {
	got := parquet.ExportPartitionName("crm_validation", "SFDC_00D1", time.UnixMilli(1772323200123))
	if want := "crm_validation/crm_instance=SFDC_00D1/export_start_at=1772323200123/data.parquet"; got != want {
		t.Errorf("ExportPartitionName = %q, want %q", got, want)
	}
}
