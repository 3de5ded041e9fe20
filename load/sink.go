// Package load writes typed record batches to a destination and keeps the
// connector's state.
//
// A Sink loads one window at a time. The unit of replacement is the
// partition (stream, contract, date): committing a window replaces every
// date partition it covers, so overlapping windows (re-runs, lookbacks,
// backfills) never leave a duplicate row, and a window that is aborted
// leaves the previous data as it was.
package load

import (
	"context"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/salesnav-etl/salesnav-etl/schema"
)

// Window is one extraction window of one stream and contract.
type Window struct {
	Stream *schema.Stream
	// Contract is the contract URN, or the CRM instance URN of a
	// per-export stream.
	Contract string
	// PartitionID is the contract's directory-safe id (see PartitionID).
	PartitionID string
	// Start and End are whole UTC days; Start inclusive, End exclusive.
	// For a per-export stream they are the export's exportStartAt and
	// nextExportStartAt, to the millisecond: the window is one partition,
	// keyed by Start.
	Start, End time.Time
	JobID      int64
}

// SnapshotDate is the date of a snapshot stream's rows for this window: its
// last day.
func (w Window) SnapshotDate() time.Time { return w.End.AddDate(0, 0, -1) }

// Dates returns the partition dates the window covers: each day of
// [Start, End) for event streams, the snapshot date for snapshot streams.
func (w Window) Dates() []time.Time {
	if w.Stream.PerExport() {
		return nil
	}
	if w.Stream.Snapshot() {
		return []time.Time{w.SnapshotDate()}
	}
	var out []time.Time
	for d := w.Start; d.Before(w.End); d = d.AddDate(0, 0, 1) {
		out = append(out, d)
	}
	return out
}

// Stats describes what a committed window wrote.
type Stats struct {
	Rows       int64
	Files      int // files (or partitions) written
	Removed    int // partitions emptied because the window had no rows there
	Bytes      int64
	Partitions []string
}

// Sink is a destination for windows of record batches.
type Sink interface {
	// OpenWindow starts loading w; every batch written must have schema s.
	// The caller must Commit or Abort the WindowWriter.
	OpenWindow(ctx context.Context, w Window, s *arrow.Schema) (WindowWriter, error)
	// Close releases the sink.
	Close() error
}

// DimensionSink is a Sink that also keeps dimension tables (contracts),
// replaced whole on each load.
type DimensionSink interface {
	// ReplaceDimension makes rec the dimension's content: readers see the
	// old rows or the new, never a mix (Parquet), or the newest version of
	// each key (ClickHouse). The caller still owns rec.
	ReplaceDimension(ctx context.Context, st *schema.Stream, rec arrow.RecordBatch) (Stats, error)
}

// MergeSink is a Sink that also keeps dimensions merged by key
// (schema.MergeByKey): profile associations.
type MergeSink interface {
	// MergeDimension adds rec's rows to the dimension: a row whose key is
	// already there replaces it, other rows stay. Readers see the
	// dimension before or after, never half. The caller still owns rec.
	MergeDimension(ctx context.Context, st *schema.Stream, rec arrow.RecordBatch) (Stats, error)
}

// Reader reads loaded data back.
type Reader interface {
	// Distinct returns the distinct tuples of the columns cols among the
	// rows of stream readers see, as text (null reads as ""), sorted. Files
	// or tables without one of the columns add nothing; a stream never
	// loaded gives none.
	Distinct(ctx context.Context, stream string, cols []string) ([][]string, error)
}

// ExportReader reads a per-export stream (schema.PerExportJob) by export,
// so that a reader can take only the exports loaded since it last read.
type ExportReader interface {
	// DistinctAfter is Distinct over the rows of the exports of stream
	// that end after after[owner]: whose schema.LineageNextExportStartAt
	// (epoch ms) is greater, owner being the row's
	// schema.LineageCRMInstance. Every export of an owner missing from
	// after counts. An export ends later when it is extracted again from
	// the same start (it then runs to a later now), so such an export is
	// read again. The Parquet sink finds the exports by their start (the
	// path) and looks past after[owner] only at the latest export that
	// starts before it: an export replaced further back, by a run after
	// `state reset` of the stream, needs the reader's watermark reset too.
	DistinctAfter(ctx context.Context, stream string, cols []string, after map[string]int64) ([][]string, error)
}

// KeyReader reads a merged dimension (schema.MergeByKey) as readers see
// it: the newest row of each key.
type KeyReader interface {
	// Latest returns the columns cols, as text (as Distinct), of the
	// newest row of each key that f picks, sorted. A stream never loaded
	// gives none.
	Latest(ctx context.Context, st *schema.Stream, cols []string, f RowFilter) ([][]string, error)
}

// RowFilter picks rows of a merged dimension: those whose key (the values
// of the stream's Key columns, as text, in order) is one of Keys, and,
// when Column is set, those whose Column holds none of Except.
type RowFilter struct {
	Keys   [][]string
	Column string
	Except []string
}

// WindowWriter receives the batches of one window.
type WindowWriter interface {
	// Write adds a batch. The writer does not keep rec after it returns;
	// the caller still owns and releases it.
	Write(ctx context.Context, rec arrow.RecordBatch) error
	// Commit makes the window visible, replacing every partition it covers.
	// Readers see each partition either as before or as after, never half.
	Commit(ctx context.Context) (Stats, error)
	// Abort discards the window; previous data stays. Safe after Commit.
	Abort() error
}

// Abilities are what a sink can do besides loading windows, found once,
// when the sink is given to a run: each is nil when the sink lacks it.
type Abilities struct {
	Dimensions DimensionSink
	Merge      MergeSink
	Reader     Reader
	Exports    ExportReader
	Keys       KeyReader
}

// AbilitiesOf finds s's abilities.
func AbilitiesOf(s Sink) Abilities {
	var a Abilities
	a.Dimensions, _ = s.(DimensionSink)
	a.Merge, _ = s.(MergeSink)
	a.Reader, _ = s.(Reader)
	a.Exports, _ = s.(ExportReader)
	a.Keys, _ = s.(KeyReader)
	return a
}
