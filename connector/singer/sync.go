package singer

import (
	"context"
	"log/slog"
	"maps"

	"github.com/salesnav-etl/salesnav-etl/connector"
	"github.com/salesnav-etl/salesnav-etl/pipeline"
)

// Sync is one sync of the tap: the selected streams, the state passed
// back, and where it writes.
type Sync struct {
	W       *Writer
	Streams []Selected
	// State is --state's (ParseState); FULL_TABLE streams ignore theirs.
	State map[string]connector.StreamState
	// TempDir holds the windows' spooled rows ("": the system's).
	TempDir string
	// Rejects, when set, counts the run's rejected rows once it is over.
	Rejects func() ([]connector.RejectCount, error)
	Log     *slog.Logger
}

// Run syncs: a SCHEMA message for each stream (with its key and bookmark
// properties) before any record; the run, whose committed windows come
// out as RECORD messages each followed by a STATE of the whole state; the
// rejected rows counted in the log (standard error), never sent; and a
// last STATE. It returns what run returned.
func (s *Sync) Run(ctx context.Context, run connector.RunFunc) (*pipeline.Summary, error) {
	log := s.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	// The bookmarks of streams not selected go on unchanged: the state is
	// the whole of the tap's.
	seed := maps.Clone(s.State)
	if seed == nil {
		seed = map[string]connector.StreamState{}
	}
	names := make([]string, len(s.Streams))
	for i, sel := range s.Streams {
		st := sel.Stream
		names[i] = st.Name
		if _, ok := s.State[st.Name]; ok && !sel.Incremental {
			delete(seed, st.Name)
			log.Info("FULL_TABLE: the stream's bookmark is set aside, reading from start_date", "stream", st.Name)
		}
		m := schemaMessage{Type: "SCHEMA", Stream: st.Name, Schema: connector.StreamSchema(st, connector.Singer), KeyProperties: connector.PrimaryKey(st)}
		if f := connector.CursorField(st); f != "" {
			m.BookmarkProperties = []string{f}
		}
		if err := s.W.Out.JSON(m); err != nil {
			return nil, err
		}
	}
	state := connector.NewState(seed, func(_ string, _ connector.StreamState, all map[string]connector.StreamState) error {
		return s.W.State(all)
	}, s.W.now)
	sink := connector.NewSink(connector.SinkConfig{Out: s.W.Out, Frame: s.W, TempDir: s.TempDir, Now: s.W.now,
		Hooks: connector.Hooks{DimensionLoaded: func(stream string) error { return state.Emit(stream) }}})
	sum, err := run(ctx, sink, state)
	if s.Rejects != nil {
		counts, cerr := s.Rejects()
		if cerr != nil {
			log.Warn("counting rejected rows", "error", cerr)
		}
		for _, n := range names {
			if line, rows := connector.RejectSummary(n, counts); rows > 0 {
				log.Warn(line)
			}
		}
	}
	if werr := s.W.State(state.Snapshot()); err == nil && werr != nil {
		err = werr
	}
	return sum, err
}
