package connector

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/salesnav-etl/salesnav-etl/load"
	"github.com/salesnav-etl/salesnav-etl/pipeline"
	"github.com/salesnav-etl/salesnav-etl/schema"
)

// Framing is how a protocol wraps one record's data object into a
// message: the bytes before and after it (the line's newline excluded).
type Framing interface {
	Record(stream string, emittedAt time.Time) (prefix, suffix []byte)
}

// Hooks let a protocol follow a sync. Either may be nil.
type Hooks struct {
	// Reading is called once per stream, when it starts reading data: its
	// first window opens, or its dimension is loaded.
	Reading func(stream string)
	// DimensionLoaded is called once a dimension's rows (contracts) are
	// all written: such a stream has no cursor, so no state change
	// follows them otherwise.
	DimensionLoaded func(stream string) error
}

// SinkConfig configures a Sink.
type SinkConfig struct {
	Out   *Output
	Frame Framing
	Hooks Hooks
	// TempDir holds the spooled rows of the windows being read ("": the
	// system's temporary directory).
	TempDir string
	// Now stamps the records (emitted_at, time_extracted).
	Now func() time.Time
}

// Sink is a load.Sink whose windows write their rows as record messages
// to an Output. A window's rows are spooled to a temporary file while it
// is read and written out at Commit, whole, before Commit returns: the
// pipeline saves the window's cursor (State emits it) only after that. A
// window aborted (a short download, too many rejected rows, a download
// tried again) writes nothing: no record comes out twice within a sync,
// and none that its state then skips.
//
// Dimensions (contracts, profile associations) are written as they are
// loaded. Of the per-export streams (CRM validation) the Sink remembers
// the CRM record ids it wrote, so that the profile associations of the
// same sync look them up (load.ExportReader); it remembers no earlier
// sync's (load.KeyReader finds nothing: every key is looked up).
type Sink struct {
	cfg     SinkConfig
	mu      sync.Mutex
	reading map[string]bool
	exports map[string][]exportRecords
}

// exportRecords are the record ids of one committed export.
type exportRecords struct {
	owner       string
	start, next int64
	ids         []string
}

var (
	_ load.Sink          = (*Sink)(nil)
	_ load.DimensionSink = (*Sink)(nil)
	_ load.MergeSink     = (*Sink)(nil)
	_ load.ExportReader  = (*Sink)(nil)
	_ load.KeyReader     = (*Sink)(nil)
)

// NewSink returns a Sink.
func NewSink(cfg SinkConfig) *Sink {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Sink{cfg: cfg, reading: map[string]bool{}, exports: map[string][]exportRecords{}}
}

// Close releases nothing: windows clean up after themselves.
func (s *Sink) Close() error { return nil }

func (s *Sink) startReading(stream string) {
	s.mu.Lock()
	first := !s.reading[stream]
	s.reading[stream] = true
	s.mu.Unlock()
	if first && s.cfg.Hooks.Reading != nil {
		s.cfg.Hooks.Reading(stream)
	}
}

// ReplaceDimension writes rec's rows, then tells Hooks.DimensionLoaded.
func (s *Sink) ReplaceDimension(_ context.Context, st *schema.Stream, rec arrow.RecordBatch) (load.Stats, error) {
	stats, err := s.writeNow(st, rec)
	if err != nil {
		return stats, err
	}
	if s.cfg.Hooks.DimensionLoaded != nil {
		if err := s.cfg.Hooks.DimensionLoaded(st.Name); err != nil {
			return stats, err
		}
	}
	return stats, nil
}

// MergeDimension writes rec's rows (profile associations: their state,
// the CRM exports looked up, follows when the lookups are all merged).
func (s *Sink) MergeDimension(_ context.Context, st *schema.Stream, rec arrow.RecordBatch) (load.Stats, error) {
	return s.writeNow(st, rec)
}

// writeNow writes the rows of one batch, whole, at once.
func (s *Sink) writeNow(st *schema.Stream, rec arrow.RecordBatch) (load.Stats, error) {
	s.startReading(st.Name)
	rows, err := NewRows(st, rec)
	if err != nil {
		return load.Stats{}, err
	}
	prefix, suffix := s.cfg.Frame.Record(st.Name, s.cfg.Now())
	var buf []byte
	for i := range rows.Len() {
		buf = append(buf, prefix...)
		buf = rows.Append(buf, i)
		buf = append(buf, suffix...)
		buf = append(buf, '\n')
	}
	if len(buf) > 0 {
		if _, err := s.cfg.Out.CopyLines(bytesReader(buf)); err != nil {
			return load.Stats{}, fmt.Errorf("writing %s: %w", st.Name, err)
		}
	}
	return load.Stats{Rows: int64(rows.Len()), Bytes: int64(len(buf))}, nil
}

// remember keeps the record ids of a committed export.
func (s *Sink) remember(stream string, e exportRecords) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.exports[stream] = append(s.exports[stream], e)
}

// DistinctAfter returns, of the exports of stream committed in this sync
// that end after after[owner], the distinct tuples of cols among
// schema.LineageCRMInstance, schema.LineageExportStartAt,
// schema.LineageNextExportStartAt and schema.CRMRecordIDColumn (any other
// column reads as ""), sorted.
func (s *Sink) DistinctAfter(_ context.Context, stream string, cols []string, after map[string]int64) ([][]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	seen := map[string]bool{}
	var out [][]string
	for _, e := range s.exports[stream] {
		if mark, ok := after[e.owner]; ok && e.next <= mark {
			continue
		}
		for _, id := range e.ids {
			row := make([]string, len(cols))
			for i, c := range cols {
				switch c {
				case schema.LineageCRMInstance:
					row[i] = e.owner
				case schema.LineageExportStartAt:
					row[i] = strconv.FormatInt(e.start, 10)
				case schema.LineageNextExportStartAt:
					row[i] = strconv.FormatInt(e.next, 10)
				case schema.CRMRecordIDColumn:
					row[i] = id
				}
			}
			k := fmt.Sprintf("%q", row)
			if !seen[k] {
				seen[k] = true
				out = append(out, row)
			}
		}
	}
	slices.SortFunc(out, func(a, b []string) int { return slices.Compare(a, b) })
	return out, nil
}

// Latest finds nothing: a sync knows no earlier sync's lookups.
func (s *Sink) Latest(context.Context, *schema.Stream, []string, load.RowFilter) ([][]string, error) {
	return nil, nil
}

// RunFunc runs the pipeline over a sync's streams, loading into sink and
// keeping cursors in state (the command line builds it: the API client,
// the run's configuration).
type RunFunc func(ctx context.Context, sink load.Sink, state load.StateStore) (*pipeline.Summary, error)
