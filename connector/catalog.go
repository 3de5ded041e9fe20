package connector

import (
	"slices"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/salesnav-etl/salesnav-etl/schema"
)

// Dialect selects the few words in which the protocols' JSON schemas
// differ.
type Dialect int

const (
	// Airbyte adds airbyte_type to timestamps (timestamp_with_timezone),
	// the type of its destinations.
	Airbyte Dialect = iota + 1
	// Singer writes plain JSON schema.
	Singer
)

// StreamSchema is the JSON schema of the stream's records: its known
// columns, its lineage columns, and _row_hash where the key holds it. A
// column is nullable (["null", T]) when the stream declares it so, and,
// of an export, when it is not required (an export without it reads it
// as null). Timestamps are strings of format date-time, dates strings of
// format date, int64 integer, float64 number, enums strings of the
// declared values. Drift columns (unknown to the schema, kept as strings)
// are additional properties.
func StreamSchema(st *schema.Stream, d Dialect) map[string]any {
	props := map[string]any{}
	for _, c := range st.Columns {
		nullable := c.Nullable || (!st.Dimension() && !c.Required)
		p := typeOf(c.Kind.ArrowType(), nullable, d)
		if c.Kind == schema.Enum {
			values := make([]any, 0, len(c.Values)+1)
			for _, v := range c.Values {
				values = append(values, v)
			}
			if nullable {
				values = append(values, nil)
			}
			p["enum"] = values
		}
		props[c.Name] = p
	}
	if !st.Dimension() {
		for _, f := range st.LineageFields() {
			props[f.Name] = typeOf(f.Type, false, d)
		}
	}
	if st.HasRowHash() {
		p := typeOf(arrow.BinaryTypes.String, false, d)
		p["description"] = "FNV-64a hash of the row (its identity columns when it has them all, else its data columns), as a decimal number: the key where LinkedIn documents none"
		props[schema.RowHash] = p
	}
	return map[string]any{
		"$schema":              "http://json-schema.org/draft-07/schema#",
		"type":                 "object",
		"additionalProperties": true,
		"properties":           props,
	}
}

// typeOf is the JSON schema of values of an Arrow type.
func typeOf(t arrow.DataType, nullable bool, d Dialect) map[string]any {
	p := map[string]any{}
	var typ string
	switch t.ID() {
	case arrow.INT64, arrow.INT32:
		typ = "integer"
	case arrow.FLOAT64:
		typ = "number"
	case arrow.BOOL:
		typ = "boolean"
	case arrow.TIMESTAMP:
		typ = "string"
		p["format"] = "date-time"
		if d == Airbyte {
			p["airbyte_type"] = "timestamp_with_timezone"
		}
	case arrow.DATE32:
		typ = "string"
		p["format"] = "date"
	default:
		typ = "string"
	}
	if nullable {
		p["type"] = []any{"null", typ}
	} else {
		p["type"] = typ
	}
	return p
}

// PrimaryKey is the stream's key: the columns that identify a row
// (schema.RowHash where LinkedIn documents none).
func PrimaryKey(st *schema.Stream) []string { return slices.Clone(st.Key) }

// CursorField is the field a stream's state follows, "" for a stream
// loaded whole each sync (contracts): the window's end (_window_end) of an
// analytics export, whose state is the next day to load after the last
// window; the export's end (_next_export_start_at) of a CRM validation
// export, whose state is the server's next start; the lookup time
// (fetchedAt) of profile associations.
func CursorField(st *schema.Stream) string {
	switch {
	case st.Extract == schema.AnalyticsExport:
		return schema.LineageWindowEnd
	case st.PerExport():
		return schema.LineageNextExportStartAt
	case st.Extract == schema.AssociationLookup:
		return st.VersionColumn()
	}
	return ""
}

// Incremental reports whether the stream reads only what is new since its
// state (every stream with a cursor).
func Incremental(st *schema.Stream) bool { return CursorField(st) != "" }
