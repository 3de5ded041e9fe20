package load

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/salesnav-etl/salesnav-etl/schema"
)

// Defaults of ParquetConfig.
const (
	DefaultRowGroupRows = 256 * 1024
	// DataFileName is the one file of each partition. Replacing it is an
	// atomic rename, so a reader never sees two generations of a partition.
	DataFileName = "data.parquet"
)

// ParquetConfig configures a ParquetSink.
type ParquetConfig struct {
	// Dir is the dataset root on local disk; ignored when Storage is set.
	Dir string
	// Storage overrides Dir.
	Storage Storage
	// RowGroupRows caps rows per row group (default DefaultRowGroupRows).
	// At most twice as many rows wait in memory for their row group,
	// however large the window.
	RowGroupRows int
	// Allocator is used by the Parquet encoder (default Go's).
	Allocator memory.Allocator
	Logger    *slog.Logger
}

// Validate reports every problem of c.
func (c ParquetConfig) Validate() error {
	var errs []error
	if c.Dir == "" && c.Storage == nil {
		errs = append(errs, errors.New("parquet directory is empty"))
	}
	if c.RowGroupRows < 0 {
		errs = append(errs, fmt.Errorf("row group rows %d is negative", c.RowGroupRows))
	}
	return errors.Join(errs...)
}

// ParquetSink writes a Hive-partitioned Parquet dataset (zstd):
//
//	<dir>/<stream>/contract=<id>/date=YYYY-MM-DD/data.parquet
//
// where date is the record's own UTC date (event streams) or the snapshot
// date (snapshot streams). Each partition is one file, staged under a name
// no *.parquet glob matches and renamed into place on Commit.
type ParquetSink struct {
	cfg   ParquetConfig
	st    Storage
	props *parquet.WriterProperties
	aprop pqarrow.ArrowWriterProperties
	log   *slog.Logger
	owned io.Closer // storage opened by OpenParquetSink
}

var (
	_ Sink          = (*ParquetSink)(nil)
	_ DimensionSink = (*ParquetSink)(nil)
)

// NewParquetSink returns a sink for cfg.
func NewParquetSink(cfg ParquetConfig) (*ParquetSink, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("configuring parquet sink: %w", err)
	}
	if cfg.RowGroupRows == 0 {
		cfg.RowGroupRows = DefaultRowGroupRows
	}
	if cfg.Allocator == nil {
		cfg.Allocator = memory.DefaultAllocator
	}
	st := cfg.Storage
	if st == nil {
		ds, err := NewDirStorage(cfg.Dir)
		if err != nil {
			return nil, err
		}
		st = ds
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	aprop := pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema(), pqarrow.WithAllocator(cfg.Allocator))
	p := &ParquetSink{cfg: cfg, st: st, aprop: aprop, log: log}
	p.props = parquet.NewWriterProperties(p.baseProps()...)
	return p, nil
}

// OpenParquetSink returns a sink writing to cfg.Dir, a local directory or
// an object-storage URL (s3://bucket/prefix, gs://, azblob://; see
// OpenBlobStorage), unless cfg.Storage is set. Close releases the bucket.
func OpenParquetSink(ctx context.Context, cfg ParquetConfig, opts BlobOptions) (*ParquetSink, error) {
	if cfg.Storage == nil && IsURL(cfg.Dir) {
		st, err := OpenBlobStorage(ctx, cfg.Dir, opts)
		if err != nil {
			return nil, err
		}
		cfg.Storage = st
		p, err := NewParquetSink(cfg)
		if err != nil {
			st.Close()
			return nil, err
		}
		p.owned = st
		return p, nil
	}
	return NewParquetSink(cfg)
}

// baseProps are the writer properties of every file: zstd, dictionaries,
// statistics, row groups of RowGroupRows.
func (p *ParquetSink) baseProps() []parquet.WriterProperty {
	return []parquet.WriterProperty{
		parquet.WithCompression(compress.Codecs.Zstd),
		parquet.WithDictionaryDefault(true),
		parquet.WithStats(true),
		parquet.WithMaxRowGroupLength(int64(p.cfg.RowGroupRows)),
		parquet.WithAllocator(p.cfg.Allocator),
		parquet.WithCreatedBy("salesnav-etl"),
	}
}

// dictionaryOff turns dictionary encoding off for the stream's columns of
// distinct values.
func (p *ParquetSink) dictionaryOff(st *schema.Stream) []parquet.WriterProperty {
	var out []parquet.WriterProperty
	for _, c := range st.Columns {
		if c.Distinct {
			out = append(out, parquet.WithDictionaryFor(c.Name, false))
		}
	}
	return out
}

// Storage returns the sink's storage.
func (p *ParquetSink) Storage() Storage { return p.st }

// Close releases storage that OpenParquetSink opened; every window closes
// its own files.
func (p *ParquetSink) Close() error {
	if p.owned != nil {
		return p.owned.Close()
	}
	return nil
}

// PartitionName is the file name of one partition.
func PartitionName(stream, partitionID string, date time.Time) string {
	return fmt.Sprintf("%s/contract=%s/date=%s/%s", stream, partitionID, date.UTC().Format(time.DateOnly), DataFileName)
}

// ExportPartitionName is the file of one export of a per-export stream:
// <stream>/crm_instance=<id>/export_start_at=<epoch ms>/data.parquet.
func ExportPartitionName(stream, partitionID string, start time.Time) string {
	return fmt.Sprintf("%s/%s=%s/%s=%d/%s", stream, schema.ExportPartitionKeys[0], partitionID,
		schema.ExportPartitionKeys[1], start.UnixMilli(), DataFileName)
}

// OpenWindow starts a window.
func (p *ParquetSink) OpenWindow(_ context.Context, w Window, s *arrow.Schema) (WindowWriter, error) {
	if w.PartitionID == "" || strings.ContainsAny(w.PartitionID, `/\.`) {
		return nil, fmt.Errorf("opening window: bad partition id %q", w.PartitionID)
	}
	pw := &parquetWindow{sink: p, w: w, schema: s, partCol: -1, parts: map[arrow.Date32]*partFile{}, props: p.props}
	if opts := p.dictionaryOff(w.Stream); len(opts) > 0 {
		pw.props = parquet.NewWriterProperties(append(p.baseProps(), opts...)...)
	}
	if w.Stream.PartitionColumn != "" {
		idx := s.FieldIndices(w.Stream.PartitionColumn)
		if len(idx) != 1 {
			return nil, fmt.Errorf("opening window: schema has no partition column %q", w.Stream.PartitionColumn)
		}
		pw.partCol = idx[0]
	}
	pw.startDay = arrow.Date32FromTime(w.Start)
	pw.endDay = arrow.Date32FromTime(w.End)
	return pw, nil
}

type parquetWindow struct {
	sink             *ParquetSink
	w                Window
	props            *parquet.WriterProperties
	schema           *arrow.Schema
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
	staged      Staged
	cw          *countingWriter
	bw          *bufio.Writer
	fw          *pqarrow.FileWriter
	pending     []arrow.RecordBatch
	pendingRows int64
	touched     bool // by the batch being written
}

// partName is the file of a partition of the window.
func (pw *parquetWindow) partName(day arrow.Date32) string {
	if pw.w.Stream.PerExport {
		return ExportPartitionName(pw.w.Stream.Name, pw.w.PartitionID, pw.w.Start)
	}
	return PartitionName(pw.w.Stream.Name, pw.w.PartitionID, day.ToTime())
}

// covered returns every partition the window replaces, by key: a
// partition with no rows in the window is removed on Commit.
func (pw *parquetWindow) covered() map[arrow.Date32]string {
	out := map[arrow.Date32]string{}
	if pw.w.Stream.PerExport {
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
	fw, err := pqarrow.NewFileWriter(pw.schema, bw, pw.props, pw.sink.aprop)
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
		return ErrWindowClosed
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
		return fmt.Errorf("writing window: partition column %q is %s, not a timestamp", pw.w.Stream.PartitionColumn, rec.Column(pw.partCol).DataType())
	}
	vals := ts.TimestampValues()
	dayOf := func(i int) (arrow.Date32, error) {
		if ts.IsNull(i) {
			return 0, fmt.Errorf("writing window: row %d has a null %s", i, pw.w.Stream.PartitionColumn)
		}
		ms := int64(vals[i])
		d := ms / 86_400_000
		if ms%86_400_000 < 0 {
			d--
		}
		day := arrow.Date32(d)
		if day < pw.startDay || day >= pw.endDay {
			return 0, fmt.Errorf("writing window: %w: %s %s is not in [%s, %s)", ErrOutsideWindow, pw.w.Stream.PartitionColumn,
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
func (pw *parquetWindow) Commit(ctx context.Context) (Stats, error) {
	var st Stats
	if pw.closed {
		return st, ErrWindowClosed
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
		if err := pf.staged.Commit(); err != nil {
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

// DimensionName is the file of a dimension: <dir>/<name>/data.parquet.
func DimensionName(name string) string { return name + "/" + DataFileName }

// ReplaceDimension writes rec as the dimension's one file, atomically.
func (p *ParquetSink) ReplaceDimension(ctx context.Context, st *schema.Stream, rec arrow.RecordBatch) (Stats, error) {
	return p.writeWhole(ctx, DimensionName(st.Name), rec, func(fw *pqarrow.FileWriter) error { return fw.Write(rec) })
}

// writeWhole stages the file name with rec's schema, lets fill write its
// rows, and publishes it, atomically; on any error nothing is published.
// The stats count rec's rows.
func (p *ParquetSink) writeWhole(ctx context.Context, name string, rec arrow.RecordBatch, fill func(*pqarrow.FileWriter) error) (Stats, error) {
	staged, err := p.st.Create(ctx, name)
	if err != nil {
		return Stats{}, err
	}
	cw := &countingWriter{w: staged}
	bw := bufio.NewWriter(cw)
	fw, err := pqarrow.NewFileWriter(rec.Schema(), bw, p.props, p.aprop)
	if err == nil {
		err = fill(fw)
		if cerr := fw.Close(); err == nil { // frees encoder memory either way
			err = cerr
		}
	}
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		staged.Abort()
		return Stats{}, fmt.Errorf("writing %s: %w", name, err)
	}
	if err := staged.Commit(); err != nil {
		return Stats{}, err
	}
	return Stats{Rows: rec.NumRows(), Files: 1, Bytes: cw.n, Partitions: []string{name}}, nil
}
