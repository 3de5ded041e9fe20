// Package lineagetest helps tests check OpenLineage events: Validate
// checks one against the specification's JSON schemas (kept, unchanged, in
// testdata/spec and embedded here, so validation needs no network), and
// Server is a lineage server on loopback that records what it receives,
// or fails, or hangs.
package lineagetest

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"sort"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

//go:embed testdata/spec/*.json
var specFiles embed.FS

// facetFiles maps each facet the connector may emit, by where it sits in
// an event and its key, to the schema file that defines it. A facet not
// listed here fails Validate: every facet emitted is validated.
var facetFiles = map[string]map[string]string{
	"run.facets":           {"parent": "ParentRunFacet.json", "errorMessage": "ErrorMessageRunFacet.json"},
	"job.facets":           {"jobType": "JobTypeJobFacet.json"},
	"inputs.facets":        {},
	"inputs.inputFacets":   {},
	"outputs.facets":       {"schema": "SchemaDatasetFacet.json"},
	"outputs.outputFacets": {"outputStatistics": "OutputStatisticsOutputDatasetFacet.json"},
}

// schemas are the compiled schema files, by file name, and their $ids.
type schemas struct {
	byFile map[string]*jsonschema.Schema
	ids    map[string]string
}

var (
	compileOnce sync.Once
	compiled    *schemas
	compileErr  error
)

// noNetwork refuses to load a schema that is not embedded.
type noNetwork struct{}

func (noNetwork) Load(url string) (any, error) {
	return nil, fmt.Errorf("schema %s is not in testdata/spec", url)
}

func compile() (*schemas, error) {
	compileOnce.Do(func() {
		c := jsonschema.NewCompiler()
		c.AssertFormat()
		c.UseLoader(noNetwork{})
		entries, err := specFiles.ReadDir("testdata/spec")
		if err != nil {
			compileErr = err
			return
		}
		s := &schemas{byFile: map[string]*jsonschema.Schema{}, ids: map[string]string{}}
		for _, e := range entries {
			raw, err := specFiles.ReadFile(path.Join("testdata/spec", e.Name()))
			if err != nil {
				compileErr = err
				return
			}
			doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
			if err != nil {
				compileErr = fmt.Errorf("%s: %w", e.Name(), err)
				return
			}
			id, _ := doc.(map[string]any)["$id"].(string)
			if id == "" {
				compileErr = fmt.Errorf("%s has no $id", e.Name())
				return
			}
			if err := c.AddResource(id, doc); err != nil {
				compileErr = fmt.Errorf("%s: %w", e.Name(), err)
				return
			}
			s.ids[e.Name()] = id
		}
		for name, id := range s.ids {
			sch, err := c.Compile(id)
			if err != nil {
				compileErr = fmt.Errorf("compiling %s: %w", name, err)
				return
			}
			s.byFile[name] = sch
		}
		compiled = s
	})
	return compiled, compileErr
}

// Validate checks a run event (its JSON) against the OpenLineage schema
// (OpenLineage.json, formats asserted: uuid, uri, date-time), and each of
// its facets against the schema of that facet, whose URL its _schemaURL
// must be. A facet with no schema in testdata/spec is an error too.
func Validate(raw []byte) error {
	s, err := compile()
	if err != nil {
		return err
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return fmt.Errorf("event is not JSON: %w", err)
	}
	if err := s.byFile["OpenLineage.json"].Validate(inst); err != nil {
		return fmt.Errorf("event against OpenLineage.json: %w", err)
	}
	var ev map[string]any
	if err := json.Unmarshal(raw, &ev); err != nil {
		return err
	}
	if want := s.ids["OpenLineage.json"] + "#/$defs/RunEvent"; ev["schemaURL"] != want {
		return fmt.Errorf("schemaURL %v, want %s (the schema validated against)", ev["schemaURL"], want)
	}
	var errs []error
	check := func(where string, container any) {
		facets, _ := container.(map[string]any)
		keys := make([]string, 0, len(facets))
		for k := range facets {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, key := range keys {
			file, known := facetFiles[where][key]
			if !known {
				errs = append(errs, fmt.Errorf("%s.%s: no schema for this facet in testdata/spec", where, key))
				continue
			}
			// The file's top-level schema checks its own key of a facets
			// object: validate the facet alone in one.
			one, _ := json.Marshal(map[string]any{key: facets[key]})
			doc, _ := jsonschema.UnmarshalJSON(bytes.NewReader(one))
			if err := s.byFile[file].Validate(doc); err != nil {
				errs = append(errs, fmt.Errorf("%s.%s against %s: %w", where, key, file, err))
			}
			want := s.ids[file] + "#/$defs/" + strings.TrimSuffix(file, ".json")
			if got := facets[key].(map[string]any)["_schemaURL"]; got != want {
				errs = append(errs, fmt.Errorf("%s.%s: _schemaURL %v, want %s (the schema validated against)", where, key, got, want))
			}
		}
	}
	run, _ := ev["run"].(map[string]any)
	job, _ := ev["job"].(map[string]any)
	check("run.facets", run["facets"])
	check("job.facets", job["facets"])
	for _, side := range []string{"inputs", "outputs"} {
		list, _ := ev[side].([]any)
		for _, d := range list {
			ds, _ := d.(map[string]any)
			check(side+".facets", ds["facets"])
			if side == "inputs" {
				check("inputs.inputFacets", ds["inputFacets"])
			} else {
				check("outputs.outputFacets", ds["outputFacets"])
			}
		}
	}
	return errors.Join(errs...)
}
