package parquet

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/salesnav-etl/salesnav-etl/load"
	"github.com/salesnav-etl/salesnav-etl/schema"
)

var (
	_ load.Reader    = (*Sink)(nil)
	_ load.MergeSink = (*Sink)(nil)
)

// readTable reads the columns cols of one Parquet file (all when cols is
// nil). ok is false when the file lacks one of them.
func (p *Sink) readTable(ctx context.Context, name string, cols []string) (tbl arrow.Table, ok bool, err error) {
	f, err := p.st.Open(ctx, name)
	if err != nil {
		return nil, false, err
	}
	defer f.Close()
	pf, err := file.NewParquetReader(f)
	if err != nil {
		return nil, false, fmt.Errorf("reading %s: %w", p.st.Location(name), err)
	}
	defer pf.Close()
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: 64 << 10}, p.cfg.Allocator)
	if err != nil {
		return nil, false, fmt.Errorf("reading %s: %w", p.st.Location(name), err)
	}
	if cols == nil {
		tbl, err = fr.ReadTable(ctx)
	} else {
		sc, serr := fr.Schema()
		if serr != nil {
			return nil, false, fmt.Errorf("reading %s: %w", p.st.Location(name), serr)
		}
		idx := make([]int, len(cols))
		for i, c := range cols {
			found := sc.FieldIndices(c)
			if len(found) != 1 {
				return nil, false, nil
			}
			// Flat schemas: a field's index is its leaf column's.
			idx[i] = found[0]
		}
		rgs := make([]int, pf.NumRowGroups())
		for i := range rgs {
			rgs[i] = i
		}
		tbl, err = fr.ReadRowGroups(ctx, idx, rgs)
	}
	if err != nil {
		return nil, false, fmt.Errorf("reading %s: %w", p.st.Location(name), err)
	}
	return tbl, true, nil
}

// Distinct reads the columns cols of every file of stream; of a merged
// dimension, of the newest row of each key (Latest).
func (p *Sink) Distinct(ctx context.Context, stream string, cols []string) ([][]string, error) {
	if st, err := schema.Lookup(stream); err == nil && st.Merge() {
		rows, err := p.Latest(ctx, st, cols, load.RowFilter{Column: st.Key[0]})
		if err != nil {
			return nil, err
		}
		return slices.CompactFunc(rows, slices.Equal), nil
	}
	names, err := p.st.List(ctx, stream+"/", ".parquet")
	if err != nil {
		return nil, err
	}
	seen := map[string][]string{}
	for _, name := range names {
		tbl, ok, err := p.readTable(ctx, name, cols)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		err = eachRow(tbl, func(row []string) {
			k := strings.Join(row, "\x00")
			if _, dup := seen[k]; !dup {
				seen[k] = row
			}
		})
		tbl.Release()
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", p.st.Location(name), err)
		}
	}
	out := make([][]string, 0, len(seen))
	for _, row := range seen {
		out = append(out, row)
	}
	sortRows(out)
	return out, nil
}

// eachRow calls fn with every row of tbl as text; fn must copy row to
// keep it.
func eachRow(tbl arrow.Table, fn func(row []string)) error {
	tr := array.NewTableReader(tbl, 64<<10)
	defer tr.Release()
	for tr.Next() {
		rec := tr.RecordBatch()
		n := int(rec.NumCols())
		for i := range int(rec.NumRows()) {
			row := make([]string, n)
			for c := range n {
				row[c] = cellText(rec.Column(c), i)
			}
			fn(row)
		}
	}
	return tr.Err()
}

// cellText is one value as text; null is "".
func cellText(a arrow.Array, i int) string {
	if a.IsNull(i) {
		return ""
	}
	if s, ok := a.(*array.String); ok {
		return s.Value(i)
	}
	return a.ValueStr(i)
}

func sortRows(rows [][]string) {
	sort.Slice(rows, func(i, j int) bool {
		a, b := rows[i], rows[j]
		for k := range a {
			if a[k] != b[k] {
				return a[k] < b[k]
			}
		}
		return false
	})
}

// sameColumns reports whether a and b have the same field names, types
// and nullability, whatever their metadata.
func sameColumns(a, b *arrow.Schema) bool {
	if a.NumFields() != b.NumFields() {
		return false
	}
	for i := range a.NumFields() {
		fa, fb := a.Field(i), b.Field(i)
		if fa.Name != fb.Name || fa.Nullable != fb.Nullable || !arrow.TypeEqual(fa.Type, fb.Type) {
			return false
		}
	}
	return true
}
