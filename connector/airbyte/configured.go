package airbyte

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/salesnav-etl/salesnav-etl/connector"
	"github.com/salesnav-etl/salesnav-etl/schema"
)

// ConfiguredStream is one stream of a configured catalog: what read
// reads, and how.
type ConfiguredStream struct {
	Stream *schema.Stream
	// Incremental: from the stream's state; else (full_refresh) from the
	// configuration's start_date, whatever the state says.
	Incremental bool
}

// configuredCatalog is the part of a ConfiguredAirbyteCatalog read uses.
type configuredCatalog struct {
	Streams []struct {
		Stream struct {
			Name *string `json:"name"`
		} `json:"stream"`
		SyncMode *string `json:"sync_mode"`
	} `json:"streams"`
}

// ParseCatalog reads a configured catalog: its streams, each a stream
// of the registry, with a sync mode it supports, in registry order.
// Every problem is reported at once, naming the stream's place
// (streams[2].sync_mode).
func ParseCatalog(raw []byte) ([]ConfiguredStream, error) {
	var cat configuredCatalog
	if err := json.NewDecoder(bytes.NewReader(raw)).Decode(&cat); err != nil {
		return nil, fmt.Errorf("not a configured catalog: %w", err)
	}
	var problems []error
	bad := func(format string, args ...any) { problems = append(problems, fmt.Errorf(format, args...)) }
	picked := map[string]bool{}
	incremental := map[string]bool{}
	for i, s := range cat.Streams {
		if s.Stream.Name == nil {
			bad("streams[%d].stream.name: required", i)
			continue
		}
		name := *s.Stream.Name
		st, err := schema.Lookup(name)
		if err != nil {
			bad("streams[%d].stream.name: %v", i, err)
			continue
		}
		if picked[name] {
			bad("streams[%d]: stream %s is configured twice", i, name)
			continue
		}
		picked[name] = true
		mode := FullRefresh
		if s.SyncMode != nil {
			mode = *s.SyncMode
		}
		switch {
		case mode == Incremental && !connector.Incremental(st):
			bad("streams[%d].sync_mode: stream %s is read whole each sync: full_refresh only", i, name)
		case mode != Incremental && mode != FullRefresh:
			bad("streams[%d].sync_mode: %q is not %s or %s", i, mode, FullRefresh, Incremental)
		}
		incremental[name] = mode == Incremental
	}
	if len(cat.Streams) == 0 {
		bad("streams: none configured")
	}
	if len(problems) > 0 {
		return nil, errors.Join(problems...)
	}
	var out []ConfiguredStream
	for _, st := range schema.All() {
		if picked[st.Name] {
			out = append(out, ConfiguredStream{Stream: st, Incremental: incremental[st.Name]})
		}
	}
	return out, nil
}
