// Package testkit holds helpers shared by the project's tests: reading a
// Parquet dataset back into comparable rows.
package testkit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/salesnav-etl/salesnav-etl/schema"
)

// Volatile are lineage columns that differ between two extractions of the
// same data (a new job, a new time).
var Volatile = []string{"_job_id", "_extracted_at"}

// Dataset is a stream's Parquet files read back.
type Dataset struct {
	// Rows are canonical JSON rows, sorted, without Volatile columns, each
	// with its partition path as "_path".
	Rows []string
	// Files maps each *.parquet file (relative path) to its SHA-256.
	Files map[string]string
	// Values maps a column name to its values, in Rows order.
	Values map[string][]any
}

// ReadDataset reads every *.parquet file below dir/stream. Of a merged
// dimension (profile associations: parts, see load/parquet), it keeps
// the newest row of each key, as readers are told to (docs/data.md).
func ReadDataset(t testing.TB, dir, stream string) Dataset {
	t.Helper()
	ds := Dataset{Files: map[string]string{}, Values: map[string][]any{}}
	root := filepath.Join(dir, stream)
	type row struct {
		key string
		m   map[string]any
	}
	var rows []row
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) {
				return filepath.SkipDir
			}
			return err
		}
		if d.IsDir() || !strings.HasSuffix(p, ".parquet") {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		raw, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(raw)
		ds.Files[filepath.ToSlash(rel)] = hex.EncodeToString(sum[:])
		rdr, err := file.OpenParquetFile(p, false)
		if err != nil {
			return err
		}
		defer rdr.Close()
		fr, err := pqarrow.NewFileReader(rdr, pqarrow.ArrowReadProperties{BatchSize: 4096}, memory.DefaultAllocator)
		if err != nil {
			return err
		}
		tbl, err := fr.ReadTable(context.Background())
		if err != nil {
			return err
		}
		defer tbl.Release()
		tr := array.NewTableReader(tbl, 4096)
		defer tr.Release()
		for tr.Next() {
			js, err := tr.RecordBatch().MarshalJSON()
			if err != nil {
				return err
			}
			var ms []map[string]any
			if err := json.Unmarshal(js, &ms); err != nil {
				return err
			}
			for _, m := range ms {
				for _, v := range Volatile {
					delete(m, v)
				}
				m["_path"] = filepath.ToSlash(filepath.Dir(rel))
				k, _ := json.Marshal(m)
				rows = append(rows, row{string(k), m})
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("reading dataset %s: %v", root, err)
	}
	if st, err := schema.Lookup(stream); err == nil && st.Merge() {
		// Files in name order (the walk's) are oldest first: the last row
		// of a key wins.
		last := map[string]int{}
		for i, r := range rows {
			k, _ := json.Marshal(keyOf(r.m, st.Key))
			last[string(k)] = i
		}
		kept := rows[:0]
		for i, r := range rows {
			k, _ := json.Marshal(keyOf(r.m, st.Key))
			if last[string(k)] == i {
				kept = append(kept, r)
			}
		}
		rows = kept
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].key < rows[j].key })
	for _, r := range rows {
		ds.Rows = append(ds.Rows, r.key)
		for k, v := range r.m {
			ds.Values[k] = append(ds.Values[k], v)
		}
	}
	return ds
}

// keyOf is the values of the columns key of row m.
func keyOf(m map[string]any, key []string) []any {
	out := make([]any, len(key))
	for i, k := range key {
		out[i] = m[k]
	}
	return out
}

// Strings returns a column's values as sorted strings.
func (d Dataset) Strings(col string) []string {
	var out []string
	for _, v := range d.Values[col] {
		s, _ := v.(string)
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}
