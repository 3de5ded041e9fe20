package airbyte

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/salesnav-etl/salesnav-etl/connector"
)

// incomingState is one AirbyteStateMessage as Airbyte passes it back.
type incomingState struct {
	Type   string `json:"type"`
	Stream *struct {
		StreamDescriptor struct {
			Name string `json:"name"`
		} `json:"stream_descriptor"`
		StreamState json.RawMessage `json:"stream_state"`
	} `json:"stream"`
}

// ParseState reads the state Airbyte passes back to read: the array of
// the per-stream state messages this source emitted (type STREAM), each
// stream's last. Nothing (an empty file, null, [] or {}) is no state: every
// stream reads from start_date. A global or legacy state, which this
// source never emits, is connector.ErrBadState.
func ParseState(raw []byte) (map[string]connector.StreamState, error) {
	out := map[string]connector.StreamState{}
	raw = bytes.TrimSpace(raw)
	switch string(raw) {
	case "", "null", "[]", "{}":
		return out, nil
	}
	var msgs []incomingState
	if raw[0] == '{' {
		var one incomingState
		if err := json.Unmarshal(raw, &one); err != nil {
			return nil, fmt.Errorf("%w: %v", connector.ErrBadState, err)
		}
		msgs = append(msgs, one)
	} else if err := json.Unmarshal(raw, &msgs); err != nil {
		return nil, fmt.Errorf("%w: want an array of state messages: %v", connector.ErrBadState, err)
	}
	for i, m := range msgs {
		if m.Type != "STREAM" || m.Stream == nil {
			return nil, fmt.Errorf("%w: message %d is of type %q: this source emits per-stream states (STREAM) only", connector.ErrBadState, i, m.Type)
		}
		name := m.Stream.StreamDescriptor.Name
		switch string(bytes.TrimSpace(m.Stream.StreamState)) {
		case "", "null", "{}": // a stream reset: read from start_date
			continue
		}
		st, err := connector.ParseStreamState(name, m.Stream.StreamState)
		if err != nil {
			return nil, err
		}
		out[name] = st
	}
	return out, nil
}
