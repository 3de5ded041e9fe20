package transform

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// errAt is a reader that fails with errBroken after n bytes.
type errAt struct {
	r io.Reader
	n int
}

var errBroken = errors.New("connection reset")

func (e *errAt) Read(p []byte) (int, error) {
	if e.n <= 0 {
		return 0, errBroken
	}
	if len(p) > e.n {
		p = p[:e.n]
	}
	n, err := e.r.Read(p)
	e.n -= n
	return n, err
}

// sameAsEncodingCSV reads data with encoding/csv (as the Reader used to)
// and with a csvScanner, through bufio buffers of size buf (16 is the
// smallest, so lines longer than the buffer take the long-line path), with
// a read error after cut bytes when cut >= 0. Both must give the same
// records, errors, offsets and lines.
func sameAsEncodingCSV(t *testing.T, data []byte, buf, cut int) {
	t.Helper()
	src := func() io.Reader {
		if cut >= 0 {
			return &errAt{r: bytes.NewReader(data), n: cut}
		}
		return bytes.NewReader(data)
	}
	want := csv.NewReader(bufio.NewReaderSize(src(), buf))
	want.FieldsPerRecord = -1
	want.ReuseRecord = true
	got := newCSVScanner(bufio.NewReaderSize(src(), buf))
	for n := 1; ; n++ {
		wrec, werr := want.Read()
		grec, gerr := got.Read()
		var wpe, gpe *csv.ParseError
		switch {
		case errors.As(werr, &wpe):
			if !errors.As(gerr, &gpe) || *gpe != *wpe {
				t.Fatalf("record %d: error %v, want %v", n, gerr, werr)
			}
			return
		case werr != nil:
			if gerr != werr {
				t.Fatalf("record %d: error %v, want %v", n, gerr, werr)
			}
			return
		case gerr != nil:
			t.Fatalf("record %d: error %v, want %q", n, gerr, wrec)
		}
		if !reflect.DeepEqual(grec, wrec) {
			t.Fatalf("record %d: %q, want %q", n, grec, wrec)
		}
		if got.InputOffset() != want.InputOffset() {
			t.Fatalf("record %d: offset %d, want %d", n, got.InputOffset(), want.InputOffset())
		}
		first, _ := want.FieldPos(0)
		last, _ := want.FieldPos(len(wrec) - 1)
		last += strings.Count(wrec[len(wrec)-1], "\n")
		if got.startLine != first || got.endLine != last {
			t.Fatalf("record %d: lines %d-%d, want %d-%d", n, got.startLine, got.endLine, first, last)
		}
	}
}

var scannerCases = []string{
	"",
	"a,b,c\n1,2,3\n",
	"a,b,c\r\n1,2,3\r\n",
	"a,b\n\n\n1,2\n\r\n3,4",
	"a,b\r",
	"a,\"b\nc\",d\n1,2,3\n",
	"a,\"b\r\nc\"\"d\",e\r\n",
	"a,\"b\"x,c\n",
	"a,b\"c,d\n",
	"a,\"unterminated\n1,2\n",
	"\"\"\n\"\",\n,\"\"",
	",,\n,\n",
	"a,\"b\"",
	"\"a\"\"\",\"\"\"b\"\n",
	"x,\xff\xfe,\"\xc3\x28\"\n",
	"long line " + strings.Repeat("abcdefgh", 10) + "," + strings.Repeat("\"q\"\"", 9) + "\n",
	"a,\"" + strings.Repeat("z", 40) + "\n" + strings.Repeat("y", 40) + "\",b\n",
}

func TestCSVScannerSameAsEncodingCSV(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "testdata", "transform", "*.csv"))
	cases := append([]string(nil), scannerCases...)
	for _, p := range files {
		raw, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		cases = append(cases, string(raw))
	}
	for _, c := range cases {
		for _, buf := range []int{16, 4096} {
			sameAsEncodingCSV(t, []byte(c), buf, -1)
			for cut := 0; cut <= len(c); cut += 7 {
				sameAsEncodingCSV(t, []byte(c), buf, cut)
			}
		}
	}
}

// FuzzCSVScanner: any bytes, any buffer size, any point of a read error:
// the scanner and encoding/csv agree.
func FuzzCSVScanner(f *testing.F) {
	for _, c := range scannerCases {
		f.Add([]byte(c), uint8(0), int16(-1))
	}
	f.Fuzz(func(t *testing.T, data []byte, buf uint8, cut int16) {
		sameAsEncodingCSV(t, data, 16+int(buf), int(cut))
	})
}
