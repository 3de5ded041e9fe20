package load

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"
	"time"
)

// StateStore keeps each (stream, contract)'s cursor: the exclusive end of
// the last window loaded, a whole UTC day. The cursor is saved last, after
// the window's data is committed.
type StateStore interface {
	// Cursor returns the saved cursor; ok is false when none is saved.
	Cursor(ctx context.Context, stream, contract string) (cursor time.Time, ok bool, err error)
	// SetCursor saves a cursor durably before it returns.
	SetCursor(ctx context.Context, stream, contract string, cursor time.Time) error
}

// CursorEntry is one saved cursor.
type CursorEntry struct {
	// Cursor is the next day to load (YYYY-MM-DD, UTC).
	Cursor    string    `json:"cursor"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// stateDoc is the state file's content.
type stateDoc struct {
	Version int                               `json:"version"`
	Streams map[string]map[string]CursorEntry `json:"streams"`
}

const stateVersion = 1

// FileState is a StateStore in a JSON file, rewritten atomically (temporary
// file, fsync, rename) on every change. It is safe for concurrent use by
// one process; the scheduler must not run two processes on one file.
type FileState struct {
	path string
	now  func() time.Time
	mu   sync.Mutex
	doc  stateDoc
}

var _ StateStore = (*FileState)(nil)

// OpenFileState reads the state file at path; a missing file is an empty
// state. A file that is not valid state is ErrStateCorrupt, naming the file.
func OpenFileState(path string) (*FileState, error) {
	s := &FileState{path: path, now: time.Now, doc: stateDoc{Version: stateVersion, Streams: map[string]map[string]CursorEntry{}}}
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading state %s: %w", path, err)
	}
	var doc stateDoc
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("reading state %s: %w: %v", path, ErrStateCorrupt, err)
	}
	if doc.Version != stateVersion {
		return nil, fmt.Errorf("reading state %s: %w: version %d, want %d", path, ErrStateCorrupt, doc.Version, stateVersion)
	}
	for stream, m := range doc.Streams {
		for contract, e := range m {
			if _, err := time.Parse(time.DateOnly, e.Cursor); err != nil {
				return nil, fmt.Errorf("reading state %s: %w: cursor of %s/%s: %q is not a date", path, ErrStateCorrupt, stream, contract, e.Cursor)
			}
		}
	}
	if doc.Streams == nil {
		doc.Streams = map[string]map[string]CursorEntry{}
	}
	s.doc = doc
	return s, nil
}

// Path is the state file's path.
func (s *FileState) Path() string { return s.path }

// Cursor returns the saved cursor of (stream, contract).
func (s *FileState) Cursor(_ context.Context, stream, contract string) (time.Time, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.doc.Streams[stream][contract]
	if !ok {
		return time.Time{}, false, nil
	}
	t, err := time.Parse(time.DateOnly, e.Cursor)
	return t, err == nil, err
}

// SetCursor saves the cursor of (stream, contract) and rewrites the file.
func (s *FileState) SetCursor(_ context.Context, stream, contract string, cursor time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.doc.Streams[stream]
	if m == nil {
		m = map[string]CursorEntry{}
		s.doc.Streams[stream] = m
	}
	prev, had := m[contract]
	m[contract] = CursorEntry{Cursor: cursor.UTC().Format(time.DateOnly), UpdatedAt: s.now().UTC()}
	raw, err := json.MarshalIndent(s.doc, "", "  ")
	if err == nil {
		err = WriteFileAtomic(s.path, append(raw, '\n'), 0o600)
	}
	if err != nil {
		if had {
			m[contract] = prev
		} else {
			delete(m, contract)
		}
		return fmt.Errorf("saving state %s: %w", s.path, err)
	}
	return nil
}
