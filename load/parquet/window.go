package parquet

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/salesnav-etl/salesnav-etl/load"
	"github.com/salesnav-etl/salesnav-etl/load/storage"
)

type parquetWindow struct {
	sink             *Sink
	w                load.Window
	props            *parquet.WriterProperties
	schema           *arrow.Schema // the files' (fileSchema)
	aprop            pqarrow.ArrowWriterProperties
	partCol          int
	startDay, endDay arrow.Date32 // [startDay, endDay)
	parts            map[arrow.Date32]*partFile
	rows             int64
	pendingRows      int64 // rows waiting in all partitions
	closed           bool
}

// partFile is one partition's staged file. Rows wait in pending (zero-copy
// slices of the batches written) until they make a row group.
type partFile struct {
	name        string
	staged      storage.Staged
	cw          *countingWriter
	bw          *bufio.Writer
	fw          *pqarrow.FileWriter
	pending     []arrow.RecordBatch
	pendingRows int64
	touched     bool // by the batch being written
}

// partName is the file of a partition of the window.
func (pw *parquetWindow) partName(day arrow.Date32) string {
	if pw.w.Stream.PerExport() {
		return ExportPartitionName(pw.w.Stream.Name, pw.w.PartitionID, pw.w.Start)
	}
	return PartitionName(pw.w.Stream.Name, pw.w.PartitionID, day.ToTime())
}

// covered returns every partition the window replaces, by key: a
// partition with no rows in the window is removed on Commit.
func (pw *parquetWindow) covered() map[arrow.Date32]string {
	out := map[arrow.Date32]string{}
	if pw.w.Stream.PerExport() {
		out[0] = pw.partName(0)
		return out
	}
	for _, date := range pw.w.Dates() {
		d := arrow.Date32FromTime(date)
		out[d] = pw.partName(d)
	}
	return out
}

func (pw *parquetWindow) part(day arrow.Date32) (*partFile, error) {
	if pf, ok := pw.parts[day]; ok {
		return pf, nil
	}
	name := pw.partName(day)
	staged, err := pw.sink.st.Create(context.Background(), name)
	if err != nil {
		return nil, err
	}
	cw := &countingWriter{w: staged}
	bw := bufio.NewWriterSize(cw, 64<<10)
	// pqarrow closes the io.Writer it is given when it is a Closer; bufio's
	// is not, so the staged file stays ours to commit.
	fw, err := pqarrow.NewFileWriter(pw.schema, bw, pw.props, pw.aprop)
	if err != nil {
		staged.Abort()
		return nil, fmt.Errorf("opening parquet writer for %s: %w", name, err)
	}
	pf := &partFile{name: name, staged: staged, cw: cw, bw: bw, fw: fw}
	pw.parts[day] = pf
	return pf, nil
}

// add queues rec (retained) for day's partition.
func (pw *parquetWindow) add(day arrow.Date32, rec arrow.RecordBatch) error {
	pf, err := pw.part(day)
	if err != nil {
		return err
	}
	rec.Retain()
	pf.pending = append(pf.pending, rec)
	pf.pendingRows += rec.NumRows()
	pw.pendingRows += rec.NumRows()
	pf.touched = true
	if pf.pendingRows >= int64(pw.sink.cfg.RowGroupRows) {
		return pw.flush(pf)
	}
	return nil
}

// flush writes a partition's pending rows as one row group.
func (pw *parquetWindow) flush(pf *partFile) error {
	if pf.pendingRows == 0 {
		return nil
	}
	tbl := array.NewTableFromRecords(pw.schema, pf.pending)
	err := pf.fw.WriteTable(tbl, pf.pendingRows)
	tbl.Release()
	pw.release(pf)
	if err != nil {
		return fmt.Errorf("writing %s: %w", pf.name, err)
	}
	return nil
}

func (pw *parquetWindow) release(pf *partFile) {
	for _, r := range pf.pending {
		r.Release()
	}
	pw.pendingRows -= pf.pendingRows
	pf.pending, pf.pendingRows = nil, 0
}

// afterBatch bounds memory: partitions the batch did not touch are done
// for now (time-ordered exports move from day to day), and past twice a
// row group of pending rows every partition is flushed.
func (pw *parquetWindow) afterBatch() error {
	all := pw.pendingRows > 2*int64(pw.sink.cfg.RowGroupRows)
	for _, pf := range pw.parts {
		if !pf.touched || all {
			if err := pw.flush(pf); err != nil {
				return err
			}
		}
		pf.touched = false
	}
	return nil
}

// Write splits rec by partition date into zero-copy slices.
func (pw *parquetWindow) Write(ctx context.Context, rec arrow.RecordBatch) error {
	if pw.closed {
		return load.ErrWindowClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	n := int(rec.NumRows())
	if n == 0 {
		return nil
	}
	pw.rows += int64(n)
	if pw.partCol < 0 {
		key := arrow.Date32(0) // per export: the window is one partition
		if pw.w.Stream.Snapshot() {
			key = arrow.Date32FromTime(pw.w.SnapshotDate())
		}
		if err := pw.add(key, rec); err != nil {
			return err
		}
		return pw.afterBatch()
	}
	ts, ok := rec.Column(pw.partCol).(*array.Timestamp)
	if !ok {
		return fmt.Errorf("writing window: partition column %q is %s, not a timestamp", pw.w.Stream.DayColumn, rec.Column(pw.partCol).DataType())
	}
	vals := ts.TimestampValues()
	dayless := pw.w.Stream.DayOptional()
	dayOf := func(i int) (arrow.Date32, error) {
		if ts.IsNull(i) {
			// A row without a day (its assumed day column absent from the
			// export) goes to the window's first day, which the window
			// replaces whole like its other days: loading the same window
			// again replaces these rows, never doubles them.
			if dayless {
				return pw.startDay, nil
			}
			return 0, fmt.Errorf("writing window: row %d has a null %s", i, pw.w.Stream.DayColumn)
		}
		ms := int64(vals[i])
		d := ms / 86_400_000
		if ms%86_400_000 < 0 {
			d--
		}
		day := arrow.Date32(d)
		if day < pw.startDay || day >= pw.endDay {
			return 0, fmt.Errorf("writing window: %w: %s %s is not in [%s, %s)", ErrOutsideWindow, pw.w.Stream.DayColumn,
				time.UnixMilli(ms).UTC().Format(time.RFC3339), pw.w.Start.Format(time.DateOnly), pw.w.End.Format(time.DateOnly))
		}
		return day, nil
	}
	start := 0
	cur, err := dayOf(0)
	if err != nil {
		return err
	}
	for i := 1; i <= n; i++ {
		var day arrow.Date32
		if i < n {
			if day, err = dayOf(i); err != nil {
				return err
			}
			if day == cur {
				continue
			}
		}
		var werr error
		if start == 0 && i == n {
			werr = pw.add(cur, rec)
		} else {
			slice := rec.NewSlice(int64(start), int64(i))
			werr = pw.add(cur, slice)
			slice.Release()
		}
		if werr != nil {
			return werr
		}
		start, cur = i, day
	}
	return pw.afterBatch()
}

// Commit finishes every partition file, publishes them, then removes the
// files of covered dates that received no rows.
func (pw *parquetWindow) Commit(ctx context.Context) (load.Stats, error) {
	var st load.Stats
	if pw.closed {
		return st, load.ErrWindowClosed
	}
	days := make([]arrow.Date32, 0, len(pw.parts))
	for d := range pw.parts {
		days = append(days, d)
	}
	sort.Slice(days, func(i, j int) bool { return days[i] < days[j] })
	// Finish every file before publishing any: a failure here leaves the
	// previous dataset untouched.
	for _, d := range days {
		pf := pw.parts[d]
		if err := pw.flush(pf); err != nil {
			pw.Abort()
			return st, err
		}
		if err := pf.fw.Close(); err != nil {
			pw.Abort()
			return st, fmt.Errorf("finishing %s: %w", pf.name, err)
		}
		if err := pf.bw.Flush(); err != nil {
			pw.Abort()
			return st, fmt.Errorf("finishing %s: %w", pf.name, err)
		}
	}
	pw.closed = true
	for i, d := range days {
		pf := pw.parts[d]
		if err := pf.staged.Commit(ctx); err != nil {
			for _, rest := range days[i+1:] {
				pw.parts[rest].staged.Abort()
			}
			return st, err
		}
		st.Files++
		st.Bytes += pf.cw.n
		st.Partitions = append(st.Partitions, pf.name)
	}
	covered := pw.covered()
	keys := make([]arrow.Date32, 0, len(covered))
	for k := range covered {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	for _, k := range keys {
		if _, written := pw.parts[k]; written {
			continue
		}
		name := covered[k]
		ok, err := pw.sink.st.Exists(ctx, name)
		if err != nil {
			return st, err
		}
		if ok {
			if err := pw.sink.st.Remove(ctx, name); err != nil {
				return st, err
			}
			st.Removed++
		}
	}
	// Staging files left in these partitions by a process that died (an
	// OOM kill, SIGKILL) are garbage now: one run writes a window at a time.
	if cl, ok := pw.sink.st.(interface{ CleanStaging(dir string) error }); ok {
		for _, k := range keys {
			if err := cl.CleanStaging(path.Dir(covered[k])); err != nil {
				pw.sink.log.Warn("cleaning stale staging files", "error", err)
			}
		}
	}
	st.Rows = pw.rows
	return st, nil
}

// Abort discards every staged file.
func (pw *parquetWindow) Abort() error {
	pw.closed = true
	var errs []error
	for _, pf := range pw.parts {
		pw.release(pf)
		_ = pf.fw.Close() // frees encoder memory; the bytes go nowhere visible
		errs = append(errs, pf.staged.Abort())
	}
	pw.parts = map[arrow.Date32]*partFile{}
	return errors.Join(errs...)
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
