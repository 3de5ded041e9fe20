package transform_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/salesnav-etl/salesnav-etl/schema"
	"github.com/salesnav-etl/salesnav-etl/transform"
)

var update = flag.Bool("update", false, "rewrite golden files")

// lineage is stamped on every golden row: a window of 2026-03-01 and
// 2026-03-02.
var lineage = transform.Lineage{
	Contract:     "urn:li:salesContract:1001",
	WindowStart:  time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC),
	WindowEnd:    time.Date(2026, 3, 3, 0, 0, 0, 0, time.UTC).Add(-time.Millisecond),
	JobID:        42,
	ExtractedAt:  time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC),
	SnapshotDate: time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC),
}

// render reads a file through a Reader with a checked allocator and renders
// everything observable: schema, drift, batches as JSON, rejects, error.
func render(t *testing.T, path string, stream *schema.Stream, opts ...transform.Option) string {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out bytes.Buffer
	var rejects []transform.Reject
	opts = append([]transform.Option{
		transform.WithAllocator(mem), transform.WithBatchSize(2), transform.WithLineage(lineage),
		transform.WithSource(filepath.Base(path)),
		transform.WithRejects(transform.RejectFunc(func(rj transform.Reject) error { rejects = append(rejects, rj); return nil })),
	}, opts...)
	r, err := transform.NewReader(f, stream, opts...)
	if err != nil {
		fmt.Fprintf(&out, "error: %v\n", err)
		return out.String()
	}
	defer r.Release()
	fmt.Fprintf(&out, "schema:\n")
	for _, f := range r.Schema().Fields() {
		fmt.Fprintf(&out, "  %s: %s nullable=%v\n", f.Name, f.Type, f.Nullable)
	}
	fmt.Fprintf(&out, "drift: %v\nempty: %v\n", r.Drift(), r.Empty())
	batch := 0
	for r.Next() {
		rec := r.RecordBatch()
		js, err := rec.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&out, "batch %d (%d rows): %s\n", batch, rec.NumRows(), js)
		batch++
	}
	if err := r.Err(); err != nil {
		fmt.Fprintf(&out, "error: %v\n", err)
	}
	fmt.Fprintf(&out, "rows: %d rejected: %d\n", r.Rows(), r.Rejected())
	for _, rj := range rejects {
		js, _ := json.Marshal(rj)
		fmt.Fprintf(&out, "reject: %s\n", js)
	}
	return out.String()
}

// goldenCases are the inputs of testdata/transform and their streams.
var goldenCases = []struct {
	file   string
	stream *schema.Stream
}{
	{"good.csv", schema.Activity},
	{"bad_type.csv", schema.Activity},
	{"bad_enum.csv", schema.Activity},
	{"missing_column.csv", schema.Activity},
	{"extra_column.csv", schema.Activity},
	{"no_member_column.csv", schema.Activity},
	{"quoting.csv", schema.Activity},
	{"crlf.csv", schema.Activity},
	{"bom.csv", schema.Activity},
	{"empty.csv", schema.Activity},
	{"header_only.csv", schema.Activity},
	{"header_only_crlf_nonewline.csv", schema.Activity},
	{"duplicate_column.csv", schema.Activity},
	{"unterminated_quote.csv", schema.Activity},
	{"gzip.csv.gz", schema.Activity},
	{"seat.csv", schema.Seat},
	// Header-driven: every column a nullable string, unknown ones kept
	// as drift, one named like a Hive key renamed; per-export lineage.
	{"crm_validation.csv", schema.CRMValidation},
}

func TestGolden(t *testing.T) {
	for _, tc := range goldenCases {
		t.Run(tc.file, func(t *testing.T) {
			in := filepath.Join("..", "testdata", "transform", tc.file)
			golden := in + ".golden"
			got := render(t, in, tc.stream)
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./transform -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("output differs from %s (run with -update after checking):\n--- got\n%s\n--- want\n%s", golden, got, want)
			}
		})
	}
}

// The same rows, however encoded, give the same batches.
func TestEncodingsAgree(t *testing.T) {
	base := render(t, "../testdata/transform/good.csv", schema.Activity)
	for _, f := range []string{"crlf.csv", "bom.csv", "gzip.csv.gz"} {
		if got := render(t, "../testdata/transform/"+f, schema.Activity); got != base {
			t.Errorf("%s differs from good.csv:\n%s", f, got)
		}
	}
}

func TestMissingColumnError(t *testing.T) {
	_, err := transform.NewReader(strings.NewReader("activityId,activityType,createdAt\n"), schema.Activity, transform.WithSource("x.csv"))
	var he *transform.HeaderError
	if !errors.Is(err, transform.ErrMissingColumn) || !errors.As(err, &he) || he.Column != "seatId" || !strings.Contains(err.Error(), "x.csv") {
		t.Fatalf("error %v: want ErrMissingColumn naming seatId and the source", err)
	}
}

func TestLineageColumnInHeaderRefused(t *testing.T) {
	_, err := transform.NewReader(strings.NewReader("activityId,activityType,createdAt,seatId,_contract\n"), schema.Activity)
	if !errors.Is(err, transform.ErrBadHeader) {
		t.Fatalf("error %v, want ErrBadHeader", err)
	}
}

// A reject sink that fails stops the reader with an error naming the line.
func TestRejectSinkErrorStops(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	in := "activityId,activityType,createdAt,seatId\na,SAVED_LEAD,03-01-2026 00:00:00,x\n"
	r, err := transform.NewReader(strings.NewReader(in), schema.Activity, transform.WithAllocator(mem),
		transform.WithRejects(transform.RejectFunc(func(transform.Reject) error { return errors.New("disk full") })))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Release()
	for r.Next() {
	}
	if r.Err() == nil || !strings.Contains(r.Err().Error(), "line 2") || !strings.Contains(r.Err().Error(), "disk full") {
		t.Fatalf("Err() = %v", r.Err())
	}
}
