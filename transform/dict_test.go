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

// The CSV scanner hands out fields that are views of its buffers; what
// the Reader keeps (the header's names, a reject's value and record) are
// copies, still right after the buffers have been reused many times over.
func TestRejectsKeepTheirBytes(t *testing.T) {
	var in strings.Builder
	in.WriteString("activityId,activityType,createdAt,seatId,memberIdentityKey,regionCode\n")
	in.WriteString("bad-1,NOT_A_TYPE,03-01-2026 10:00:00,1,urn:li:member:1,EU\n")
	for i := range 20_000 { // about 1.3 MB: the 256 KiB read buffer is refilled
		in.WriteString("a" + strings.Repeat("x", 10) + ",SAVED_LEAD,03-01-2026 11:00:00," + string(rune('0'+i%10)) + ",urn:li:member:2,US\n")
	}
	in.WriteString("bad-2,SAVED_LEAD,03-01-2026 12:00:00,not-a-number,urn:li:member:3,EU\n")
	var rejects []transform.Reject
	r, err := transform.NewReader(strings.NewReader(in.String()), schema.Activity, transform.WithLineage(lineage), transform.WithDictionaries(),
		transform.WithRejects(transform.RejectFunc(func(rj transform.Reject) error { rejects = append(rejects, rj); return nil })))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Release()
	for r.Next() {
	}
	if r.Err() != nil || r.Rows() != 20_000 || len(rejects) != 2 {
		t.Fatalf("rows %d, rejects %d, err %v", r.Rows(), len(rejects), r.Err())
	}
	want := []transform.Reject{
		{Line: 2, Column: "activityType", Value: "NOT_A_TYPE", Record: []string{"bad-1", "NOT_A_TYPE", "03-01-2026 10:00:00", "1", "urn:li:member:1", "EU"}},
		{Line: 20_003, Column: "seatId", Value: "not-a-number", Record: []string{"bad-2", "SAVED_LEAD", "03-01-2026 12:00:00", "not-a-number", "urn:li:member:3", "EU"}},
	}
	for i, w := range want {
		g := rejects[i]
		if g.Line != w.Line || g.Column != w.Column || g.Value != w.Value || strings.Join(g.Record, "|") != strings.Join(w.Record, "|") {
			t.Errorf("reject %d: line %d column %s value %q record %q; want line %d column %s value %q record %q",
				i, g.Line, g.Column, g.Value, g.Record, w.Line, w.Column, w.Value, w.Record)
		}
	}
	if d := r.Drift(); len(d) != 1 || d[0] != "regionCode" || len(r.Schema().FieldIndices("regionCode")) != 1 {
		t.Errorf("drift %q, schema %s", d, r.Schema())
	}
}
