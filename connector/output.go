package connector

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
)

// Output is the one writer of a protocol's messages. A message is one
// line; each goes to the underlying writer in one Write, whole, under a
// lock, so that lines written by several goroutines never interleave and
// a writer that masks secrets line by line (secret.Set.Writer) sees every
// line whole. After a write fails, every later one fails with the same
// error (standard output closed: nobody reads any more).
type Output struct {
	mu  sync.Mutex
	w   io.Writer
	err error
}

// NewOutput returns an Output writing to w.
func NewOutput(w io.Writer) *Output { return &Output{w: w} }

// Line writes one message; line must end with a newline and hold no
// other.
func (o *Output) Line(line []byte) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.write(line)
}

// JSON writes v as one line of JSON (HTML characters not escaped).
func (o *Output) JSON(v any) error {
	line, err := MarshalLine(v)
	if err != nil {
		return err
	}
	return o.Line(line)
}

// MarshalLine is v as one line of JSON, newline included, with <, > and &
// written as they are.
func MarshalLine(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("encoding a message: %w", err)
	}
	return b.Bytes(), nil
}

// copyChunk is how much of a spooled window one Write passes on (cut at
// the last whole line; more when one line is longer).
const copyChunk = 1 << 20

// CopyLines writes the lines r holds (each ending with a newline) in
// chunks of whole lines, under the lock throughout: no other line comes
// between them. It returns the bytes written.
func (o *Output) CopyLines(r io.Reader) (int64, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	buf := make([]byte, copyChunk)
	var n int64
	have := 0
	for {
		m, rerr := io.ReadFull(r, buf[have:])
		have += m
		cut := bytes.LastIndexByte(buf[:have], '\n') + 1
		if cut == 0 && have == len(buf) {
			// One line longer than the buffer (a record of megabytes):
			// grow it until the line fits.
			buf = append(buf, make([]byte, len(buf))...)
			continue
		}
		if cut > 0 {
			if err := o.write(buf[:cut]); err != nil {
				return n, err
			}
			n += int64(cut)
			have = copy(buf, buf[cut:have])
		}
		if errors.Is(rerr, io.EOF) || errors.Is(rerr, io.ErrUnexpectedEOF) {
			if have > 0 {
				return n, fmt.Errorf("copying records: %w", ErrPartialLine)
			}
			return n, nil
		}
		if rerr != nil {
			return n, fmt.Errorf("copying records: %w", rerr)
		}
	}
}

func (o *Output) write(p []byte) error {
	if o.err != nil {
		return o.err
	}
	if _, err := o.w.Write(p); err != nil {
		o.err = fmt.Errorf("writing to the output: %w", err)
	}
	return o.err
}
