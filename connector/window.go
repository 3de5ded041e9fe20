package connector

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/salesnav-etl/salesnav-etl/load"
	"github.com/salesnav-etl/salesnav-etl/schema"
)

// window spools one window's record lines to a temporary file.
type window struct {
	sink           *Sink
	w              load.Window
	file           *os.File
	bw             *bufio.Writer
	prefix, suffix []byte
	buf            []byte
	rows           int64
	ids            map[string]bool // per-export streams: the record ids
	closed         bool
}

// flushAt is how many encoded bytes a window gathers before it writes
// them to its spool file.
const flushAt = 64 << 10

// OpenWindow starts a window: its rows go to a temporary file until
// Commit writes them out.
func (s *Sink) OpenWindow(_ context.Context, w load.Window, _ *arrow.Schema) (load.WindowWriter, error) {
	s.startReading(w.Stream.Name)
	f, err := os.CreateTemp(s.cfg.TempDir, "salesnav-"+w.Stream.Name+"-*.jsonl")
	if err != nil {
		return nil, fmt.Errorf("spooling %s: %w", w.Stream.Name, err)
	}
	prefix, suffix := s.cfg.Frame.Record(w.Stream.Name, s.cfg.Now())
	win := &window{sink: s, w: w, file: f, bw: bufio.NewWriterSize(f, 1<<20), prefix: prefix, suffix: suffix}
	if w.Stream.PerExport() {
		win.ids = map[string]bool{}
	}
	return win, nil
}

// Write encodes rec's rows into the spool.
func (w *window) Write(_ context.Context, rec arrow.RecordBatch) error {
	if w.closed {
		return load.ErrWindowClosed
	}
	rows, err := NewRows(w.w.Stream, rec)
	if err != nil {
		return err
	}
	for i := range rows.Len() {
		w.buf = append(w.buf, w.prefix...)
		w.buf = rows.Append(w.buf, i)
		w.buf = append(w.buf, w.suffix...)
		w.buf = append(w.buf, '\n')
		if len(w.buf) >= flushAt {
			if err := w.flush(); err != nil {
				return err
			}
		}
	}
	w.rows += int64(rows.Len())
	if w.ids != nil {
		w.keepIDs(rec)
	}
	return nil
}

// keepIDs remembers the record ids of a per-export stream's batch.
func (w *window) keepIDs(rec arrow.RecordBatch) {
	idx := rec.Schema().FieldIndices(schema.CRMRecordIDColumn)
	if len(idx) != 1 {
		return
	}
	col, ok := rec.Column(idx[0]).(*array.String)
	if !ok {
		return
	}
	for i := range col.Len() {
		if col.IsValid(i) && col.Value(i) != "" {
			w.ids[col.Value(i)] = true
		}
	}
}

func (w *window) flush() error {
	if _, err := w.bw.Write(w.buf); err != nil {
		return fmt.Errorf("spooling %s: %w", w.w.Stream.Name, err)
	}
	w.buf = w.buf[:0]
	return nil
}

// Commit writes the spooled rows out, whole, and removes the spool.
func (w *window) Commit(context.Context) (load.Stats, error) {
	if w.closed {
		return load.Stats{}, load.ErrWindowClosed
	}
	defer w.Abort()
	if err := w.flush(); err != nil {
		return load.Stats{}, err
	}
	if err := w.bw.Flush(); err != nil {
		return load.Stats{}, fmt.Errorf("spooling %s: %w", w.w.Stream.Name, err)
	}
	if _, err := w.file.Seek(0, io.SeekStart); err != nil {
		return load.Stats{}, fmt.Errorf("reading the spool of %s: %w", w.w.Stream.Name, err)
	}
	n, err := w.sink.cfg.Out.CopyLines(w.file)
	if err != nil {
		return load.Stats{}, fmt.Errorf("writing %s: %w", w.w.Stream.Name, err)
	}
	if w.ids != nil {
		e := exportRecords{owner: w.w.Contract, start: w.w.Start.UnixMilli(), next: w.w.End.UnixMilli()}
		for id := range w.ids {
			e.ids = append(e.ids, id)
		}
		w.sink.remember(w.w.Stream.Name, e)
	}
	return load.Stats{Rows: w.rows, Bytes: n}, nil
}

// Abort drops the spool. Safe after Commit and twice.
func (w *window) Abort() error {
	if w.closed {
		return nil
	}
	w.closed = true
	name := w.file.Name()
	w.file.Close()
	return os.Remove(name)
}

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }
