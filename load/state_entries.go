package load

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// entryKey is one (stream, contract) of a state file.
type entryKey struct{ stream, contract string }

// badEntry is an entry of a state file that could not be read. It is
// written back as it was found, so that nothing is lost, until state
// reset clears it or a new value replaces it.
type badEntry struct {
	problem     string
	cursor, job json.RawMessage // nil: that part was fine or absent
}

// rawState is a state file, each entry still undecoded.
type rawState struct {
	Version int                                   `json:"version"`
	Streams map[string]map[string]json.RawMessage `json:"streams"`
	Jobs    map[string]map[string]json.RawMessage `json:"jobs,omitempty"`
}

// decodeState reads a state file entry by entry: the file as a whole must
// be JSON of this version (else ErrStateCorrupt); an entry that is not
// (its cursor not a date or a time, its job not a job) goes to bad and is
// reported for its own (stream, contract) only.
func decodeState(raw []byte) (stateDoc, map[entryKey]badEntry, error) {
	doc := stateDoc{Version: stateVersion, Streams: map[string]map[string]CursorEntry{}, Jobs: map[string]map[string]Job{}}
	var rs rawState
	if err := json.Unmarshal(raw, &rs); err != nil {
		return doc, nil, fmt.Errorf("%w: %v", ErrStateCorrupt, err)
	}
	if rs.Version != stateVersion {
		return doc, nil, fmt.Errorf("%w: version %d, want %d", ErrStateCorrupt, rs.Version, stateVersion)
	}
	bad := map[entryKey]badEntry{}
	doc.Streams = decodeSection(rs.Streams, bad, func(e CursorEntry, err error) string {
		if err == nil {
			_, err = parseCursor(e.Cursor)
		}
		if err != nil {
			return "cursor %s is not a date or an RFC 3339 time"
		}
		return ""
	}, func(b *badEntry, raw json.RawMessage) { b.cursor = raw })
	doc.Jobs = decodeSection(rs.Jobs, bad, func(j Job, err error) string {
		if err != nil || j.ID == 0 {
			return "job in flight %s is not a job"
		}
		return ""
	}, func(b *badEntry, raw json.RawMessage) { b.job = raw })
	return doc, bad, nil
}

// decodeSection decodes one section of a state file (cursors, jobs) entry
// by entry. An entry for which check, given its value and the decoding
// error, returns a problem (a format with one %s for the entry) goes to
// bad, kept by keep.
func decodeSection[T any](section map[string]map[string]json.RawMessage, bad map[entryKey]badEntry,
	check func(T, error) string, keep func(*badEntry, json.RawMessage)) map[string]map[string]T {
	out := map[string]map[string]T{}
	for stream, m := range section {
		for contract, raw := range m {
			var v T
			err := json.Unmarshal(raw, &v)
			if problem := check(v, err); problem != "" {
				k := entryKey{stream, contract}
				b := bad[k]
				keep(&b, raw)
				b.problem = strings.TrimPrefix(b.problem+"; ", "; ") + fmt.Sprintf(problem, compact(raw))
				bad[k] = b
				continue
			}
			if out[stream] == nil {
				out[stream] = map[string]T{}
			}
			out[stream][contract] = v
		}
	}
	return out
}

// compact shortens an entry for a message.
func compact(raw json.RawMessage) string {
	s := strings.Join(strings.Fields(string(raw)), " ")
	if len(s) > 120 {
		s = s[:120] + "…"
	}
	return s
}

// encodeState writes doc with the bad entries back in place, but for a
// part (cursor, job) that doc now holds a value for.
func encodeState(doc stateDoc, bad map[entryKey]badEntry) ([]byte, error) {
	rs := rawState{Version: doc.Version, Streams: map[string]map[string]json.RawMessage{}, Jobs: map[string]map[string]json.RawMessage{}}
	put := func(into map[string]map[string]json.RawMessage, stream, contract string, v json.RawMessage) {
		if into[stream] == nil {
			into[stream] = map[string]json.RawMessage{}
		}
		into[stream][contract] = v
	}
	for stream, m := range doc.Streams {
		for contract, e := range m {
			raw, err := json.Marshal(e)
			if err != nil {
				return nil, err
			}
			put(rs.Streams, stream, contract, raw)
		}
	}
	for stream, m := range doc.Jobs {
		for contract, j := range m {
			raw, err := json.Marshal(j)
			if err != nil {
				return nil, err
			}
			put(rs.Jobs, stream, contract, raw)
		}
	}
	keys := make([]entryKey, 0, len(bad))
	for k := range bad {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		return keys[i].stream+"\x00"+keys[i].contract < keys[j].stream+"\x00"+keys[j].contract
	})
	for _, k := range keys {
		b := bad[k]
		if _, ok := rs.Streams[k.stream][k.contract]; b.cursor != nil && !ok {
			put(rs.Streams, k.stream, k.contract, b.cursor)
		}
		if _, ok := rs.Jobs[k.stream][k.contract]; b.job != nil && !ok {
			put(rs.Jobs, k.stream, k.contract, b.job)
		}
	}
	if len(rs.Jobs) == 0 {
		rs.Jobs = nil
	}
	raw, err := json.MarshalIndent(rs, "", "  ")
	return append(raw, '\n'), err
}

// badErr is the error of (stream, contract)'s unreadable entry, nil when
// it has none. The caller holds s.mu.
func (s *FileState) badErr(stream, contract string) error {
	b, ok := s.bad[entryKey{stream, contract}]
	if !ok {
		return nil
	}
	return fmt.Errorf("reading state %s: %w: entry %s/%s: %s (salesnav-etl state reset --stream %s --contract %q clears it)",
		s.files.Location(s.path), ErrStateCorrupt, stream, contract, b.problem, stream, contract)
}
