package transform

import (
	"context"
	"fmt"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/salesnav-etl/salesnav-etl/schema"
)

// Lineage is stamped on every row read.
type Lineage struct {
	// Contract is the contract URN, or the CRM instance URN of a
	// per-export stream.
	Contract string
	// WindowStart and WindowEnd bound the export, both inclusive. When
	// WindowEnd is set, rows of a partitioned stream whose time falls
	// outside the window are rejected. For a per-export stream they are
	// the exportStartAt sent and the job's nextExportStartAt.
	WindowStart, WindowEnd time.Time
	JobID                  int64
	ExtractedAt            time.Time
	// SnapshotDate is the date of a snapshot stream's rows.
	SnapshotDate time.Time
}

// constColumns are a Reader's lineage columns. Their values are the same on
// every row, so no row appends them: each column is built once, as long
// as the largest batch so far, and every batch gets a zero-copy slice of
// it. Under WithDictionaries a column is a dictionary array instead: the
// one value, and indices that all point at it (one shared buffer of
// zeros).
type constColumns struct {
	mem   memory.Allocator
	dict  bool
	types []arrow.DataType // the batch schema's types (dictionary types under dict)
	one   []arrow.Array    // each column's value, one row
	full  []arrow.Array    // plain: the column at its largest length
	zeros *array.Int32     // dict: indices, all 0
}

// newConstColumns builds the one-row value of each lineage field of
// fields (the stream's LineageFields, in order), found by name.
func newConstColumns(mem memory.Allocator, fields []arrow.Field, names schema.LineageNames, l Lineage, dict bool) (*constColumns, error) {
	cc := &constColumns{mem: mem, dict: dict}
	for _, f := range fields {
		one, err := lineageValue(mem, f, names, l)
		if err != nil {
			cc.release()
			return nil, err
		}
		cc.one = append(cc.one, one)
		cc.full = append(cc.full, nil)
		cc.types = append(cc.types, f.Type)
		if dict {
			cc.types[len(cc.types)-1] = DictionaryOf(f.Type)
		}
	}
	return cc, nil
}

// lineageValue is field f's value for l, one row.
func lineageValue(mem memory.Allocator, f arrow.Field, n schema.LineageNames, l Lineage) (arrow.Array, error) {
	b := array.NewBuilder(mem, f.Type)
	defer b.Release()
	var t time.Time
	switch f.Name {
	case n.Owner:
		if sb, ok := b.(*array.StringBuilder); ok {
			sb.Append(l.Contract)
			return b.NewArray(), nil
		}
	case n.Start:
		t = l.WindowStart
	case n.End:
		t = l.WindowEnd
	case n.ExtractedAt:
		t = l.ExtractedAt
	case n.JobID:
		if ib, ok := b.(*array.Int64Builder); ok {
			ib.Append(l.JobID)
			return b.NewArray(), nil
		}
	case n.SnapshotDate:
		if db, ok := b.(*array.Date32Builder); ok {
			db.Append(arrow.Date32FromTime(l.SnapshotDate))
			return b.NewArray(), nil
		}
	}
	switch tb := b.(type) {
	case *array.TimestampBuilder:
		tb.Append(arrow.Timestamp(t.UnixMilli()))
		return b.NewArray(), nil
	case *array.Int64Builder: // per-export bounds, epoch ms
		tb.Append(t.UnixMilli())
		return b.NewArray(), nil
	}
	return nil, fmt.Errorf("lineage column %s of type %s: %w", f.Name, f.Type, ErrLineageType)
}

// columns returns the lineage columns of an n-row batch; the caller
// releases them.
func (cc *constColumns) columns(n int) ([]arrow.Array, error) {
	out := make([]arrow.Array, len(cc.one))
	if cc.dict {
		if cc.zeros == nil || cc.zeros.Len() < n {
			if cc.zeros != nil {
				cc.zeros.Release()
			}
			b := array.NewInt32Builder(cc.mem)
			b.AppendEmptyValues(n)
			cc.zeros = b.NewInt32Array()
			b.Release()
		}
		idx := array.NewSlice(cc.zeros, 0, int64(n))
		defer idx.Release()
		for i, one := range cc.one {
			out[i] = array.NewDictionaryArray(cc.types[i], idx, one)
		}
		return out, nil
	}
	for i, one := range cc.one {
		if cc.full[i] == nil || cc.full[i].Len() < n {
			full, err := repeat(cc.mem, one, n)
			if err != nil {
				for _, a := range out[:i] {
					a.Release()
				}
				return nil, err
			}
			if cc.full[i] != nil {
				cc.full[i].Release()
			}
			cc.full[i] = full
		}
		out[i] = array.NewSlice(cc.full[i], 0, int64(n))
	}
	return out, nil
}

// repeat is n rows of one's single value.
func repeat(mem memory.Allocator, one arrow.Array, n int) (arrow.Array, error) {
	b := array.NewInt32Builder(mem)
	b.AppendEmptyValues(n)
	idx := b.NewInt32Array()
	b.Release()
	defer idx.Release()
	out, err := compute.TakeArray(compute.WithAllocator(context.Background(), mem), one, idx)
	if err != nil {
		return nil, fmt.Errorf("building lineage column: %w", err)
	}
	return out, nil
}

func (cc *constColumns) release() {
	for _, a := range append(cc.one, cc.full...) {
		if a != nil {
			a.Release()
		}
	}
	cc.one, cc.full = nil, nil
	if cc.zeros != nil {
		cc.zeros.Release()
		cc.zeros = nil
	}
}
