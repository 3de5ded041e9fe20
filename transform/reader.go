// Package transform turns an export's CSV into typed Apache Arrow record
// batches checked against a schema.Stream.
//
// A Reader reads like arrow's own CSV reader (Next, RecordBatch, Err,
// Release), but it never stops at a bad value: a row with a bad type, enum
// or null goes to a RejectSink with its line number, column, raw value and
// reason, and the rest of the file goes on. Unknown columns are kept as
// nullable strings and reported as drift; a missing required column is an
// error before any row is read.
//
// No invalid UTF-8 leaves a Reader: a string field that is not valid UTF-8
// rejects its row, or is repaired (WithInvalidUTF8), and a header name that
// is not is a bad header. No record larger than a bound
// (WithMaxRecordSize) is read into memory: it stops the Reader with
// ErrRecordTooLarge (see boundedReader).
package transform

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/salesnav-etl/salesnav-etl/internal/iox"
	"github.com/salesnav-etl/salesnav-etl/schema"
)

// DefaultBatchSize is the number of rows per record batch.
const DefaultBatchSize = 64 * 1024

// plan maps one output column to its CSV field.
type plan struct {
	col   schema.Column
	src   int              // index in the CSV record; -1 when absent from the header
	enum  map[string]int32 // an Enum's values, to their index in Values
	dict  arrow.Array      // an Enum's dictionary (WithDictionaries)
	drift bool
}

// Reader streams record batches out of a CSV export.
type Reader struct {
	cfg     config
	stream  *schema.Stream
	body    io.ReadCloser
	csv     *csvScanner
	bound   *boundedReader
	schema  *arrow.Schema
	data    *arrow.Schema // bld's: the plans' columns, an Enum's indices as int32 under WithDictionaries
	plans   []plan
	nfields int
	drift   []string
	bld     *array.RecordBuilder
	cur     arrow.RecordBatch
	err     error
	done    bool
	empty   bool

	partIdx          int // plan index of the partition column, -1 if none
	consts           *constColumns
	winStart, winEnd int64

	// scratch values of the row being parsed, by plan index
	ints   []int64
	floats []float64
	bools  []bool
	nulls  []bool
	// fixed holds the row's repaired strings (ReplaceInvalidUTF8), by
	// plan index, when dirty.
	fixed []string
	dirty bool

	// recEnd is the input offset where the last record read ends, and
	// endLine its last line.
	recEnd  int64
	endLine int

	rows, rejected, repaired int64
}

// NewReader reads the header of r (gzip or plain, with or without a UTF-8
// BOM) and checks it against stream. The Reader does not close r.
func NewReader(r io.Reader, stream *schema.Stream, opts ...Option) (*Reader, error) {
	cfg := config{mem: memory.DefaultAllocator, batchSize: DefaultBatchSize, source: stream.Name}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.batchSize <= 0 {
		cfg.batchSize = DefaultBatchSize
	}
	if cfg.maxRecord <= 0 {
		cfg.maxRecord = DefaultMaxRecordSize
	}
	body, _, err := iox.MaybeGunzip(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", cfg.source, err)
	}
	bound := &boundedReader{r: body, limit: cfg.maxRecord + readAhead}
	br := bufio.NewReaderSize(bound, readAhead)
	bom := int64(0)
	if b, _ := br.Peek(3); len(b) == 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF {
		_, _ = br.Discard(3)
		bom = 3
	}
	cr := newCSVScanner(br)
	rd := &Reader{cfg: cfg, stream: stream, body: body, csv: cr, bound: bound, partIdx: -1}

	header, err := cr.Read()
	if err == nil {
		err = rd.checkSize(header, bom)
	}
	for i, h := range header {
		header[i] = strings.Clone(h) // the scanner's fields are views
	}
	switch {
	case errors.Is(err, io.EOF):
		rd.empty = true
		header = nil
	case err != nil:
		body.Close()
		var pe *csv.ParseError
		if errors.Is(err, errPastBound) || errors.Is(err, ErrRecordTooLarge) {
			return nil, fmt.Errorf("%s: reading header: line 1: %w (%d bytes)", cfg.source, ErrRecordTooLarge, cfg.maxRecord)
		}
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("%s: reading header: %w: %v", cfg.source, ErrCSVSyntax, err)
		}
		return nil, fmt.Errorf("%s: reading header: %w: %w", cfg.source, ErrRead, err)
	}
	if err := rd.planColumns(header); err != nil {
		rd.Release() // closes body
		return nil, err
	}
	rd.bld = array.NewRecordBuilder(cfg.mem, rd.data)
	if cfg.lineage != nil {
		rd.consts, err = newConstColumns(cfg.mem, stream.LineageFields(), stream.Lineage(), *cfg.lineage, cfg.dict)
		if err != nil {
			rd.Release()
			return nil, fmt.Errorf("%s: %w", cfg.source, err)
		}
	}
	n := len(rd.plans)
	rd.ints, rd.floats, rd.bools, rd.nulls, rd.fixed = make([]int64, n), make([]float64, n), make([]bool, n), make([]bool, n), make([]string, n)
	if l := cfg.lineage; l != nil && !l.WindowEnd.IsZero() {
		rd.winStart, rd.winEnd = l.WindowStart.UnixMilli(), l.WindowEnd.UnixMilli()
	}
	if rd.empty {
		rd.done = true
	}
	return rd, nil
}

// Schema is the schema of every batch: the stream's known columns in
// documented order, then drift columns in header order, then lineage.
func (r *Reader) Schema() *arrow.Schema { return r.schema }

// Drift lists the header's columns that the stream does not know.
func (r *Reader) Drift() []string { return r.drift }

// Empty reports whether the input had no header at all (a 0-byte file).
func (r *Reader) Empty() bool { return r.empty }

// Rows is the number of rows read into batches so far.
func (r *Reader) Rows() int64 { return r.rows }

// Rejected is the number of rows rejected so far.
func (r *Reader) Rejected() int64 { return r.rejected }

// Repaired is the number of rows read into batches so far whose invalid
// UTF-8 was replaced (ReplaceInvalidUTF8); they count in Rows too.
func (r *Reader) Repaired() int64 { return r.repaired }

// Err is the error that stopped Next, if any. Rejected rows are not errors.
func (r *Reader) Err() error { return r.err }

// RecordBatch returns the current batch. It is valid until the next call to
// Next or Release; Retain it to keep it longer.
func (r *Reader) RecordBatch() arrow.RecordBatch { return r.cur }

// Release frees the current batch and the builders. It is safe to call
// more than once.
func (r *Reader) Release() {
	if r.cur != nil {
		r.cur.Release()
		r.cur = nil
	}
	if r.bld != nil {
		r.bld.Release()
		r.bld = nil
	}
	if r.consts != nil {
		r.consts.release()
		r.consts = nil
	}
	for i := range r.plans {
		if r.plans[i].dict != nil {
			r.plans[i].dict.Release()
			r.plans[i].dict = nil
		}
	}
	if r.body != nil {
		r.body.Close()
		r.body = nil
	}
}

// Next reads the next batch. It returns false at the end of the input or
// on an error (see Err).
func (r *Reader) Next() bool {
	if r.cur != nil {
		r.cur.Release()
		r.cur = nil
	}
	if r.done || r.err != nil || r.bld == nil {
		return false
	}
	n := 0
	for n < r.cfg.batchSize {
		rec, err := r.csv.Read()
		if errors.Is(err, io.EOF) {
			r.done = true
			break
		}
		if err == nil {
			err = r.checkSize(rec, r.recEnd)
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.Is(err, errPastBound) || errors.Is(err, ErrRecordTooLarge) {
				r.err = fmt.Errorf("%s: line %d: %w (%d bytes)", r.cfg.source, r.endLine+1, ErrRecordTooLarge, r.cfg.maxRecord)
			} else if errors.As(err, &pe) {
				r.err = fmt.Errorf("%s: line %d, column %d: %w: %v", r.cfg.source, pe.Line, pe.Column, ErrCSVSyntax, pe.Err)
			} else {
				r.err = fmt.Errorf("%s: %w: %w", r.cfg.source, ErrRead, err)
			}
			break
		}
		ok, err := r.parseRow(rec)
		if err != nil {
			r.err = err
			break
		}
		if ok {
			n++
		}
	}
	if n == 0 {
		return false
	}
	cur, err := r.batch(n)
	if err != nil {
		r.err = err
		return false
	}
	r.cur = cur
	r.rows += int64(n)
	return true
}

// batch finishes the n rows appended as a batch of the Reader's schema:
// the builders' columns (an Enum's indices under its dictionary), then the
// lineage.
func (r *Reader) batch(n int) (arrow.RecordBatch, error) {
	data := r.bld.NewRecordBatch()
	defer data.Release()
	cols := make([]arrow.Array, 0, r.schema.NumFields())
	defer func() {
		for _, c := range cols {
			c.Release()
		}
	}()
	for i := range r.plans {
		c := data.Column(i)
		if d := r.plans[i].dict; d != nil {
			cols = append(cols, array.NewDictionaryArray(r.schema.Field(i).Type, c, d))
			continue
		}
		c.Retain()
		cols = append(cols, c)
	}
	if r.consts != nil {
		lin, err := r.consts.columns(n)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", r.cfg.source, err)
		}
		cols = append(cols, lin...)
	}
	return array.NewRecordBatch(r.schema, cols, int64(n)), nil
}

// checkSize checks the size of rec, the record just read, which began at
// input offset start, and moves the input's bound past it; it notes where
// rec ends (endLine), for the error about a record too large that follows.
func (r *Reader) checkSize(rec []string, start int64) error {
	end := r.csv.InputOffset()
	if len(rec) > 0 {
		if end-start > r.cfg.maxRecord {
			r.endLine = r.csv.startLine - 1
			return ErrRecordTooLarge
		}
		r.endLine = r.csv.endLine
	}
	r.recEnd = end
	r.bound.limit = end + r.cfg.maxRecord + readAhead
	return nil
}

func (r *Reader) reject(line int, rec []string, column, value, reason string) error {
	r.rejected++
	if r.cfg.rejects == nil {
		return nil
	}
	// The record's fields are views of the scanner's buffers: the reject
	// keeps copies.
	cp := make([]string, len(rec))
	for i, f := range rec {
		cp[i] = strings.Clone(f)
	}
	err := r.cfg.rejects.Reject(Reject{Stream: r.stream.Name, Source: r.cfg.source, Line: line, Column: column, Value: strings.Clone(value), Reason: reason, Record: cp})
	if err != nil {
		return fmt.Errorf("%s: writing reject of line %d: %w", r.cfg.source, line, err)
	}
	return nil
}
