// Package protocoltest checks what the connector writes against the
// protocols' JSON schemas, offline: the Airbyte protocol's message
// definitions and the Singer specification's messages and catalog,
// transcribed into testdata (see its README), and the JSON schemas the
// connector itself publishes (a stream's, the configuration's), formats
// asserted (date-time, date, uri).
package protocoltest

import (
	"bufio"
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

var (
	//go:embed testdata/airbyte_protocol.json
	airbyteProtocol []byte
	//go:embed testdata/singer.json
	singerSpec []byte
)

const (
	airbyteID = "https://salesnav-etl.invalid/protocoltest/airbyte_protocol.json"
	singerID  = "https://salesnav-etl.invalid/protocoltest/singer.json"
)

var (
	compileOnce sync.Once
	compiled    map[string]*jsonschema.Schema
	compileErr  error
)

// definitions are the ones a test validates against, by name.
var definitions = map[string]string{
	"AirbyteMessage":           airbyteID + "#/definitions/AirbyteMessage",
	"ConfiguredAirbyteCatalog": airbyteID + "#/definitions/ConfiguredAirbyteCatalog",
	"SingerMessage":            singerID + "#/definitions/Message",
	"SingerCatalog":            singerID + "#/definitions/Catalog",
}

type noNetwork struct{}

func (noNetwork) Load(url string) (any, error) {
	return nil, fmt.Errorf("schema %s is not in testdata", url)
}

func compile() (map[string]*jsonschema.Schema, error) {
	compileOnce.Do(func() {
		c := jsonschema.NewCompiler()
		c.AssertFormat()
		c.UseLoader(noNetwork{})
		for id, raw := range map[string][]byte{airbyteID: airbyteProtocol, singerID: singerSpec} {
			doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
			if err == nil {
				err = c.AddResource(id, doc)
			}
			if err != nil {
				compileErr = fmt.Errorf("%s: %w", id, err)
				return
			}
		}
		compiled = map[string]*jsonschema.Schema{}
		for name, ref := range definitions {
			s, err := c.Compile(ref)
			if err != nil {
				compileErr = fmt.Errorf("compiling %s: %w", name, err)
				return
			}
			compiled[name] = s
		}
	})
	return compiled, compileErr
}

// Validate checks raw (one JSON document) against a definition:
// AirbyteMessage, ConfiguredAirbyteCatalog, SingerMessage, SingerCatalog.
func Validate(definition string, raw []byte) error {
	s, err := compile()
	if err != nil {
		return err
	}
	sch, ok := s[definition]
	if !ok {
		return fmt.Errorf("no definition %s", definition)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return fmt.Errorf("not JSON: %w", err)
	}
	return sch.Validate(inst)
}

// Compile compiles a JSON schema the connector publishes (a stream's
// json_schema, the configuration's), formats asserted.
func Compile(doc any) (*jsonschema.Schema, error) {
	raw, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	c.UseLoader(noNetwork{})
	const id = "https://salesnav-etl.invalid/published.json"
	if err := c.AddResource(id, inst); err != nil {
		return nil, err
	}
	return c.Compile(id)
}

// ValidateAgainst checks one value (a record's data) against a compiled
// schema.
func ValidateAgainst(s *jsonschema.Schema, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return err
	}
	return s.Validate(inst)
}

// Lines splits output into its lines, each one JSON message: an error
// names the first line that is not.
func Lines(out []byte) ([]map[string]any, error) {
	var msgs []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for n := 1; sc.Scan(); n++ {
		var m map[string]any
		d := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		d.UseNumber()
		if err := d.Decode(&m); err != nil {
			return nil, fmt.Errorf("line %d is not a JSON object: %v: %.200q", n, err, sc.Text())
		}
		if d.More() {
			return nil, fmt.Errorf("line %d holds more than one JSON value: %.200q", n, sc.Text())
		}
		msgs = append(msgs, m)
	}
	return msgs, sc.Err()
}
