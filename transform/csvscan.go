package transform

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"io"
	"unsafe"
)

// csvScanner reads CSV records exactly as encoding/csv's Reader does with
// its defaults and FieldsPerRecord -1 (comma-separated, no comments,
// strict quotes, \r\n read as \n, blank lines skipped, any number of
// fields), with the same errors (*csv.ParseError with ErrQuote or
// ErrBareQuote, at the same line and column; a read error as it came),
// the same InputOffset, and the lines a record starts and ends on.
//
// What differs is the fields' memory: encoding/csv copies each record
// into one new string. The scanner's fields are views of its own
// buffers, valid only until the next Read: a caller that keeps a field
// clones it (strings.Clone). A record of one line without a quote, the
// usual export row, is not copied at all: its fields are views of the
// line in the bufio.Reader. FuzzCSVScanner holds the two readers to the
// same records, errors and offsets.
type csvScanner struct {
	r      *bufio.Reader
	raw    []byte   // a line longer than r's buffer
	buf    []byte   // the fields of a record with quotes, unquoted
	ends   []int    // where each field ends in buf
	rec    []string // the record Read returns
	line   int      // lines read
	offset int64    // bytes read

	startLine, endLine int // of the last record read
}

func newCSVScanner(r *bufio.Reader) *csvScanner { return &csvScanner{r: r} }

// InputOffset is the input offset of the end of the last record read, as
// csv.Reader.InputOffset.
func (s *csvScanner) InputOffset() int64 { return s.offset }

// view is b as a string without a copy: valid while b's bytes are.
func view(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// readLine is encoding/csv's: the next line with its \n (\r\n made \n),
// valid until the next call.
func (s *csvScanner) readLine() ([]byte, error) {
	line, err := s.r.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		s.raw = append(s.raw[:0], line...)
		for err == bufio.ErrBufferFull {
			line, err = s.r.ReadSlice('\n')
			s.raw = append(s.raw, line...)
		}
		line = s.raw
	}
	n := len(line)
	if n > 0 && err == io.EOF {
		err = nil
		if line[n-1] == '\r' { // dropped before EOF, as encoding/csv does
			line = line[:n-1]
		}
	}
	s.line++
	s.offset += int64(n)
	if n := len(line); n >= 2 && line[n-2] == '\r' && line[n-1] == '\n' {
		line[n-2] = '\n'
		line = line[:n-1]
	}
	return line, err
}

func lengthNL(b []byte) int {
	if len(b) > 0 && b[len(b)-1] == '\n' {
		return 1
	}
	return 0
}

// Read returns the next record; its fields are valid until the next Read.
// At the end of the input it returns io.EOF.
func (s *csvScanner) Read() ([]string, error) {
	var line []byte
	var errRead error
	for errRead == nil {
		line, errRead = s.readLine()
		if errRead == nil && len(line) == lengthNL(line) {
			continue // a blank line
		}
		break
	}
	if errRead == io.EOF {
		return nil, errRead
	}
	s.startLine = s.line
	if errRead == nil && bytes.IndexByte(line, '"') < 0 {
		body := line[:len(line)-lengthNL(line)]
		s.rec = s.rec[:0]
		for {
			i := bytes.IndexByte(body, ',')
			if i < 0 {
				s.rec = append(s.rec, view(body))
				break
			}
			s.rec = append(s.rec, view(body[:i]))
			body = body[i+1:]
		}
		s.endLine = s.line
		return s.rec, nil
	}
	err := s.parseQuoted(line, errRead)
	s.endLine = s.line
	prev := 0
	all := view(s.buf)
	s.rec = s.rec[:0]
	for _, end := range s.ends {
		s.rec = append(s.rec, all[prev:end])
		prev = end
	}
	return s.rec, err
}

// parseQuoted parses a record that has a quote, or whose line came with a
// read error, into buf and ends: encoding/csv's readRecord, line by line.
func (s *csvScanner) parseQuoted(line []byte, errRead error) error {
	var err error
	recLine := s.line
	s.buf, s.ends = s.buf[:0], s.ends[:0]
	posLine, col := s.line, 1
parseField:
	for {
		if len(line) == 0 || line[0] != '"' {
			i := bytes.IndexByte(line, ',')
			field := line
			if i >= 0 {
				field = field[:i]
			} else {
				field = field[:len(field)-lengthNL(field)]
			}
			if j := bytes.IndexByte(field, '"'); j >= 0 {
				err = &csv.ParseError{StartLine: recLine, Line: s.line, Column: col + j, Err: csv.ErrBareQuote}
				break parseField
			}
			s.buf = append(s.buf, field...)
			s.ends = append(s.ends, len(s.buf))
			if i >= 0 {
				line = line[i+1:]
				col += i + 1
				continue parseField
			}
			break parseField
		}
		line = line[1:]
		col++
		for {
			i := bytes.IndexByte(line, '"')
			switch {
			case i >= 0:
				s.buf = append(s.buf, line[:i]...)
				line = line[i+1:]
				col += i + 1
				switch {
				case len(line) > 0 && line[0] == '"': // "" is a quote
					s.buf = append(s.buf, '"')
					line = line[1:]
					col++
				case len(line) > 0 && line[0] == ',': // ", ends the field
					line = line[1:]
					col++
					s.ends = append(s.ends, len(s.buf))
					continue parseField
				case lengthNL(line) == len(line): // "\n ends the record
					s.ends = append(s.ends, len(s.buf))
					break parseField
				default:
					err = &csv.ParseError{StartLine: recLine, Line: s.line, Column: col - 1, Err: csv.ErrQuote}
					break parseField
				}
			case len(line) > 0: // the field goes on past this line
				s.buf = append(s.buf, line...)
				if errRead != nil {
					break parseField
				}
				col += len(line)
				line, errRead = s.readLine()
				if len(line) > 0 {
					posLine++
					col = 1
				}
				if errRead == io.EOF {
					errRead = nil
				}
			default: // the input ended inside the quotes
				if errRead == nil {
					err = &csv.ParseError{StartLine: recLine, Line: posLine, Column: col, Err: csv.ErrQuote}
					break parseField
				}
				s.ends = append(s.ends, len(s.buf))
				break parseField
			}
		}
	}
	if err == nil {
		err = errRead
	}
	return err
}
