package transform_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/salesnav-etl/salesnav-etl/schema"
	"github.com/salesnav-etl/salesnav-etl/transform"
)

// WithDictionaries changes the type of the Enum and lineage columns to
// dictionaries, and nothing else: every golden input gives the same rows,
// rejects, errors and column names, and every other column's type.
func TestDictionariesChangeOnlyTypes(t *testing.T) {
	for _, tc := range goldenCases {
		t.Run(tc.file, func(t *testing.T) {
			in := filepath.Join("..", "testdata", "transform", tc.file)
			plain := strings.Split(render(t, in, tc.stream), "\n")
			dict := strings.Split(render(t, in, tc.stream, transform.WithDictionaries()), "\n")
			if len(plain) != len(dict) {
				t.Fatalf("%d lines with dictionaries, %d without:\n%s", len(dict), len(plain), strings.Join(dict, "\n"))
			}
			for i := range plain {
				name, typ, isField := strings.Cut(strings.TrimPrefix(plain[i], "  "), ": ")
				typ, _, _ = strings.Cut(typ, " nullable=")
				c, known := tc.stream.Column(name)
				encoded := isField && strings.HasPrefix(plain[i], "  ") && (schema.IsLineage(name) || known && c.Kind == schema.Enum)
				switch {
				case encoded && !strings.Contains(dict[i], ": dictionary<values="+typ+", indices=int32"):
					t.Errorf("line %d: %q, want the dictionary of %q", i+1, dict[i], plain[i])
				case !encoded && dict[i] != plain[i]:
					t.Errorf("line %d: %q with dictionaries, %q without", i+1, dict[i], plain[i])
				}
			}
		})
	}
}

// An Enum column's dictionary is its declared values, the same array
// values in every batch, so a Parquet writer keeps one dictionary for a
// whole file; the lineage's dictionaries hold their one value.
func TestDictionaryValues(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	in := "activityId,activityType,createdAt,seatId\n" +
		"a1,SAVED_LEAD,03-01-2026 10:00:00,1\na2,INMAIL_SENT,03-01-2026 11:00:00,1\na3,SAVED_LEAD,03-02-2026 10:00:00,2\n"
	r, err := transform.NewReader(strings.NewReader(in), schema.Activity, transform.WithAllocator(mem),
		transform.WithBatchSize(2), transform.WithLineage(lineage), transform.WithDictionaries(),
		transform.WithRejects(transform.RejectFunc(func(rj transform.Reject) error { t.Errorf("reject: %+v", rj); return nil })))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Release()
	enum, _ := schema.Activity.Column("activityType")
	batches := 0
	for r.Next() {
		batches++
		rec := r.RecordBatch()
		for i, f := range rec.Schema().Fields() {
			d, ok := rec.Column(i).(interface {
				Dictionary() arrow.Array
				GetValueIndex(int) int
			})
			switch {
			case f.Name == "activityType":
				if !ok || d.Dictionary().Len() != len(enum.Values) {
					t.Fatalf("activityType is %s, want a dictionary of the %d declared values", f.Type, len(enum.Values))
				}
				for j, v := range enum.Values {
					if got := d.Dictionary().ValueStr(j); got != v {
						t.Errorf("dictionary value %d is %q, want %q", j, got, v)
					}
				}
			case schema.IsLineage(f.Name):
				if !ok || d.Dictionary().Len() != 1 {
					t.Fatalf("%s is %s, want a dictionary of one value", f.Name, f.Type)
				}
				for row := range int(rec.NumRows()) {
					if d.GetValueIndex(row) != 0 {
						t.Errorf("%s row %d: index %d", f.Name, row, d.GetValueIndex(row))
					}
				}
			}
		}
	}
	if r.Err() != nil || batches != 2 || r.Rows() != 3 {
		t.Fatalf("batches %d, rows %d, err %v", batches, r.Rows(), r.Err())
	}
}

// Dense is the schema of the same batches without dictionaries.
func TestDense(t *testing.T) {
	r, err := transform.NewReader(strings.NewReader("activityId,activityType,createdAt,seatId\n"), schema.Activity,
		transform.WithLineage(lineage), transform.WithDictionaries())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Release()
	p, err := transform.NewReader(strings.NewReader("activityId,activityType,createdAt,seatId\n"), schema.Activity,
		transform.WithLineage(lineage))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Release()
	if got := transform.Dense(r.Schema()); !got.Equal(p.Schema()) {
		t.Fatalf("Dense = %s\nwant %s", got, p.Schema())
	}
	if r.Schema().Equal(p.Schema()) {
		t.Fatal("the schemas with and without dictionaries are equal")
	}
}
