package parquet

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/salesnav-etl/salesnav-etl/load"
	"github.com/salesnav-etl/salesnav-etl/load/storage"
	"github.com/salesnav-etl/salesnav-etl/schema"
)

// Defaults of Config.
const (
	DefaultRowGroupRows = 256 * 1024
	// DataFileName is the one file of each partition. Replacing it is an
	// atomic rename, so a reader never sees two generations of a partition.
	DataFileName = "data.parquet"
)

// Config configures a Sink.
type Config struct {
	// Dir is the dataset root on local disk; ignored when Storage is set.
	Dir string
	// Storage overrides Dir.
	Storage storage.Storage
	// RowGroupRows caps rows per row group (default DefaultRowGroupRows).
	// At most twice as many rows wait in memory for their row group,
	// however large the window.
	RowGroupRows int
	// Allocator is used by the Parquet encoder (default Go's).
	Allocator memory.Allocator
	Logger    *slog.Logger
}

// Validate reports every problem of c.
func (c Config) Validate() error {
	var errs []error
	if c.Dir == "" && c.Storage == nil {
		errs = append(errs, errors.New("parquet directory is empty"))
	}
	if c.RowGroupRows < 0 {
		errs = append(errs, fmt.Errorf("row group rows %d is negative", c.RowGroupRows))
	}
	return errors.Join(errs...)
}

// Sink writes a Hive-partitioned Parquet dataset (zstd):
//
//	<dir>/<stream>/contract=<id>/date=YYYY-MM-DD/data.parquet
//
// where date is the record's own UTC date (event streams) or the snapshot
// date (snapshot streams). Each partition is one file, staged under a name
// no *.parquet glob matches and renamed into place on Commit.
type Sink struct {
	cfg   Config
	st    storage.Storage
	props *parquet.WriterProperties
	aprop pqarrow.ArrowWriterProperties
	log   *slog.Logger
	owned io.Closer // storage opened by Open
}

var (
	_ load.Sink          = (*Sink)(nil)
	_ load.DimensionSink = (*Sink)(nil)
)

// NewSink returns a sink for cfg.
func NewSink(cfg Config) (*Sink, error) {
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
		ds, err := storage.NewDirStorage(cfg.Dir)
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
	p := &Sink{cfg: cfg, st: st, aprop: aprop, log: log}
	p.props = parquet.NewWriterProperties(p.baseProps()...)
	return p, nil
}

// Open returns a sink writing to cfg.Dir, a local directory or
// an object-storage URL (s3://bucket/prefix, gs://, azblob://; see
// OpenBlobStorage), unless cfg.Storage is set. Close releases the bucket.
func Open(ctx context.Context, cfg Config, opts storage.BlobOptions) (*Sink, error) {
	if cfg.Storage == nil && storage.IsURL(cfg.Dir) {
		st, err := storage.OpenBlobStorage(ctx, cfg.Dir, opts)
		if err != nil {
			return nil, err
		}
		cfg.Storage = st
		p, err := NewSink(cfg)
		if err != nil {
			st.Close()
			return nil, err
		}
		p.owned = st
		return p, nil
	}
	return NewSink(cfg)
}

// baseProps are the writer properties of every file: zstd, dictionaries,
// statistics, row groups of RowGroupRows.
//
// Measured on the multi-day bench shape (docs/performance.md): zstd at
// level 1 (klauspost's SpeedFastest) took 15% less CPU than the codec's
// default and wrote smaller files; a dictionary page limit of 64 KiB
// (instead of 1 MiB) lets a column of mostly distinct values give up its
// dictionary after a few thousand values instead of hashing 40,000 of them
// in every row group, while a column of few values (an enum, a seat, the
// contract) keeps its dictionary.
func (p *Sink) baseProps() []parquet.WriterProperty {
	return []parquet.WriterProperty{
		parquet.WithCompression(compress.Codecs.Zstd),
		parquet.WithCompressionLevel(zstdLevel),
		parquet.WithDictionaryDefault(true),
		parquet.WithDictionaryPageSizeLimit(dictionaryPageLimit),
		parquet.WithStats(true),
		parquet.WithMaxRowGroupLength(int64(p.cfg.RowGroupRows)),
		parquet.WithAllocator(p.cfg.Allocator),
		parquet.WithCreatedBy("salesnav-etl"),
	}
}

// WriterProperties are the Parquet writer properties of the stream's files.
func (p *Sink) WriterProperties(st *schema.Stream) *parquet.WriterProperties {
	if opts := p.columnProps(st); len(opts) > 0 {
		return parquet.NewWriterProperties(append(p.baseProps(), opts...)...)
	}
	return p.props
}

// zstdLevel and dictionaryPageLimit: see baseProps.
const (
	zstdLevel           = 1
	dictionaryPageLimit = 64 << 10
)

// columnProps turns dictionary encoding off for the stream's columns of
// distinct values, and statistics off where they prune nothing:
//   - free-text and identifier columns (strings that are not enums):
//     random ids, member URNs; computing their minimum and maximum costs a
//     few percent of the CPU;
//   - enums and the lineage, which the pipeline sends as dictionary
//     arrays: pqarrow finds their minimum and maximum by hashing every
//     row's index (12% of a multi-day run's CPU), for columns that hold
//     every value of the enum in each file, or one value (the lineage,
//     whose contract is the partition's path too).
//
// Times and numbers (createdAt, seatId) keep theirs: they prune reads.
func (p *Sink) columnProps(st *schema.Stream) []parquet.WriterProperty {
	var out []parquet.WriterProperty
	for _, c := range st.Columns {
		if c.Distinct {
			out = append(out, parquet.WithDictionaryFor(c.Name, false))
		}
		if c.Kind == schema.String || c.Kind == schema.Enum {
			out = append(out, parquet.WithStatsFor(c.Name, false))
		}
	}
	for _, f := range st.LineageFields() {
		out = append(out, parquet.WithStatsFor(f.Name, false))
	}
	return out
}

// Storage returns the sink's storage.
func (p *Sink) Storage() storage.Storage { return p.st }

// Close releases storage that Open opened; every window closes
// its own files.
func (p *Sink) Close() error {
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
func (p *Sink) OpenWindow(_ context.Context, w load.Window, s *arrow.Schema) (load.WindowWriter, error) {
	if w.PartitionID == "" || strings.ContainsAny(w.PartitionID, `/\.`) {
		return nil, fmt.Errorf("opening window: bad partition id %q", w.PartitionID)
	}
	fs, aprop := fileSchema(s, p.cfg.Allocator)
	pw := &parquetWindow{sink: p, w: w, schema: fs, aprop: aprop, partCol: -1, parts: map[arrow.Date32]*partFile{}, props: p.WriterProperties(w.Stream)}
	if w.Stream.DayColumn != "" {
		idx := s.FieldIndices(w.Stream.DayColumn)
		if len(idx) != 1 {
			return nil, fmt.Errorf("opening window: schema has no partition column %q", w.Stream.DayColumn)
		}
		pw.partCol = idx[0]
	}
	pw.startDay = arrow.Date32FromTime(w.Start)
	pw.endDay = arrow.Date32FromTime(w.End)
	return pw, nil
}

// DimensionName is the file of a dimension: <dir>/<name>/data.parquet.
func DimensionName(name string) string { return name + "/" + DataFileName }

// ReplaceDimension writes rec as the dimension's one file, atomically.
func (p *Sink) ReplaceDimension(ctx context.Context, st *schema.Stream, rec arrow.RecordBatch) (load.Stats, error) {
	return p.writeWhole(ctx, DimensionName(st.Name), rec.Schema(), rec.NumRows(), func(fw *pqarrow.FileWriter) error { return fw.Write(rec) })
}

// writeWhole stages the file name with schema sc, lets fill write its
// rows, and publishes it, atomically; on any error nothing is published.
// The stats count rows.
func (p *Sink) writeWhole(ctx context.Context, name string, sc *arrow.Schema, rows int64, fill func(*pqarrow.FileWriter) error) (load.Stats, error) {
	staged, err := p.st.Create(ctx, name)
	if err != nil {
		return load.Stats{}, err
	}
	cw := &countingWriter{w: staged}
	bw := bufio.NewWriter(cw)
	fw, err := pqarrow.NewFileWriter(sc, bw, p.props, p.aprop)
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
		return load.Stats{}, fmt.Errorf("writing %s: %w", name, err)
	}
	if err := staged.Commit(ctx); err != nil {
		return load.Stats{}, err
	}
	return load.Stats{Rows: rows, Files: 1, Bytes: cw.n, Partitions: []string{name}}, nil
}
