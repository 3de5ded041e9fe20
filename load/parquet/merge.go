package parquet

// A merged dimension (profile associations) is a directory of parts:
//
//	<dir>/<name>/part-<seq>.parquet
//
// each written whole by one merge and published atomically, seq growing
// with each. The dimension of earlier versions, <dir>/<name>/data.parquet,
// counts as the oldest part. A key's row in a later part replaces its rows
// in earlier ones: readers take the newest row of each key (Latest; in SQL,
// the one with the greatest fetchedAt, see docs/data.md).
//
// A merge writes its rows as a new part, then compacts: while the part
// before the newest holds at most twice the newest's rows (or there are
// more than maxParts parts), the two are rewritten as one, under the
// newest's name, with the older one's rows whose key the newer one holds
// dropped, and the older one is removed. Parts so shrink from the oldest
// to the newest, by half at least: there are at most about log2(rows)
// of them, and a row is rewritten about log2(rows) times over its life,
// so a merge costs what its own rows cost, amortized, not what the whole
// dimension holds. A crash between the rewrite and the removal leaves the
// older part beside a newer one holding its surviving rows: readers see
// the same newest rows, and the next compaction removes it.

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/salesnav-etl/salesnav-etl/load"
	"github.com/salesnav-etl/salesnav-etl/schema"
)

var _ load.KeyReader = (*Sink)(nil)

// maxParts bounds the parts of a merged dimension (compaction keeps far
// fewer: see above).
const maxParts = 32

// partPrefix starts the file name of a part of a merged dimension.
const partPrefix = "part-"

// PartName is the file of part seq of a merged dimension.
func PartName(stream string, seq int64) string {
	return fmt.Sprintf("%s/%s%012d.parquet", stream, partPrefix, seq)
}

// part is one file of a merged dimension.
type part struct {
	name string
	seq  int64 // -1: the data.parquet of earlier versions
	rows int64
	sc   *arrow.Schema
}

// parts lists the parts of a merged dimension, oldest first, with their
// row counts and schemas (from their footers).
func (p *Sink) parts(ctx context.Context, stream string) ([]part, error) {
	names, err := p.st.List(ctx, stream+"/", ".parquet")
	if err != nil {
		return nil, err
	}
	var out []part
	for _, name := range names {
		base := strings.TrimPrefix(name, stream+"/")
		seq := int64(-1)
		if base != DataFileName {
			n, ok := strings.CutPrefix(strings.TrimSuffix(base, ".parquet"), partPrefix)
			v, err := strconv.ParseInt(n, 10, 64)
			if !ok || err != nil || v < 0 {
				continue // not a part: readers of the dimension see it, the connector does not
			}
			seq = v
		}
		pt, err := p.footer(ctx, name)
		if err != nil {
			return nil, err
		}
		pt.seq = seq
		out = append(out, pt)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].seq < out[j].seq })
	return out, nil
}

// footer reads a file's row count and schema from its footer.
func (p *Sink) footer(ctx context.Context, name string) (part, error) {
	f, err := p.st.Open(ctx, name)
	if err != nil {
		return part{}, err
	}
	defer f.Close()
	pf, err := file.NewParquetReader(f)
	if err != nil {
		return part{}, fmt.Errorf("reading %s: %w", p.st.Location(name), err)
	}
	defer pf.Close()
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{}, p.cfg.Allocator)
	if err != nil {
		return part{}, fmt.Errorf("reading %s: %w", p.st.Location(name), err)
	}
	sc, err := fr.Schema()
	if err != nil {
		return part{}, fmt.Errorf("reading %s: %w", p.st.Location(name), err)
	}
	return part{name: name, rows: pf.NumRows(), sc: sc}, nil
}

// keyIndices finds the stream's key columns in sc.
func keyIndices(st *schema.Stream, sc *arrow.Schema) ([]int, error) {
	idx := make([]int, len(st.Key))
	for i, k := range st.Key {
		found := sc.FieldIndices(k)
		if len(found) != 1 {
			return nil, fmt.Errorf("merging %s: no key column %q", st.Name, k)
		}
		idx[i] = found[0]
	}
	return idx, nil
}

// appendKey appends the key of row i of r (the columns idx as text, each
// followed by a zero byte) to b.
func appendKey(b []byte, r arrow.RecordBatch, idx []int, i int) []byte {
	for _, c := range idx {
		b = append(b, cellText(r.Column(c), i)...)
		b = append(b, 0)
	}
	return b
}

// MergeDimension writes rec as a new part of the dimension, then compacts
// its parts (see above). The stats count rec's rows, and the files and
// bytes written, compaction included.
func (p *Sink) MergeDimension(ctx context.Context, st *schema.Stream, rec arrow.RecordBatch) (load.Stats, error) {
	if _, err := keyIndices(st, rec.Schema()); err != nil {
		return load.Stats{}, err
	}
	parts, err := p.parts(ctx, st.Name)
	if err != nil {
		return load.Stats{}, err
	}
	seq := int64(0)
	if n := len(parts); n > 0 {
		seq = parts[n-1].seq + 1
	}
	for _, pt := range parts {
		if !sameColumns(pt.sc, rec.Schema()) {
			return load.Stats{}, fmt.Errorf("merging %s: %s has other columns than this load (%s): move the directory away to start afresh",
				st.Name, p.st.Location(pt.name), rec.Schema())
		}
	}
	name := PartName(st.Name, seq)
	stats, err := p.writeWhole(ctx, name, rec.Schema(), rec.NumRows(), func(fw *pqarrow.FileWriter) error { return fw.Write(rec) })
	if err != nil {
		return load.Stats{}, err
	}
	parts = append(parts, part{name: name, seq: seq, rows: rec.NumRows(), sc: rec.Schema()})
	for n := len(parts); n >= 2 && (parts[n-2].rows <= 2*parts[n-1].rows || n > maxParts); n = len(parts) {
		older, newer := parts[n-2], parts[n-1]
		written, bytes, err := p.compact(ctx, st, rec.Schema(), older.name, newer.name)
		if err != nil {
			return load.Stats{}, fmt.Errorf("compacting %s: %w", st.Name, err)
		}
		stats.Files++
		stats.Bytes += bytes
		newer.rows = written
		parts = append(parts[:n-2], newer)
	}
	return stats, nil
}

// compact rewrites the parts older and newer as one, under newer's name:
// older's rows whose key newer does not hold, then newer's. It then
// removes older. It returns the rows and bytes written.
func (p *Sink) compact(ctx context.Context, st *schema.Stream, sc *arrow.Schema, older, newer string) (int64, int64, error) {
	oldT, _, err := p.readTable(ctx, older, nil)
	if err != nil {
		return 0, 0, err
	}
	defer oldT.Release()
	newT, _, err := p.readTable(ctx, newer, nil)
	if err != nil {
		return 0, 0, err
	}
	defer newT.Release()
	if !sameColumns(oldT.Schema(), sc) || !sameColumns(newT.Schema(), sc) {
		return 0, 0, fmt.Errorf("%s and %s have other columns than this load (%s): move the directory away to start afresh",
			p.st.Location(older), p.st.Location(newer), sc)
	}
	idx, err := keyIndices(st, sc)
	if err != nil {
		return 0, 0, err
	}
	fresh := make(map[string]bool, newT.NumRows())
	var key []byte
	if err := eachBatch(newT, func(r arrow.RecordBatch) error {
		for i := range int(r.NumRows()) {
			key = appendKey(key[:0], r, idx, i)
			fresh[string(key)] = true
		}
		return nil
	}); err != nil {
		return 0, 0, err
	}
	var rows int64
	// Under this load's schema (the files carry Parquet field ids as
	// metadata).
	write := func(fw *pqarrow.FileWriter, r arrow.RecordBatch, from, to int) error {
		if from >= to {
			return nil
		}
		s := r.NewSlice(int64(from), int64(to))
		same := array.NewRecordBatch(sc, s.Columns(), s.NumRows())
		s.Release()
		defer same.Release()
		rows += same.NumRows()
		return fw.WriteBuffered(same)
	}
	stats, err := p.writeWhole(ctx, newer, sc, 0, func(fw *pqarrow.FileWriter) error {
		err := eachBatch(oldT, func(r arrow.RecordBatch) error {
			// Keep the runs of rows whose key newer does not hold.
			start := -1
			for i := 0; i <= int(r.NumRows()); i++ {
				keep := false
				if i < int(r.NumRows()) {
					key = appendKey(key[:0], r, idx, i)
					keep = !fresh[string(key)]
				}
				switch {
				case keep && start < 0:
					start = i
				case !keep && start >= 0:
					if err := write(fw, r, start, i); err != nil {
						return err
					}
					start = -1
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		return eachBatch(newT, func(r arrow.RecordBatch) error { return write(fw, r, 0, int(r.NumRows())) })
	})
	if err != nil {
		return 0, 0, err
	}
	if err := p.st.Remove(ctx, older); err != nil {
		return 0, 0, err
	}
	return rows, stats.Bytes, nil
}

// eachBatch calls fn with the record batches of tbl, in order.
func eachBatch(tbl arrow.Table, fn func(arrow.RecordBatch) error) error {
	tr := array.NewTableReader(tbl, 64<<10)
	defer tr.Release()
	for tr.Next() {
		if err := fn(tr.RecordBatch()); err != nil {
			return err
		}
	}
	return tr.Err()
}

// Latest reads the parts oldest first, keeping for each key the last row
// read: the row f picks, or none when the last row is not picked. It holds
// only the picked rows in memory, and reads only the key columns, cols and
// f.Column.
func (p *Sink) Latest(ctx context.Context, st *schema.Stream, cols []string, f load.RowFilter) ([][]string, error) {
	parts, err := p.parts(ctx, st.Name)
	if err != nil {
		return nil, err
	}
	read := uniqueNames(append(append(append([]string{}, st.Key...), cols...), f.Column))
	pos := func(c string) int {
		for i, r := range read {
			if r == c {
				return i
			}
		}
		return -1
	}
	keyIdx := make([]int, len(st.Key))
	for i, k := range st.Key {
		keyIdx[i] = pos(k)
	}
	colIdx := make([]int, len(cols))
	for i, c := range cols {
		colIdx[i] = pos(c)
	}
	filterIdx := -1
	if f.Column != "" {
		filterIdx = pos(f.Column)
	}
	var key []byte
	wanted := make(map[string]bool, len(f.Keys))
	for _, k := range f.Keys {
		key = key[:0]
		for _, v := range k {
			key = append(append(key, v...), 0)
		}
		wanted[string(key)] = true
	}
	picked := map[string][]string{}
	for _, pt := range parts {
		tbl, ok, err := p.readTable(ctx, pt.name, read)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		err = eachBatch(tbl, func(r arrow.RecordBatch) error {
			for i := range int(r.NumRows()) {
				key = appendKey(key[:0], r, keyIdx, i)
				pick := wanted[string(key)]
				if !pick && filterIdx >= 0 {
					v := cellText(r.Column(filterIdx), i)
					pick = !slices.Contains(f.Except, v)
				}
				if !pick {
					delete(picked, string(key))
					continue
				}
				row := make([]string, len(cols))
				for c, j := range colIdx {
					row[c] = cellText(r.Column(j), i)
				}
				picked[string(key)] = row
			}
			return nil
		})
		tbl.Release()
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", p.st.Location(pt.name), err)
		}
	}
	out := make([][]string, 0, len(picked))
	for _, row := range picked {
		out = append(out, row)
	}
	sortRows(out)
	return out, nil
}

// uniqueNames drops empty names and repeats, keeping the first.
func uniqueNames(names []string) []string {
	var out []string
	for _, n := range names {
		if n != "" && !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}
