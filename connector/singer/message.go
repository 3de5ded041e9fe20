// Package singer makes salesnav-etl a Singer tap (singer-io/getting-started,
// docs/SPEC.md and docs/DISCOVERY_MODE.md), for Meltano: discovery prints a
// catalog of the registry's streams; a sync prints SCHEMA, RECORD and STATE
// messages, one JSON message a line on standard output (logs go to
// standard error), running the pipeline with the connector package's Sink
// and State.
package singer

import (
	"time"

	"github.com/salesnav-etl/salesnav-etl/connector"
)

// Writer writes Singer messages to an Output.
type Writer struct {
	Out *connector.Output
	Now func() time.Time
}

func (w *Writer) now() time.Time {
	if w.Now == nil {
		return time.Now()
	}
	return w.Now()
}

// schemaMessage is a SCHEMA message.
type schemaMessage struct {
	Type               string         `json:"type"`
	Stream             string         `json:"stream"`
	Schema             map[string]any `json:"schema"`
	KeyProperties      []string       `json:"key_properties"`
	BookmarkProperties []string       `json:"bookmark_properties,omitempty"`
}

// stateMessage is a STATE message.
type stateMessage struct {
	Type  string `json:"type"`
	Value Value  `json:"value"`
}

// Value is the tap's state: a bookmark per stream. It is what a STATE
// message carries and what --state takes back.
type Value struct {
	Bookmarks map[string]connector.StreamState `json:"bookmarks"`
}

// Record is the framing of record messages:
// {"type":"RECORD","stream":…,"time_extracted":…,"record":DATA}.
func (w *Writer) Record(stream string, at time.Time) (prefix, suffix []byte) {
	prefix = append([]byte(`{"type":"RECORD","stream":`), connector.AppendString(nil, stream)...)
	prefix = append(prefix, `,"time_extracted":"`...)
	prefix = at.UTC().AppendFormat(prefix, "2006-01-02T15:04:05.000Z07:00")
	prefix = append(prefix, `","record":`...)
	return prefix, []byte("}")
}

var _ connector.Framing = (*Writer)(nil)

// State writes the whole state.
func (w *Writer) State(all map[string]connector.StreamState) error {
	if all == nil {
		all = map[string]connector.StreamState{}
	}
	return w.Out.JSON(stateMessage{Type: "STATE", Value: Value{Bookmarks: all}})
}
