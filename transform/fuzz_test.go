package transform_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/salesnav-etl/salesnav-etl/schema"
	"github.com/salesnav-etl/salesnav-etl/transform"
)

// Any bytes: the reader ends with rows and rejects or an error, never a
// panic, every batch has the declared schema, and no Arrow memory is left.
// The golden inputs of testdata/transform are the seed corpus.
func FuzzReader(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("..", "testdata", "transform", "*.csv"))
	for _, p := range files {
		if raw, err := os.ReadFile(p); err == nil {
			f.Add(raw, false)
		}
	}
	f.Add([]byte("seatId,firstName\n1,Ann\nx,Bob\n"), true)
	f.Fuzz(func(t *testing.T, data []byte, seat bool) {
		st := schema.Activity
		if seat {
			st = schema.Seat
		}
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		defer mem.AssertSize(t, 0)
		r, err := transform.NewReader(bytes.NewReader(data), st, transform.WithAllocator(mem), transform.WithBatchSize(3),
			transform.WithLineage(lineage), transform.WithRejects(transform.RejectFunc(func(transform.Reject) error { return nil })))
		if err != nil {
			return
		}
		defer r.Release()
		var rows int64
		for r.Next() {
			rec := r.RecordBatch()
			if !rec.Schema().Equal(r.Schema()) {
				t.Fatalf("batch schema %s, reader's %s", rec.Schema(), r.Schema())
			}
			rows += rec.NumRows()
		}
		if r.Err() == nil && rows != r.Rows() {
			t.Fatalf("%d rows in batches, Rows() %d", rows, r.Rows())
		}
	})
}
