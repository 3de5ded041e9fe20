package protocoltest

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Message is one line of output, decoded (numbers as json.Number), with
// its place.
type Message struct {
	Line int
	Type string
	Raw  map[string]any
}

// Record is a record message's stream and data.
type Record struct {
	Line   int
	Stream string
	Data   map[string]any
}

// State is an Airbyte per-stream state message, or a Singer state (Stream
// "").
type State struct {
	Line   int
	Stream string
	Value  json.RawMessage
}

// Output is a protocol's output, checked and sorted out.
type Output struct {
	Messages []Message
	Records  []Record
	States   []State
}

// RecordsOf returns the data of stream's records, in order.
func (o *Output) RecordsOf(stream string) []map[string]any {
	var out []map[string]any
	for _, r := range o.Records {
		if r.Stream == stream {
			out = append(out, r.Data)
		}
	}
	return out
}

// Of returns the messages of a type, in order.
func (o *Output) Of(typ string) []Message {
	var out []Message
	for _, m := range o.Messages {
		if m.Type == typ {
			out = append(out, m)
		}
	}
	return out
}

// Airbyte checks an Airbyte command's standard output: every line one
// AirbyteMessage valid against the protocol, and each record's data valid
// against its stream's JSON schema in schemas (by stream name; a record of
// a stream without one is an error).
func Airbyte(out []byte, schemas map[string]any) (*Output, error) {
	lines, err := Lines(out)
	if err != nil {
		return nil, err
	}
	compiled, err := compileAll(schemas)
	if err != nil {
		return nil, err
	}
	o := &Output{}
	var errs []error
	for i, m := range lines {
		n := i + 1
		raw, _ := json.Marshal(m)
		if err := Validate("AirbyteMessage", raw); err != nil {
			errs = append(errs, fmt.Errorf("line %d against AirbyteMessage: %w", n, err))
			continue
		}
		typ, _ := m["type"].(string)
		o.Messages = append(o.Messages, Message{Line: n, Type: typ, Raw: m})
		switch typ {
		case "RECORD":
			rec := m["record"].(map[string]any)
			stream, _ := rec["stream"].(string)
			data := rec["data"].(map[string]any)
			o.Records = append(o.Records, Record{Line: n, Stream: stream, Data: data})
			if err := validateData(compiled, stream, data); err != nil {
				errs = append(errs, fmt.Errorf("line %d: %w", n, err))
			}
		case "STATE":
			st := m["state"].(map[string]any)
			s, _ := st["stream"].(map[string]any)
			desc, _ := s["stream_descriptor"].(map[string]any)
			name, _ := desc["name"].(string)
			blob, _ := json.Marshal(s["stream_state"])
			o.States = append(o.States, State{Line: n, Stream: name, Value: blob})
		}
	}
	return o, errors.Join(errs...)
}

// Singer checks a Singer tap's standard output: every line a SCHEMA,
// RECORD or STATE message valid against the specification, a stream's
// SCHEMA before its first RECORD, and each record valid against the
// schema its SCHEMA gave.
func Singer(out []byte) (*Output, error) {
	lines, err := Lines(out)
	if err != nil {
		return nil, err
	}
	o := &Output{}
	schemas := map[string]*jsonschema.Schema{}
	var errs []error
	for i, m := range lines {
		n := i + 1
		raw, _ := json.Marshal(m)
		if err := Validate("SingerMessage", raw); err != nil {
			errs = append(errs, fmt.Errorf("line %d against the Singer messages: %w", n, err))
			continue
		}
		typ, _ := m["type"].(string)
		o.Messages = append(o.Messages, Message{Line: n, Type: typ, Raw: m})
		switch typ {
		case "SCHEMA":
			s, err := Compile(m["schema"])
			if err != nil {
				errs = append(errs, fmt.Errorf("line %d: the SCHEMA's schema: %w", n, err))
				continue
			}
			schemas[m["stream"].(string)] = s
		case "RECORD":
			stream := m["stream"].(string)
			data := m["record"].(map[string]any)
			o.Records = append(o.Records, Record{Line: n, Stream: stream, Data: data})
			s, ok := schemas[stream]
			if !ok {
				errs = append(errs, fmt.Errorf("line %d: a RECORD of %s before its SCHEMA", n, stream))
				continue
			}
			if err := ValidateAgainst(s, data); err != nil {
				errs = append(errs, fmt.Errorf("line %d: record of %s against its SCHEMA: %w", n, stream, err))
			}
		case "STATE":
			v, _ := json.Marshal(m["value"])
			o.States = append(o.States, State{Line: n, Value: v})
		}
	}
	return o, errors.Join(errs...)
}

func compileAll(schemas map[string]any) (map[string]*jsonschema.Schema, error) {
	out := map[string]*jsonschema.Schema{}
	for name, doc := range schemas {
		s, err := Compile(doc)
		if err != nil {
			return nil, fmt.Errorf("the JSON schema of %s: %w", name, err)
		}
		out[name] = s
	}
	return out, nil
}

func validateData(schemas map[string]*jsonschema.Schema, stream string, data map[string]any) error {
	s, ok := schemas[stream]
	if !ok {
		return fmt.Errorf("a record of %s, a stream without a JSON schema", stream)
	}
	if err := ValidateAgainst(s, data); err != nil {
		return fmt.Errorf("record of %s against its json_schema: %w", stream, err)
	}
	return nil
}
