package transform

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/salesnav-etl/salesnav-etl/schema"
)

// planColumns maps the header onto the stream's columns: the batch schema
// (known columns in declared order, then drift columns in header order,
// then the lineage) and each column's plan.
func (r *Reader) planColumns(header []string) error {
	src := map[string]int{}
	for i, h := range header {
		h = strings.TrimSpace(h)
		if h == "" {
			return &HeaderError{Source: r.cfg.source, Column: fmt.Sprintf("#%d", i+1), Reason: ErrBadHeader, Detail: "empty column name"}
		}
		if !utf8.ValidString(h) {
			return &HeaderError{Source: r.cfg.source, Column: h, Reason: ErrBadHeader, Detail: "name is not valid UTF-8"}
		}
		if _, dup := src[h]; dup {
			return &HeaderError{Source: r.cfg.source, Column: h, Reason: ErrBadHeader, Detail: "column appears twice"}
		}
		if schema.IsLineage(h) {
			return &HeaderError{Source: r.cfg.source, Column: h, Reason: ErrBadHeader, Detail: "name is reserved for a lineage column"}
		}
		src[h] = i
	}
	r.nfields = len(header)
	var fields, data []arrow.Field
	for _, c := range r.stream.Columns {
		i, ok := src[c.Name]
		if !ok {
			if c.Required && !r.empty {
				return &HeaderError{Source: r.cfg.source, Column: c.Name, Reason: ErrMissingColumn}
			}
			i = -1
			c.Nullable = true // absent optional columns read as null
		}
		p := plan{col: c, src: i}
		f := c.Field()
		fields = append(fields, f)
		if c.Kind == schema.Enum {
			p.enum = make(map[string]int32, len(c.Values))
			for j, v := range c.Values {
				p.enum[v] = int32(j)
			}
			if r.cfg.dict {
				p.dict = enumDictionary(r.cfg.mem, c.Values)
				fields[len(fields)-1].Type = DictionaryOf(f.Type)
				f.Type = arrow.PrimitiveTypes.Int32
			}
		}
		data = append(data, f)
		if c.Name == r.stream.DayColumn {
			r.partIdx = len(r.plans)
		}
		r.plans = append(r.plans, p)
	}
	for i, h := range header {
		h = strings.TrimSpace(h)
		if _, known := r.stream.Column(h); known {
			continue
		}
		name := h
		if slices.Contains(r.stream.HiveKeys(), h) {
			// Readers would show the Hive partition value instead.
			name = schema.DriftPrefix + h
			if _, clash := src[name]; clash {
				return &HeaderError{Source: r.cfg.source, Column: h, Reason: ErrBadHeader, Detail: "collides with a partition key, and " + name + " is taken"}
			}
		}
		c := schema.Column{Name: name, Kind: schema.String, Nullable: true}
		r.plans = append(r.plans, plan{col: c, src: i, drift: true})
		r.drift = append(r.drift, name)
		fields = append(fields, c.Field())
		data = append(data, c.Field())
	}
	r.data = arrow.NewSchema(data, nil)
	if r.cfg.lineage != nil {
		for _, f := range r.stream.LineageFields() {
			if r.cfg.dict {
				f.Type = DictionaryOf(f.Type)
			}
			fields = append(fields, f)
		}
	}
	r.schema = arrow.NewSchema(fields, nil)
	return nil
}
