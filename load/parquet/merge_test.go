package parquet_test

import (
	"context"
	"fmt"
	"math/bits"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/salesnav-etl/salesnav-etl/load"
	"github.com/salesnav-etl/salesnav-etl/load/parquet"
	"github.com/salesnav-etl/salesnav-etl/schema"
)

// TestMergeDimensionCostFollowsTheMerge: 200 merges of 50 rows (10 of
// them keys merged before) write a few times the dimension's size in all,
// not a whole dimension per merge, in few parts; readers see the newest
// row of each key, once.
func TestMergeDimensionCostFollowsTheMerge(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	dir := t.TempDir()
	p, err := parquet.NewSink(parquet.Config{Dir: dir, Allocator: mem})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st := schema.ProfileAssociations
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	want := map[string]string{}
	var written int64
	var filesWritten int
	next := 0
	const merges = 200
	for m := range merges {
		var batch [][2]string
		for i := range 10 { // keys merged before, with a new status
			if next > 0 {
				k := fmt.Sprintf("r%06d", (m*37+i*101)%next)
				if !slices.ContainsFunc(batch, func(r [2]string) bool { return r[0] == k }) {
					batch = append(batch, [2]string{k, fmt.Sprintf("UNMATCHED-%d", m)})
				}
			}
		}
		for len(batch) < 50 {
			batch = append(batch, [2]string{fmt.Sprintf("r%06d", next), "MATCHED"})
			next++
		}
		for _, r := range batch {
			want[r[0]] = r[1]
		}
		rec := associations(mem, t0.Add(time.Duration(m)*time.Minute), batch...)
		stats, err := p.MergeDimension(ctx, st, rec)
		rec.Release()
		if err != nil {
			t.Fatal(err)
		}
		written += stats.Bytes
		filesWritten += stats.Files
	}
	files, err := filepath.Glob(filepath.Join(dir, st.Name, "*.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	var size int64
	for _, f := range files {
		fi, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		size += fi.Size()
	}
	// A whole rewrite per merge would write about merges/2 times the
	// final size; compaction rewrites a row about log2(merges) times, and
	// each file has its footer.
	one := associations(mem, t0, [2]string{"x", "MATCHED"})
	defer one.Release()
	q, err := parquet.NewSink(parquet.Config{Dir: t.TempDir(), Allocator: mem})
	if err != nil {
		t.Fatal(err)
	}
	small, err := q.MergeDimension(ctx, st, one)
	if err != nil {
		t.Fatal(err)
	}
	if limit := int64(bits.Len(merges)+2)*size + int64(filesWritten)*small.Bytes; written > limit {
		t.Errorf("200 merges wrote %d bytes in %d files, over %d (the dimension is %d bytes, a file of one row %d)", written, filesWritten, limit, size, small.Bytes)
	}
	if max := bits.Len(uint(len(want))) + 1; len(files) > max || len(files) < 2 {
		t.Errorf("%d parts, want 2 to %d: %v", len(files), max, files)
	}
	got, err := p.Latest(ctx, st, []string{"recordId", "status"}, load.RowFilter{Column: "recordId"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("Latest: %d keys, want %d", len(got), len(want))
	}
	for _, row := range got {
		if want[row[0]] != row[1] {
			t.Errorf("key %s: %s, want the newest, %s", row[0], row[1], want[row[0]])
		}
	}
	// A filter picks keys, and rows by a column, on their newest row.
	unmatched := 0
	for _, s := range want {
		if s != "MATCHED" {
			unmatched++
		}
	}
	got, err = p.Latest(ctx, st, []string{"recordId", "status"}, load.RowFilter{Keys: [][]string{{"00D1", "SFDC", "r000001"}, {"00D1", "SFDC", "nope"}}, Column: "status", Except: []string{"MATCHED"}})
	if err != nil {
		t.Fatal(err)
	}
	picked := 0
	for _, row := range got {
		if row[1] != "MATCHED" || row[0] == "r000001" {
			picked++
		}
	}
	if wantN := unmatched + btoi(want["r000001"] == "MATCHED"); len(got) != wantN || picked != len(got) {
		t.Errorf("filtered: %d rows (%d picked rightly), want %d", len(got), picked, wantN)
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestMergeDimensionOverEarlierLayout: the one data.parquet of earlier
// versions is the oldest part: its rows stay until replaced, and
// compaction folds it in.
func TestMergeDimensionOverEarlierLayout(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	dir := t.TempDir()
	p, err := parquet.NewSink(parquet.Config{Dir: dir, Allocator: mem})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st := schema.ProfileAssociations
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	old := associations(mem, t0, [2]string{"a", "MATCHED"}, [2]string{"b", "ERROR"})
	_, err = p.ReplaceDimension(ctx, st, old) // as MergeDimension wrote it before
	old.Release()
	if err != nil {
		t.Fatal(err)
	}
	rec := associations(mem, t0.Add(time.Hour), [2]string{"b", "MATCHED"})
	_, err = p.MergeDimension(ctx, st, rec)
	rec.Release()
	if err != nil {
		t.Fatal(err)
	}
	got, err := p.Distinct(ctx, st.Name, []string{"recordId", "status"})
	if want := [][]string{{"a", "MATCHED"}, {"b", "MATCHED"}}; err != nil || !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("Distinct = %v, %v; want %v", got, err, want)
	}
	files, _ := filepath.Glob(filepath.Join(dir, st.Name, "*.parquet"))
	if len(files) != 1 || filepath.Base(files[0]) != "part-000000000000.parquet" {
		t.Errorf("files %v, want the two compacted into part 0", files)
	}
}
