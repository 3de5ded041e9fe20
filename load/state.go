package load

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/salesnav-etl/salesnav-etl/load/storage"
)

// StateStore keeps each (stream, contract)'s cursor — the exclusive end of
// the last window loaded, a whole UTC day (or, for CRM validation, the
// API's nextExportStartAt, to the millisecond), saved last, after the
// window's data is committed — and its export job in flight, saved as soon as the
// job is created so that a run after a crash resumes it instead of
// creating another.
type StateStore interface {
	// Cursor returns the saved cursor; ok is false when none is saved.
	Cursor(ctx context.Context, stream, contract string) (cursor time.Time, ok bool, err error)
	// SetCursor saves a cursor durably before it returns.
	SetCursor(ctx context.Context, stream, contract string, cursor time.Time) error
	// InFlight returns the job in flight for (stream, contract), nil when
	// there is none.
	InFlight(ctx context.Context, stream, contract string) (*Job, error)
	// SetInFlight records a created job, durably, before it is polled.
	SetInFlight(ctx context.Context, job Job) error
	// ClearInFlight forgets the job in flight of (stream, contract).
	ClearInFlight(ctx context.Context, stream, contract string) error
	// List returns every cursor and job in flight, sorted.
	List(ctx context.Context) ([]Entry, error)
	// Reset forgets the cursor and job of stream for contract, or for
	// every contract when contract is "". It returns how many
	// (stream, contract) pairs it reset.
	Reset(ctx context.Context, stream, contract string) (int, error)
}

// Job is an export job in flight: created, not yet loaded.
type Job struct {
	ID       int64  `json:"id"`
	Stream   string `json:"stream"`
	Contract string `json:"contract"`
	// Start and End are the window's whole days, End exclusive.
	Start     time.Time `json:"start"`
	End       time.Time `json:"end"`
	CreatedAt time.Time `json:"createdAt"`
}

// Entry is one (stream, contract) of the state.
type Entry struct {
	Stream    string     `json:"stream"`
	Contract  string     `json:"contract"`
	Cursor    *time.Time `json:"cursor,omitempty"`
	UpdatedAt time.Time  `json:"updatedAt,omitempty"`
	Job       *Job       `json:"job,omitempty"`
	// Problem says why the entry could not be read (it has no cursor and
	// no job then); state reset clears it.
	Problem string `json:"problem,omitempty"`
}

// SortEntries orders entries by stream, then contract.
func SortEntries(es []Entry) {
	sort.Slice(es, func(i, j int) bool {
		if es[i].Stream != es[j].Stream {
			return es[i].Stream < es[j].Stream
		}
		return es[i].Contract < es[j].Contract
	})
}

// CursorEntry is one saved cursor.
type CursorEntry struct {
	// Cursor is the next day to load (YYYY-MM-DD, UTC), or the next
	// export's start (RFC 3339, milliseconds).
	Cursor    string    `json:"cursor"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// stateDoc is the state file's content.
type stateDoc struct {
	Version int                               `json:"version"`
	Streams map[string]map[string]CursorEntry `json:"streams"`
	Jobs    map[string]map[string]Job         `json:"jobs,omitempty"`
}

const stateVersion = 1

// FileState is a StateStore in a JSON file, rewritten atomically (temporary
// file, fsync, rename) on every change. It is safe for concurrent use by
// one process; the scheduler must not run two processes on one file.
type FileState struct {
	files stateFiles
	path  string
	now   func() time.Time
	// found: the file or a peer existed at open.
	found bool
	// closer releases the bucket of state in object storage.
	closer io.Closer
	mu     sync.Mutex
	doc    stateDoc
	// bad are the entries that could not be read (state_entries.go): kept
	// as they were, reported by Cursor, InFlight and List for their own
	// (stream, contract) only, cleared by Reset.
	bad map[entryKey]badEntry
	// peers are the cursors of other shards' state files, read once at
	// open, and peerPaths those files (see OpenShardFileState).
	peers     map[string]map[string]time.Time
	peerPaths []string
}

var _ StateStore = (*FileState)(nil)

// stateFiles is where state documents live: local files (osFiles) or
// objects in a bucket (BlobStorage).
type stateFiles interface {
	// ReadAll returns the document; a missing one wraps fs.ErrNotExist.
	ReadAll(ctx context.Context, name string) ([]byte, error)
	// WriteAll replaces the document whole (readers see old or new).
	WriteAll(ctx context.Context, name string, data []byte) error
	Location(name string) string
}

// osFiles are state files on local disk, names being paths.
type osFiles struct{}

func (osFiles) ReadAll(_ context.Context, name string) ([]byte, error) { return os.ReadFile(name) }
func (osFiles) WriteAll(_ context.Context, name string, data []byte) error {
	return storage.WriteFileAtomic(name, data, 0o600)
}
func (osFiles) Location(name string) string { return name }

var (
	_ stateFiles = osFiles{}
	_ stateFiles = (*storage.BlobStorage)(nil)
)

// OpenFileState reads the state file at path; a missing file is an empty
// state. A file that is not valid state is ErrStateCorrupt, naming the file.
func OpenFileState(path string) (*FileState, error) {
	return openState(context.Background(), osFiles{}, path)
}

func openState(ctx context.Context, files stateFiles, path string) (*FileState, error) {
	s := &FileState{files: files, path: path, now: time.Now, doc: stateDoc{Version: stateVersion, Streams: map[string]map[string]CursorEntry{}, Jobs: map[string]map[string]Job{}}}
	where := files.Location(path)
	raw, err := files.ReadAll(ctx, path)
	if errors.Is(err, fs.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading state %s: %w", where, err)
	}
	s.found = true
	doc, bad, err := decodeState(raw)
	if err != nil {
		return nil, fmt.Errorf("reading state %s: %w", where, err)
	}
	s.doc, s.bad = doc, bad
	return s, nil
}

// Path is the state file's path (or URL).
func (s *FileState) Path() string { return s.files.Location(s.path) }

// Close releases the state's bucket, if any. The state is saved already.
func (s *FileState) Close() error {
	if s.closer == nil {
		return nil
	}
	return s.closer.Close()
}

// Found reports whether the state file, or a peer's, existed at open.
func (s *FileState) Found() bool { return s.found }

// Cursor returns the saved cursor of (stream, contract): this file's, or a
// peer's when it is further (OpenShardFileState).
func (s *FileState) Cursor(_ context.Context, stream, contract string) (time.Time, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.badErr(stream, contract); err != nil {
		return time.Time{}, false, err
	}
	peer, fromPeer := s.peers[stream][contract]
	e, ok := s.doc.Streams[stream][contract]
	if !ok {
		return peer, fromPeer, nil
	}
	t, err := parseCursor(e.Cursor)
	if err == nil && fromPeer && peer.After(t) {
		t = peer
	}
	return t, err == nil, err
}

// cursorTime is the written form of a cursor that is not a whole day (the
// API's nextExportStartAt), to the millisecond.
const cursorTime = "2006-01-02T15:04:05.000Z07:00"

// FormatCursor writes a whole-day cursor as a date, any other as an
// RFC 3339 time in milliseconds.
func FormatCursor(t time.Time) string {
	t = t.UTC()
	if t.Equal(t.Truncate(24 * time.Hour)) {
		return t.Format(time.DateOnly)
	}
	return t.Format(cursorTime)
}

// CheckCursor refuses a cursor that a state store could not write and
// read back as the same instant to the millisecond: a year outside
// 1970-2199 (ClickHouse's Date ends in 2149; a nextExportStartAt in
// microseconds lands near the year 50000). Every StateStore calls it in
// SetCursor.
func CheckCursor(t time.Time) error {
	t = t.UTC()
	if y := t.Year(); y < 1970 || y >= 2150 {
		return fmt.Errorf("%w: %s is outside the years 1970-2149", ErrBadCursor, t.Format(time.RFC3339Nano))
	}
	back, err := parseCursor(FormatCursor(t))
	if err != nil || !back.Equal(t.Truncate(time.Millisecond)) {
		return fmt.Errorf("%w: %s does not read back", ErrBadCursor, t.Format(time.RFC3339Nano))
	}
	return nil
}

// ParseCursor reads a cursor as FormatCursor writes it: a date, or an
// RFC 3339 time (UTC).
func ParseCursor(s string) (time.Time, error) { return parseCursor(s) }

func parseCursor(s string) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	return t.UTC(), err
}

// SetCursor saves the cursor of (stream, contract) and rewrites the file.
func (s *FileState) SetCursor(_ context.Context, stream, contract string, cursor time.Time) error {
	if err := CheckCursor(cursor); err != nil {
		return fmt.Errorf("saving cursor of %s/%s: %w", stream, contract, err)
	}
	return s.change(func() {
		m := s.doc.Streams[stream]
		if m == nil {
			m = map[string]CursorEntry{}
			s.doc.Streams[stream] = m
		}
		m[contract] = CursorEntry{Cursor: FormatCursor(cursor), UpdatedAt: s.now().UTC()}
	})
}

// InFlight returns the job in flight of (stream, contract).
func (s *FileState) InFlight(_ context.Context, stream, contract string) (*Job, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.badErr(stream, contract); err != nil {
		return nil, err
	}
	if j, ok := s.doc.Jobs[stream][contract]; ok {
		return &j, nil
	}
	return nil, nil
}

// SetInFlight records a job in flight.
func (s *FileState) SetInFlight(_ context.Context, job Job) error {
	return s.change(func() {
		m := s.doc.Jobs[job.Stream]
		if m == nil {
			m = map[string]Job{}
			s.doc.Jobs[job.Stream] = m
		}
		m[job.Contract] = job
	})
}

// ClearInFlight forgets the job in flight of (stream, contract).
func (s *FileState) ClearInFlight(_ context.Context, stream, contract string) error {
	s.mu.Lock()
	_, ok := s.doc.Jobs[stream][contract]
	s.mu.Unlock()
	if !ok {
		return nil
	}
	return s.change(func() { delete(s.doc.Jobs[stream], contract) })
}

// List returns every cursor and job in flight.
func (s *FileState) List(context.Context) ([]Entry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	idx := map[[2]string]*Entry{}
	get := func(stream, contract string) *Entry {
		k := [2]string{stream, contract}
		if e, ok := idx[k]; ok {
			return e
		}
		e := &Entry{Stream: stream, Contract: contract}
		idx[k] = e
		return e
	}
	for st, m := range s.doc.Streams {
		for c, ce := range m {
			e := get(st, c)
			t, _ := parseCursor(ce.Cursor)
			e.Cursor, e.UpdatedAt = &t, ce.UpdatedAt
		}
	}
	// The cursor a run goes on from: a peer's, when it is further.
	for st, m := range s.peers {
		for c, t := range m {
			if e := get(st, c); e.Cursor == nil || t.After(*e.Cursor) {
				t := t
				e.Cursor = &t
			}
		}
	}
	for st, m := range s.doc.Jobs {
		for c, j := range m {
			j := j
			get(st, c).Job = &j
		}
	}
	for k, b := range s.bad {
		e := get(k.stream, k.contract)
		e.Cursor, e.Job, e.Problem = nil, nil, b.problem
	}
	out := make([]Entry, 0, len(idx))
	for _, e := range idx {
		out = append(out, *e)
	}
	SortEntries(out)
	return out, nil
}

// Reset forgets the cursor and job of stream for contract ("" for all),
// in this file and in its peers' (OpenShardFileState), and returns how
// many (stream, contract) it forgot. The peers are all read before any
// file is changed, and cleared before this file. Run it while no run is
// going.
func (s *FileState) Reset(ctx context.Context, stream, contract string) (int, error) {
	files := make([]*FileState, 0, len(s.peerPaths)+1)
	for _, p := range s.peerPaths {
		peer, err := openState(ctx, s.files, p)
		if err != nil {
			return 0, err
		}
		files = append(files, peer)
	}
	files = append(files, s)
	forgot := map[string]bool{}
	for _, f := range files {
		cleared, err := f.reset(stream, contract)
		if err != nil {
			return len(forgot), err
		}
		for _, c := range cleared {
			forgot[c] = true
		}
	}
	s.mu.Lock()
	for c := range s.peers[stream] {
		if contract == "" || c == contract {
			delete(s.peers[stream], c)
		}
	}
	s.mu.Unlock()
	return len(forgot), nil
}

// reset clears this file's cursors and jobs of stream for contract ("" for
// all), rewriting it only when something matched, and returns the
// contracts cleared.
func (s *FileState) reset(stream, contract string) ([]string, error) {
	s.mu.Lock()
	var cleared []string
	for c := range s.doc.Streams[stream] {
		if contract == "" || c == contract {
			cleared = append(cleared, c)
		}
	}
	for c := range s.doc.Jobs[stream] {
		if (contract == "" || c == contract) && !slices.Contains(cleared, c) {
			cleared = append(cleared, c)
		}
	}
	for k := range s.bad {
		if k.stream == stream && (contract == "" || k.contract == contract) && !slices.Contains(cleared, k.contract) {
			cleared = append(cleared, k.contract)
		}
	}
	s.mu.Unlock()
	if len(cleared) == 0 {
		return nil, nil
	}
	return cleared, s.change(func() {
		for _, c := range cleared {
			delete(s.doc.Streams[stream], c)
			delete(s.doc.Jobs[stream], c)
			delete(s.bad, entryKey{stream, c})
		}
	})
}

// change applies fn to the document and rewrites the file; on a write
// error the document goes back to what it was.
func (s *FileState) change(fn func()) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	before, err := json.Marshal(s.doc)
	if err != nil {
		return err
	}
	fn()
	raw, err := encodeState(s.doc, s.bad)
	if err == nil {
		err = s.files.WriteAll(context.Background(), s.path, raw)
	}
	if err != nil {
		var back stateDoc
		if json.Unmarshal(before, &back) == nil {
			if back.Streams == nil {
				back.Streams = map[string]map[string]CursorEntry{}
			}
			if back.Jobs == nil {
				back.Jobs = map[string]map[string]Job{}
			}
			s.doc = back
		}
		return fmt.Errorf("saving state %s: %w", s.files.Location(s.path), err)
	}
	return nil
}
