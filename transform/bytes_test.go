package transform_test

import (
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/salesnav-etl/salesnav-etl/schema"
	"github.com/salesnav-etl/salesnav-etl/transform"
)

// readAll reads in through a Reader with a checked allocator and returns
// the activityId and memberIdentityKey values loaded (null as "<null>"),
// the rejects, the repaired count and the error.
func readAll(t *testing.T, in string, st *schema.Stream, opts ...transform.Option) (ids, keys []string, rejects []transform.Reject, repaired int64, err error) {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	opts = append([]transform.Option{transform.WithAllocator(mem), transform.WithBatchSize(2), transform.WithSource("x.csv"),
		transform.WithRejects(transform.RejectFunc(func(rj transform.Reject) error { rejects = append(rejects, rj); return nil }))}, opts...)
	r, err := transform.NewReader(strings.NewReader(in), st, opts...)
	if err != nil {
		return nil, nil, nil, 0, err
	}
	defer r.Release()
	for r.Next() {
		rec := r.RecordBatch()
		for i, f := range rec.Schema().Fields() {
			col, ok := rec.Column(i).(*array.String)
			if !ok {
				continue
			}
			for j := range col.Len() {
				v := col.Value(j)
				if col.IsNull(j) {
					v = "<null>"
				}
				switch f.Name {
				case "activityId":
					ids = append(ids, v)
				case "memberIdentityKey":
					keys = append(keys, v)
				}
				if !utf8.ValidString(v) {
					t.Errorf("column %s holds invalid UTF-8 %q", f.Name, v)
				}
			}
		}
	}
	return ids, keys, rejects, r.Repaired(), r.Err()
}

const activityHeader = "activityId,activityType,createdAt,seatId,memberIdentityKey\n"

// Invalid UTF-8 in a string field never reaches a batch: the row is
// rejected naming the column and line, or repaired with one U+FFFD per run
// of invalid bytes and counted.
func TestInvalidUTF8(t *testing.T) {
	rows := activityHeader +
		"a1,SAVED_LEAD,03-01-2026 10:00:00,1,k1\n" +
		"a\xff\xfe2,SAVED_LEAD,03-01-2026 10:00:00,1,k2\n" + // a run of two invalid bytes in a key column
		"a3,SAVED_LEAD,03-01-2026 10:00:00,1,k\xc3\n" + // a cut two-byte sequence in a nullable column
		"a4,SAVED_LEAD,03-01-2026 10:00:00,1,Zoë\n" // valid UTF-8 beyond ASCII
	for _, c := range []struct {
		name         string
		in           string
		opts         []transform.Option
		ids, keys    []string
		rejectLines  []int
		rejectCols   []string
		wantRepaired int64
	}{
		{name: "reject (the default)", in: rows,
			ids: []string{"a1", "a4"}, keys: []string{"k1", "Zoë"},
			rejectLines: []int{3, 4}, rejectCols: []string{"activityId", "memberIdentityKey"}},
		{name: "replace", in: rows, opts: []transform.Option{transform.WithInvalidUTF8(transform.ReplaceInvalidUTF8)},
			ids: []string{"a1", "a\uFFFD2", "a3", "a4"}, keys: []string{"k1", "k2", "k\uFFFD", "Zoë"}, wantRepaired: 2},
		// A repaired enum value is still not one of the enum's.
		{name: "replace, enum", in: activityHeader + "a1,SAVED\xffLEAD,03-01-2026 10:00:00,1,\n",
			opts:        []transform.Option{transform.WithInvalidUTF8(transform.ReplaceInvalidUTF8)},
			rejectLines: []int{2}, rejectCols: []string{"activityType"}},
		// A drift column is a string column too.
		{name: "reject, drift column", in: "activityId,activityType,createdAt,seatId,region\na1,SAVED_LEAD,03-01-2026 10:00:00,1,\xe2\x82\n",
			rejectLines: []int{2}, rejectCols: []string{"region"}},
		{name: "all valid", in: activityHeader + "a1,SAVED_LEAD,03-01-2026 10:00:00,1,\xe2\x82\xac\n",
			ids: []string{"a1"}, keys: []string{"€"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			ids, keys, rejects, repaired, err := readAll(t, c.in, schema.Activity, c.opts...)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(ids, "|") != strings.Join(c.ids, "|") || (c.keys != nil && strings.Join(keys, "|") != strings.Join(c.keys, "|")) {
				t.Errorf("loaded ids %q keys %q, want %q %q", ids, keys, c.ids, c.keys)
			}
			if repaired != c.wantRepaired {
				t.Errorf("repaired %d, want %d", repaired, c.wantRepaired)
			}
			if len(rejects) != len(c.rejectLines) {
				t.Fatalf("rejects %+v, want lines %v", rejects, c.rejectLines)
			}
			for i, rj := range rejects {
				if rj.Line != c.rejectLines[i] || rj.Column != c.rejectCols[i] {
					t.Errorf("reject %d: line %d column %s (%s), want line %d column %s", i, rj.Line, rj.Column, rj.Reason, c.rejectLines[i], c.rejectCols[i])
				}
			}
		})
	}
}

// A header name that is not valid UTF-8 is a bad header: it would become a
// column name.
func TestInvalidUTF8HeaderRefused(t *testing.T) {
	_, err := transform.NewReader(strings.NewReader("activityId,activityType,createdAt,seatId,re\xffgion\n"), schema.Activity)
	if !errors.Is(err, transform.ErrBadHeader) || !strings.Contains(err.Error(), "UTF-8") {
		t.Fatalf("error %v, want ErrBadHeader about UTF-8", err)
	}
}

// A record over the bound stops the reader with ErrRecordTooLarge naming
// the line it starts on; one at the bound loads. The bound counts the
// record's bytes in the file, line end included, quoted newlines too.
func TestRecordSizeBound(t *testing.T) {
	row := func(key string) string { return "a1,SAVED_LEAD,03-01-2026 10:00:00,1," + key + "\n" }
	base := len(row(""))
	const max = 200
	for _, c := range []struct {
		name    string
		in      string
		rows    int
		errLine int // 0: no error
	}{
		{name: "at the bound", in: activityHeader + row(strings.Repeat("k", max-base)), rows: 1},
		{name: "one byte over", in: activityHeader + row("x") + row(strings.Repeat("k", max-base+1)), rows: 1, errLine: 3},
		{name: "a huge last line without newline", in: activityHeader + row("x") + strings.Repeat("z", 5*max), rows: 1, errLine: 3},
		{name: "after a quoted multi-line field", in: activityHeader + row(`"two`+"\n"+`lines"`) + row(strings.Repeat("k", max)), rows: 1, errLine: 4},
		{name: "the header", in: strings.Repeat("h", max+1) + "\n", errLine: 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			ids, _, _, _, err := readAll(t, c.in, schema.Activity, transform.WithMaxRecordSize(max))
			if len(ids) != c.rows {
				t.Errorf("%d rows loaded, want %d", len(ids), c.rows)
			}
			if c.errLine == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, transform.ErrRecordTooLarge) || !strings.Contains(err.Error(), "x.csv") ||
				!strings.Contains(err.Error(), "line "+strconv.Itoa(c.errLine)+":") {
				t.Fatalf("error %v, want ErrRecordTooLarge at line %d", err, c.errLine)
			}
		})
	}
}

// endless is a line that never ends: it counts the bytes read from it.
type endless struct{ n, limit int64 }

func (e *endless) Read(p []byte) (int, error) {
	if e.n >= e.limit {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), e.limit-e.n)]
	for i := range p {
		p[i] = 'z'
	}
	e.n += int64(len(p))
	return len(p), nil
}

// A record larger than the bound is not read into memory: the reader gives
// up after the bound and its read-ahead buffer, never reading the 64 MiB
// line to its end.
func TestOversizedRecordNotBuffered(t *testing.T) {
	const bound = 1 << 20
	src := &endless{limit: 64 << 20}
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	r, err := transform.NewReader(io.MultiReader(strings.NewReader(activityHeader), src), schema.Activity,
		transform.WithAllocator(mem), transform.WithMaxRecordSize(bound))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Release()
	for r.Next() {
	}
	if !errors.Is(r.Err(), transform.ErrRecordTooLarge) || !strings.Contains(r.Err().Error(), "line 2:") {
		t.Fatalf("Err() = %v, want ErrRecordTooLarge at line 2", r.Err())
	}
	// The bound, the read-ahead buffer (256 KiB) and the gzip sniffer's
	// (64 KiB), with room to spare: far from the line's 64 MiB.
	if src.n > bound+1<<20 {
		t.Errorf("read %d bytes of the line, the bound is %d", src.n, bound)
	}
}
