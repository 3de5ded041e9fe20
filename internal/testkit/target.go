package testkit

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/salesnav-etl/salesnav-etl/load"
	"github.com/salesnav-etl/salesnav-etl/load/chsink"
	"github.com/salesnav-etl/salesnav-etl/load/parquet"
)

// Target is a sink with its state store, and a way to read back each
// stream's rows in a canonical form (data columns and _contract,
// _snapshot_date; not the lineage that differs between two extractions of
// the same data). Duplicates stay in the list, so comparing lists finds
// them.
type Target struct {
	Name  string
	Sink  load.Sink
	State load.StateStore
	Rows  func(t testing.TB, stream string) []string
}

// volatileCols differ between extractions of the same rows.
var volatileCols = map[string]bool{"_window_start": true, "_window_end": true, "_job_id": true, "_extracted_at": true, "_path": true, chsink.RowHashColumn: true}

func canonical(m map[string]any) string {
	for k := range m {
		if volatileCols[k] {
			delete(m, k)
		}
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// ParquetTarget is a Parquet sink and state file in a new directory.
func ParquetTarget(t testing.TB) *Target { return ParquetTargetAt(t, t.TempDir()) }

// ParquetTargetAt is a Parquet sink and state file in dir.
func ParquetTargetAt(t testing.TB, dir string) *Target {
	sink, err := parquet.NewSink(parquet.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	state, err := load.OpenFileState(filepath.Join(dir, "_state.json"))
	if err != nil {
		t.Fatal(err)
	}
	return &Target{Name: "parquet", Sink: sink, State: state, Rows: func(t testing.TB, stream string) []string {
		return ParquetRows(t, dir, stream)
	}}
}

// ParquetRows reads a stream's Parquet files below dir as a Target's Rows
// does: canonical JSON rows, sorted, without the Volatile columns.
func ParquetRows(t testing.TB, dir, stream string) []string {
	var out []string
	for _, r := range ReadDataset(t, dir, stream).Rows {
		var m map[string]any
		json.Unmarshal([]byte(r), &m)
		out = append(out, canonical(m))
	}
	sort.Strings(out)
	return out
}

// ClickHouseTarget is a ClickHouse sink (and its state) on a new database,
// read back through the <stream>_final views.
func ClickHouseTarget(t testing.TB, dsn string) *Target {
	sink, err := chsink.Open(context.Background(), chsink.Config{DSN: dsn})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sink.Close() })
	state, err := sink.State(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return &Target{Name: "clickhouse", Sink: sink, State: state, Rows: func(t testing.TB, stream string) []string {
		rows, err := sink.Conn().Query(context.Background(), fmt.Sprintf("SELECT * FROM `%s`.`%s`", sink.Database(), chsink.ViewName(stream)))
		if err != nil {
			if strings.Contains(err.Error(), "doesn't exist") {
				return nil
			}
			t.Fatal(err)
		}
		defer rows.Close()
		cols := rows.ColumnTypes()
		var out []string
		for rows.Next() {
			vals := make([]any, len(cols))
			for i, c := range cols {
				vals[i] = reflect.New(c.ScanType()).Interface()
			}
			if err := rows.Scan(vals...); err != nil {
				t.Fatal(err)
			}
			m := map[string]any{}
			for i, c := range cols {
				v := reflect.ValueOf(vals[i]).Elem()
				for v.Kind() == reflect.Pointer {
					if v.IsNil() {
						break
					}
					v = v.Elem()
				}
				if v.Kind() == reflect.Pointer && v.IsNil() {
					m[c.Name()] = nil
				} else if tm, ok := v.Interface().(time.Time); ok {
					m[c.Name()] = tm.UTC().Format(time.RFC3339)
				} else {
					m[c.Name()] = v.Interface()
				}
			}
			out = append(out, canonical(m))
		}
		sort.Strings(out)
		return out
	}}
}
