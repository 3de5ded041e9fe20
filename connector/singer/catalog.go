package singer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/salesnav-etl/salesnav-etl/connector"
	"github.com/salesnav-etl/salesnav-etl/schema"
)

// Replication methods.
const (
	FullTable   = "FULL_TABLE"
	Incremental = "INCREMENTAL"
)

// Catalog is a Singer catalog (discovery's output, --catalog's input).
type Catalog struct {
	Streams []CatalogStream `json:"streams"`
}

// CatalogStream is one stream of a catalog.
type CatalogStream struct {
	TapStreamID   string         `json:"tap_stream_id"`
	Stream        string         `json:"stream"`
	Schema        map[string]any `json:"schema"`
	KeyProperties []string       `json:"key_properties"`
	Metadata      []Metadata     `json:"metadata"`
}

// Metadata is one entry of a stream's metadata: the stream's own (empty
// breadcrumb), or a property's.
type Metadata struct {
	Breadcrumb []string       `json:"breadcrumb"`
	Metadata   map[string]any `json:"metadata"`
}

// CatalogOf is the discovered catalog: every stream of the registry, those
// of offered (the configuration's streams) selected. A stream's metadata
// has selected, replication-method (INCREMENTAL for a stream with a cursor,
// FULL_TABLE for one read whole, which is also its
// forced-replication-method), its key (table-key-properties) and its
// replication key; every property is emitted whatever is selected
// (inclusion automatic).
func CatalogOf(offered []*schema.Stream) Catalog {
	c := Catalog{Streams: []CatalogStream{}}
	for _, st := range schema.All() {
		sch := connector.StreamSchema(st, connector.Singer)
		top := map[string]any{
			"selected":             slices.Contains(offered, st),
			"selected-by-default":  slices.Contains(schema.Defaults(), st),
			"inclusion":            "available",
			"table-key-properties": connector.PrimaryKey(st),
			"replication-method":   FullTable,
		}
		if f := connector.CursorField(st); f != "" {
			top["replication-method"] = Incremental
			top["replication-key"] = f
			top["valid-replication-keys"] = []string{f}
		} else {
			top["forced-replication-method"] = FullTable
		}
		md := []Metadata{{Breadcrumb: []string{}, Metadata: top}}
		props, _ := sch["properties"].(map[string]any)
		names := make([]string, 0, len(props))
		for n := range props {
			names = append(names, n)
		}
		slices.Sort(names)
		for _, n := range names {
			md = append(md, Metadata{Breadcrumb: []string{"properties", n}, Metadata: map[string]any{"inclusion": "automatic"}})
		}
		c.Streams = append(c.Streams, CatalogStream{TapStreamID: st.Name, Stream: st.Name, Schema: sch,
			KeyProperties: connector.PrimaryKey(st), Metadata: md})
	}
	return c
}

// Selected is a stream a sync reads.
type Selected struct {
	Stream *schema.Stream
	// Incremental: from the stream's bookmark; else (FULL_TABLE) from
	// start_date.
	Incremental bool
}

// catalogIn is the part of a catalog a sync reads.
type catalogIn struct {
	Streams []struct {
		TapStreamID string `json:"tap_stream_id"`
		Stream      string `json:"stream"`
		Metadata    []struct {
			Breadcrumb []string        `json:"breadcrumb"`
			Metadata   json.RawMessage `json:"metadata"`
		} `json:"metadata"`
	} `json:"streams"`
}

// ParseCatalog reads a catalog (--catalog or --properties): the streams
// whose stream-level metadata says selected: true, with their
// replication-method (default: INCREMENTAL where the stream has a
// cursor), in registry order. Every problem is reported at once, naming
// the stream's place.
func ParseCatalog(raw []byte) ([]Selected, error) {
	var cat catalogIn
	if err := json.NewDecoder(bytes.NewReader(raw)).Decode(&cat); err != nil {
		return nil, fmt.Errorf("not a Singer catalog: %w", err)
	}
	var problems []error
	bad := func(format string, args ...any) { problems = append(problems, fmt.Errorf(format, args...)) }
	picked := map[string]bool{}
	incremental := map[string]bool{}
	for i, s := range cat.Streams {
		id := s.TapStreamID
		if id == "" {
			id = s.Stream
		}
		st, err := schema.Lookup(id)
		if err != nil {
			bad("streams[%d].tap_stream_id: %v", i, err)
			continue
		}
		var top struct {
			Selected          *bool  `json:"selected"`
			ReplicationMethod string `json:"replication-method"`
		}
		for _, m := range s.Metadata {
			if len(m.Breadcrumb) == 0 {
				if err := json.Unmarshal(m.Metadata, &top); err != nil {
					bad("streams[%d] (%s): stream metadata: %v", i, id, err)
				}
			}
		}
		if top.Selected == nil || !*top.Selected {
			continue
		}
		if picked[id] {
			bad("streams[%d]: stream %s is selected twice", i, id)
			continue
		}
		picked[id] = true
		switch top.ReplicationMethod {
		case "":
			incremental[id] = connector.Incremental(st)
		case Incremental:
			if !connector.Incremental(st) {
				bad("streams[%d] (%s): replication-method INCREMENTAL: the stream is read whole each sync (FULL_TABLE)", i, id)
			}
			incremental[id] = true
		case FullTable:
		default:
			bad("streams[%d] (%s): replication-method %q is not %s or %s", i, id, top.ReplicationMethod, Incremental, FullTable)
		}
	}
	if len(problems) == 0 && len(picked) == 0 {
		bad("no stream is selected (a stream's metadata with an empty breadcrumb must say \"selected\": true)")
	}
	if len(problems) > 0 {
		return nil, errors.Join(problems...)
	}
	var out []Selected
	for _, st := range schema.All() {
		if picked[st.Name] {
			out = append(out, Selected{Stream: st, Incremental: incremental[st.Name]})
		}
	}
	return out, nil
}

// ParseState reads --state: a state value as STATE messages carry it
// ({"bookmarks": {stream: state}}). Nothing (an empty file, null, {}) is no
// state.
func ParseState(raw []byte) (map[string]connector.StreamState, error) {
	out := map[string]connector.StreamState{}
	raw = bytes.TrimSpace(raw)
	switch string(raw) {
	case "", "null", "{}":
		return out, nil
	}
	var v struct {
		Bookmarks map[string]json.RawMessage `json:"bookmarks"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("%w: want {\"bookmarks\": {stream: state}}: %v", connector.ErrBadState, err)
	}
	for name, b := range v.Bookmarks {
		st, err := connector.ParseStreamState(name, b)
		if err != nil {
			return nil, err
		}
		out[name] = st
	}
	return out, nil
}
