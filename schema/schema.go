// Package schema describes the CSV exports of the Sales Navigator API as
// typed columns, and maps them to Apache Arrow schemas.
//
// Only the activity export's columns are documented in full by LinkedIn.
// The columns of the seat and activity outcome exports beyond the documented
// ones are assumptions (Column.Assumed): the transform works from the header
// it receives, types the columns it knows, keeps unknown ones as nullable
// strings and reports them as drift, so a guess here never loses data.
package schema

import (
	"github.com/apache/arrow-go/v18/arrow"
)

// Kind is a column's logical type.
type Kind int

// Column kinds.
const (
	String Kind = iota
	Int64
	Float64
	Bool
	// Timestamp is a CSV time "MM-DD-YYYY HH:MM:SS" in UTC, stored as
	// timestamp[ms, UTC].
	Timestamp
	// Date is "YYYY-MM-DD", stored as date32.
	Date
	// Enum is a string restricted to Column.Values.
	Enum
)

func (k Kind) String() string {
	return [...]string{"string", "int64", "float64", "bool", "timestamp", "date", "enum"}[k]
}

// TimestampType is the Arrow type of every timestamp column.
var TimestampType = &arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: "UTC"}

// ArrowType maps a kind to its Arrow type.
func (k Kind) ArrowType() arrow.DataType {
	switch k {
	case Int64:
		return arrow.PrimitiveTypes.Int64
	case Float64:
		return arrow.PrimitiveTypes.Float64
	case Bool:
		return arrow.FixedWidthTypes.Boolean
	case Timestamp:
		return TimestampType
	case Date:
		return arrow.FixedWidthTypes.Date32
	default:
		return arrow.BinaryTypes.String
	}
}

// Column is one CSV column.
type Column struct {
	Name string
	Kind Kind
	// Required columns must be in the header; a missing one is an error.
	Required bool
	// Nullable columns accept an empty value, read as null. An empty value
	// in a column that is not nullable rejects the row.
	Nullable bool
	// Values are the allowed values of an Enum column.
	Values []string
	// Assumed marks a column that LinkedIn does not document: its name or
	// type is this project's assumption.
	Assumed bool
	// Distinct marks a column whose values are (nearly) all different within
	// an export, such as an id or a time to the second: writers skip
	// dictionary encoding for it, which would only cost time (make bench:
	// the Parquet path 10-15% faster, files smaller).
	Distinct bool
}

// Field returns the column's Arrow field.
func (c Column) Field() arrow.Field {
	return arrow.Field{Name: c.Name, Type: c.Kind.ArrowType(), Nullable: c.Nullable}
}

// Lineage column names. Every loaded row carries them; the leading
// underscore keeps them apart from the API's own columns.
const (
	LineageContract     = "_contract"      // contract URN
	LineageWindowStart  = "_window_start"  // export window start, inclusive
	LineageWindowEnd    = "_window_end"    // export window end, inclusive (last ms)
	LineageJobID        = "_job_id"        // export job id
	LineageExtractedAt  = "_extracted_at"  // when the file was downloaded
	LineageSnapshotDate = "_snapshot_date" // snapshot streams only: the snapshot's date

	// Per-export streams (CRM validation) replace _contract, _window_start
	// and _window_end with these. The export bounds are epoch milliseconds,
	// exactly as the API writes them: _export_start_at is the partition key,
	// and ClickHouse 18.16 has no millisecond DateTime.
	LineageCRMInstance       = "_crm_instance"         // CRM instance URN
	LineageExportStartAt     = "_export_start_at"      // exportStartAt sent, epoch ms
	LineageNextExportStartAt = "_next_export_start_at" // the job's nextExportStartAt, epoch ms
)

// PartitionKeys are the Hive partition keys of the Parquet layout
// (…/contract=<id>/date=YYYY-MM-DD/). A CSV column of the same name would
// be hidden by them in readers, so the transform loads such a column as
// DriftPrefix + name.
var PartitionKeys = []string{"contract", "date"}

// ExportPartitionKeys are the Hive keys of per-export streams
// (…/crm_instance=<id>/export_start_at=<epoch ms>/).
var ExportPartitionKeys = []string{"crm_instance", "export_start_at"}

// RowHash is the column that identifies rows of streams with no documented
// key: a hash of the row's data columns (or of its Identity columns).
const RowHash = "_row_hash"

// DriftPrefix renames a drift column that collides with a partition key.
const DriftPrefix = "csv_"

// IsLineage reports whether name is reserved for a lineage column.
func IsLineage(name string) bool {
	switch name {
	case LineageContract, LineageWindowStart, LineageWindowEnd, LineageJobID, LineageExtractedAt, LineageSnapshotDate,
		LineageCRMInstance, LineageExportStartAt, LineageNextExportStartAt:
		return true
	}
	return false
}
