package connector

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"sort"
	"sync"
	"time"

	"github.com/salesnav-etl/salesnav-etl/load"
)

// StateVersion is the version of StreamState this connector writes and
// reads.
const StateVersion = 1

// StreamState is the state of one stream as the protocols carry it (an
// Airbyte per-stream state's stream_state, a Singer state's bookmark):
// the same cursors and jobs in flight a state file keeps, by contract (or
// CRM instance, or, for profile associations, the CRM instance whose
// exports were looked up).
type StreamState struct {
	Version int `json:"version"`
	// Cursors are the next day to load (YYYY-MM-DD) or, for CRM
	// validation, the next export's start (RFC 3339, milliseconds).
	Cursors map[string]string `json:"cursors"`
	// Jobs are the export jobs created and not loaded yet: a sync that
	// stopped while one was polled resumes it instead of creating another.
	Jobs map[string]load.Job `json:"jobs,omitempty"`
}

// ParseStreamState reads the state of stream, refusing one that is not
// this connector's: another version, a cursor that is not a date or an
// RFC 3339 time, a job without an id.
func ParseStreamState(stream string, raw json.RawMessage) (StreamState, error) {
	var st StreamState
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&st); err != nil {
		return st, fmt.Errorf("%w: stream %s: %v", ErrBadState, stream, err)
	}
	if st.Version != StateVersion {
		return st, fmt.Errorf("%w: stream %s: version %d, want %d", ErrBadState, stream, st.Version, StateVersion)
	}
	for owner, c := range st.Cursors {
		if _, err := load.ParseCursor(c); err != nil {
			return st, fmt.Errorf("%w: stream %s: cursor of %s: %q is not a date or an RFC 3339 time", ErrBadState, stream, owner, c)
		}
	}
	for owner, j := range st.Jobs {
		if j.ID == 0 {
			return st, fmt.Errorf("%w: stream %s: job in flight of %s has no id", ErrBadState, stream, owner)
		}
	}
	return st, nil
}

// State is a load.StateStore kept in memory for one sync: it starts from
// the state the protocol passed back and, after each change, emits the
// changed stream's state. A window's cursor is saved (so emitted) only
// after its rows are out (Sink.Commit), so a state message never covers a
// record not yet written. Emission happens under the store's lock, in the
// order of the changes; a state equal to the last one emitted for its
// stream is not emitted again.
type State struct {
	mu      sync.Mutex
	streams map[string]*StreamState
	emit    EmitState
	last    map[string][]byte
	now     func() time.Time
	updated map[[2]string]time.Time
}

// EmitState writes a state message: the state of stream, which changed,
// and of every stream (Singer's state value is the whole of it). An error
// fails the change.
type EmitState func(stream string, st StreamState, all map[string]StreamState) error

var _ load.StateStore = (*State)(nil)

// NewState starts from initial (the streams' states passed back; a
// stream read from scratch has none) and emits each change through emit.
func NewState(initial map[string]StreamState, emit EmitState, now func() time.Time) *State {
	s := &State{streams: map[string]*StreamState{}, emit: emit, last: map[string][]byte{}, now: now, updated: map[[2]string]time.Time{}}
	for name, st := range initial {
		c := StreamState{Version: StateVersion, Cursors: maps.Clone(st.Cursors), Jobs: maps.Clone(st.Jobs)}
		s.streams[name] = &c
	}
	return s
}

func (s *State) stream(name string) *StreamState {
	st := s.streams[name]
	if st == nil {
		st = &StreamState{Version: StateVersion}
		s.streams[name] = st
	}
	return st
}

// Cursor returns the cursor of (stream, contract).
func (s *State) Cursor(_ context.Context, stream, contract string) (time.Time, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.streams[stream].cursors()[contract]
	if !ok {
		return time.Time{}, false, nil
	}
	t, err := load.ParseCursor(c)
	return t, err == nil, err
}

func (st *StreamState) cursors() map[string]string {
	if st == nil {
		return nil
	}
	return st.Cursors
}

// SetCursor sets the cursor of (stream, contract) and emits the stream's
// state.
func (s *State) SetCursor(_ context.Context, stream, contract string, cursor time.Time) error {
	if err := load.CheckCursor(cursor); err != nil {
		return fmt.Errorf("saving cursor of %s/%s: %w", stream, contract, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stream(stream)
	if st.Cursors == nil {
		st.Cursors = map[string]string{}
	}
	st.Cursors[contract] = load.FormatCursor(cursor)
	s.updated[[2]string{stream, contract}] = s.now().UTC()
	return s.changed(stream)
}

// InFlight returns the job in flight of (stream, contract).
func (s *State) InFlight(_ context.Context, stream, contract string) (*load.Job, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.streams[stream]
	if st == nil {
		return nil, nil
	}
	if j, ok := st.Jobs[contract]; ok {
		return &j, nil
	}
	return nil, nil
}

// SetInFlight records a created job and emits the stream's state.
func (s *State) SetInFlight(_ context.Context, job load.Job) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stream(job.Stream)
	if st.Jobs == nil {
		st.Jobs = map[string]load.Job{}
	}
	st.Jobs[job.Contract] = job
	return s.changed(job.Stream)
}

// ClearInFlight forgets the job in flight of (stream, contract) and, when
// there was one, emits the stream's state.
func (s *State) ClearInFlight(_ context.Context, stream, contract string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.streams[stream]
	if st == nil {
		return nil
	}
	if _, ok := st.Jobs[contract]; !ok {
		return nil
	}
	delete(st.Jobs, contract)
	return s.changed(stream)
}

// List returns every cursor and job in flight, sorted.
func (s *State) List(context.Context) ([]load.Entry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	idx := map[[2]string]*load.Entry{}
	get := func(stream, contract string) *load.Entry {
		k := [2]string{stream, contract}
		if e, ok := idx[k]; ok {
			return e
		}
		e := &load.Entry{Stream: stream, Contract: contract, UpdatedAt: s.updated[k]}
		idx[k] = e
		return e
	}
	for name, st := range s.streams {
		for c, v := range st.Cursors {
			t, err := load.ParseCursor(v)
			if err != nil {
				return nil, fmt.Errorf("reading cursor of %s/%s: %w", name, c, err)
			}
			get(name, c).Cursor = &t
		}
		for c, j := range st.Jobs {
			get(name, c).Job = &j
		}
	}
	out := make([]load.Entry, 0, len(idx))
	for _, e := range idx {
		out = append(out, *e)
	}
	load.SortEntries(out)
	return out, nil
}

// Reset forgets the cursors and jobs of stream for contract ("" for all)
// and emits the stream's state when something was forgotten.
func (s *State) Reset(_ context.Context, stream, contract string) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.streams[stream]
	if st == nil {
		return 0, nil
	}
	forgot := map[string]bool{}
	for c := range st.Cursors {
		if contract == "" || c == contract {
			delete(st.Cursors, c)
			forgot[c] = true
		}
	}
	for c := range st.Jobs {
		if contract == "" || c == contract {
			delete(st.Jobs, c)
			forgot[c] = true
		}
	}
	if len(forgot) == 0 {
		return 0, nil
	}
	return len(forgot), s.changed(stream)
}

// Emit emits the state of each of streams that has not been emitted in
// this sync (Airbyte asks for a state of every stream read, even one with
// no records): its state as it is, maybe as passed back.
func (s *State) Emit(streams ...string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, name := range streams {
		if _, sent := s.last[name]; sent {
			continue
		}
		s.stream(name)
		if err := s.changed(name); err != nil {
			return err
		}
	}
	return nil
}

// Snapshot returns every stream's state.
func (s *State) Snapshot() map[string]StreamState {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.snapshot()
}

func (s *State) snapshot() map[string]StreamState {
	out := make(map[string]StreamState, len(s.streams))
	for name, st := range s.streams {
		out[name] = st.clone()
	}
	return out
}

func (st *StreamState) clone() StreamState {
	c := StreamState{Version: StateVersion, Cursors: maps.Clone(st.Cursors), Jobs: maps.Clone(st.Jobs)}
	if c.Cursors == nil {
		c.Cursors = map[string]string{}
	}
	return c
}

// changed emits the state of stream unless it is the one last emitted.
// The caller holds s.mu.
func (s *State) changed(stream string) error {
	st := s.streams[stream].clone()
	raw, err := json.Marshal(st)
	if err != nil {
		return err
	}
	if prev, ok := s.last[stream]; ok && bytes.Equal(prev, raw) {
		return nil
	}
	if err := s.emit(stream, st, s.snapshot()); err != nil {
		return fmt.Errorf("emitting the state of %s: %w", stream, err)
	}
	s.last[stream] = raw
	return nil
}

// StreamNames returns the names of the streams of a state, sorted.
func StreamNames(states map[string]StreamState) []string {
	out := make([]string, 0, len(states))
	for n := range states {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
