package transform

import (
	"errors"
	"io"
)

// readAhead is the size of the buffer between the input and the CSV
// parser (a *bufio.Reader this large).
const readAhead = 256 << 10

// errPastBound is what boundedReader returns once the parser has been
// given all it may have of the record it reads; Next turns it into
// ErrRecordTooLarge, naming the line.
var errPastBound = errors.New("past the record bound")

// boundedReader bounds what the CSV parser (csvScanner) can buffer of one
// record.
//
// The parser, as encoding/csv, reads a whole record into memory before it
// returns it (a
// line without a newline, or a quoted field that never closes, would be
// read to the end of the file). The input therefore reaches the parser
// through a boundedReader, under the readAhead buffer: after each record,
// the Reader moves the limit to the record's end (csvScanner.InputOffset)
// plus the bound plus readAhead, and past the limit boundedReader returns
// errPastBound instead of bytes. So a record larger than the bound fails
// after at most bound + readAhead of its bytes were read, and the parser
// holds at most about two copies of that (its line buffer, its field
// buffer); a record between the bound and the limit
// is caught once read, by its size (Next). Either way the window fails
// with ErrRecordTooLarge naming the line: skipping the record instead
// would mean finding its end, which only reading it all (quotes may hide
// newlines) can do.
type boundedReader struct {
	r     io.Reader
	pos   int64 // bytes handed out
	limit int64 // pos never passes it
}

func (b *boundedReader) Read(p []byte) (int, error) {
	if b.pos >= b.limit {
		return 0, errPastBound
	}
	if room := b.limit - b.pos; int64(len(p)) > room {
		p = p[:room]
	}
	n, err := b.r.Read(p)
	b.pos += int64(n)
	return n, err
}
