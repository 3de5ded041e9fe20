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
	"fmt"
	"slices"

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

// HiveKeys returns the stream's Hive partition keys.
func (s *Stream) HiveKeys() []string {
	if s.PerExport {
		return ExportPartitionKeys
	}
	return PartitionKeys
}

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

// Stream is one export.
type Stream struct {
	// Name is the stream's name: the dataset directory and table name.
	Name string
	// Action is the API action that creates its export job.
	Action string
	// Columns are the known CSV columns, in their documented order.
	Columns []Column
	// PartitionColumn is the Timestamp column whose UTC date partitions the
	// rows. Empty for snapshot streams, partitioned by snapshot date.
	PartitionColumn string
	// Key lists the columns that identify a row: the documented key
	// columns, or "_row_hash" where none is known.
	Key []string
	// Identity lists the columns hashed into "_row_hash" when they all
	// have values; without them the hash covers every data column.
	Identity []string
	// Dimension marks a table that is not an export (contracts, profile
	// associations): no windows, no lineage, no partitions. It is replaced
	// whole on each load, unless Merge is set.
	Dimension bool
	// Merge marks a dimension whose loads are merged by Key: a row loaded
	// again replaces the older one, other rows stay.
	Merge bool
	// PerExport marks a stream whose every export job is one partition,
	// owned by a CRM instance and keyed by the export's start (CRM data
	// validation): the server's cursor, not a date window, bounds it.
	PerExport bool
	// Version is the column whose newest value wins among rows of one key
	// (default LineageExtractedAt).
	Version string
}

// VersionColumn is the column ordering duplicates of a key.
func (s *Stream) VersionColumn() string {
	if s.Version != "" {
		return s.Version
	}
	return LineageExtractedAt
}

// Snapshot reports whether the stream is a snapshot per window (seat)
// rather than events with their own dates or per-export files.
func (s *Stream) Snapshot() bool { return s.PartitionColumn == "" && !s.PerExport && !s.Dimension }

// OwnerColumn is the lineage column naming who a row was exported for: the
// contract, or the CRM instance of a per-export stream.
func (s *Stream) OwnerColumn() string {
	if s.PerExport {
		return LineageCRMInstance
	}
	return LineageContract
}

// Column returns the known column called name.
func (s *Stream) Column(name string) (Column, bool) {
	for _, c := range s.Columns {
		if c.Name == name {
			return c, true
		}
	}
	return Column{}, false
}

// ColumnNames returns the names of the stream's known columns, in their
// documented order: an export's header.
func (s *Stream) ColumnNames() []string {
	names := make([]string, len(s.Columns))
	for i, c := range s.Columns {
		names[i] = c.Name
	}
	return names
}

// LineageFields returns the stream's lineage fields, in order.
func (s *Stream) LineageFields() []arrow.Field {
	if s.PerExport {
		return []arrow.Field{
			{Name: LineageCRMInstance, Type: arrow.BinaryTypes.String},
			{Name: LineageExportStartAt, Type: arrow.PrimitiveTypes.Int64},
			{Name: LineageNextExportStartAt, Type: arrow.PrimitiveTypes.Int64},
			{Name: LineageJobID, Type: arrow.PrimitiveTypes.Int64},
			{Name: LineageExtractedAt, Type: TimestampType},
		}
	}
	f := []arrow.Field{
		{Name: LineageContract, Type: arrow.BinaryTypes.String},
		{Name: LineageWindowStart, Type: TimestampType},
		{Name: LineageWindowEnd, Type: TimestampType},
		{Name: LineageJobID, Type: arrow.PrimitiveTypes.Int64},
		{Name: LineageExtractedAt, Type: TimestampType},
	}
	if s.Snapshot() {
		f = append(f, arrow.Field{Name: LineageSnapshotDate, Type: arrow.FixedWidthTypes.Date32})
	}
	return f
}

// ActivityTypes are the seven documented activity types.
var ActivityTypes = []string{
	"SAVED_LEAD", "SAVED_ACCOUNT", "SEARCH_PERFORMED", "PROFILE_VIEWED",
	"INMAIL_SENT", "MESSAGE_SENT", "CONNECTION_MADE",
}

// Activity is the activity export (exportActivityData), documented in full.
var Activity = &Stream{
	Name:   "activity",
	Action: "exportActivityData",
	Columns: []Column{
		{Name: "activityId", Kind: String, Required: true, Distinct: true},
		{Name: "activityType", Kind: Enum, Required: true, Values: ActivityTypes},
		{Name: "createdAt", Kind: Timestamp, Required: true, Distinct: true},
		{Name: "seatId", Kind: Int64, Required: true},
		{Name: "memberIdentityKey", Kind: String, Required: false, Nullable: true}, // a member's activities repeat it
	},
	PartitionColumn: "createdAt",
	Key:             []string{LineageContract, "activityId"},
}

// ActivityOutcome is the activity outcome export
// (exportActivityOutcomeData). LinkedIn documents only that it starts with
// activityId and activityType; the outcome types are not listed, so
// activityType is a plain string. createdAt (the outcome's time, used to
// partition rows by date) and seatId are assumptions.
var ActivityOutcome = &Stream{
	Name:   "activity_outcome",
	Action: "exportActivityOutcomeData",
	Columns: []Column{
		{Name: "activityId", Kind: String, Required: true, Distinct: true},
		{Name: "activityType", Kind: String, Required: true},
		{Name: "createdAt", Kind: Timestamp, Required: true, Assumed: true, Distinct: true},
		{Name: "seatId", Kind: Int64, Nullable: true, Assumed: true},
	},
	PartitionColumn: "createdAt",
	Key:             []string{LineageContract, "activityId", "activityType"},
}

// Seat is the seat export (exportSeatData): one row per seat holder, a
// snapshot per export window. LinkedIn names its content (name, seat status,
// Social Selling Index scores, total connections) but not its columns: every
// column name here is an assumption, and none is required.
var Seat = &Stream{
	Name:   "seat",
	Action: "exportSeatData",
	Columns: []Column{
		{Name: "seatId", Kind: Int64, Nullable: true, Assumed: true},
		{Name: "firstName", Kind: String, Nullable: true, Assumed: true},
		{Name: "lastName", Kind: String, Nullable: true, Assumed: true},
		{Name: "seatStatus", Kind: String, Nullable: true, Assumed: true},
		{Name: "socialSellingIndex", Kind: Float64, Nullable: true, Assumed: true},
		{Name: "ssiProfessionalBrand", Kind: Float64, Nullable: true, Assumed: true},
		{Name: "ssiFindRightPeople", Kind: Float64, Nullable: true, Assumed: true},
		{Name: "ssiEngageWithInsights", Kind: Float64, Nullable: true, Assumed: true},
		{Name: "ssiBuildRelationships", Kind: Float64, Nullable: true, Assumed: true},
		{Name: "totalConnections", Kind: Int64, Nullable: true, Assumed: true},
	},
	// No column of the seat export is documented, so rows are told apart
	// by a hash (computed by the ClickHouse sink) of seatId, an assumed
	// column, when the row has one, and of all its data columns otherwise:
	// a snapshot extracted again replaces its seats, and a guess about the
	// column name can never merge two different rows.
	Key:      []string{LineageContract, LineageSnapshotDate, "_row_hash"},
	Identity: []string{"seatId"},
}

// Contracts is the dimension of the contracts the member can see, loaded
// whole each run. seenAt is when the run listed them.
var Contracts = &Stream{
	Name:      "contracts",
	Dimension: true,
	Columns: []Column{
		{Name: "contract", Kind: String, Required: true},
		{Name: "name", Kind: String, Nullable: true},
		{Name: "description", Kind: String, Nullable: true},
		{Name: "hasReportingAccess", Kind: Bool},
		{Name: "seenAt", Kind: Timestamp},
	},
	Key:     []string{"contract"},
	Version: "seenAt",
}

// CRMRecordIDColumn is the CRM validation column holding the CRM record
// id, the recordId of a profile association key (an assumption).
const CRMRecordIDColumn = "recordId"

// CRMValidation is the CRM data validation export: CRM contact and lead
// records whose company on LinkedIn no longer matches the CRM. LinkedIn
// does not publish its columns: every name here is an assumption, none is
// required, and all are strings so that a wrong guess about a format
// rejects nothing. Each export is one partition, replaced whole when the
// same exportStartAt is extracted again (after a crash before the cursor
// was saved). Rows are told apart by a hash of all their data columns.
var CRMValidation = &Stream{
	Name:      "crm_validation",
	PerExport: true,
	Columns: []Column{
		{Name: CRMRecordIDColumn, Kind: String, Nullable: true, Assumed: true},
		{Name: "recordType", Kind: String, Nullable: true, Assumed: true},
		{Name: "firstName", Kind: String, Nullable: true, Assumed: true},
		{Name: "lastName", Kind: String, Nullable: true, Assumed: true},
		{Name: "crmCompanyName", Kind: String, Nullable: true, Assumed: true},
		{Name: "linkedInCompanyName", Kind: String, Nullable: true, Assumed: true},
		{Name: "detectedAt", Kind: String, Nullable: true, Assumed: true},
	},
	Key: []string{LineageCRMInstance, LineageExportStartAt, "_row_hash"},
}

// Association statuses.
const (
	AssociationMatched   = "MATCHED"   // a profile was found
	AssociationUnmatched = "UNMATCHED" // no confident match (404): not a failure
	AssociationError     = "ERROR"     // the API reported an error for the key
)

// ProfileAssociations holds the Sales Navigator profile matched to each CRM
// record looked up: one row per key, the newest lookup wins.
var ProfileAssociations = &Stream{
	Name:      "profile_associations",
	Dimension: true,
	Merge:     true,
	Columns: []Column{
		{Name: "instanceId", Kind: String, Required: true},
		{Name: "partner", Kind: String, Required: true},
		{Name: "recordId", Kind: String, Required: true},
		{Name: "status", Kind: Enum, Required: true, Values: []string{AssociationMatched, AssociationUnmatched, AssociationError}},
		{Name: "httpStatus", Kind: Int64},
		{Name: "member", Kind: String, Nullable: true},
		{Name: "profile", Kind: String, Nullable: true},
		{Name: "profilePhoto", Kind: String, Nullable: true},
		{Name: "error", Kind: String, Nullable: true},
		{Name: "fetchedAt", Kind: Timestamp},
	},
	Key:     []string{"instanceId", "partner", "recordId"},
	Version: "fetchedAt",
}

// Streams lists the analytics export streams in their default run order.
var Streams = []*Stream{Seat, Activity, ActivityOutcome}

// CRMStreams lists the streams of CRM data: the validation exports, then
// the profile associations looked up for their records.
var CRMStreams = []*Stream{CRMValidation, ProfileAssociations}

// Dimensions lists the tables loaded whole each run.
var Dimensions = []*Stream{Contracts}

// All returns every stream and dimension.
func All() []*Stream {
	return slices.Concat(Dimensions, Streams, CRMStreams)
}

// Lookup returns the stream or dimension called name.
func Lookup(name string) (*Stream, error) {
	all := All()
	i := slices.IndexFunc(all, func(s *Stream) bool { return s.Name == name })
	if i < 0 {
		names := make([]string, len(all))
		for j, s := range all {
			names[j] = s.Name
		}
		return nil, fmt.Errorf("unknown stream %q (known: %v)", name, names)
	}
	return all[i], nil
}

// Schema is the Arrow schema of a dimension's rows.
func (s *Stream) Schema() *arrow.Schema {
	fields := make([]arrow.Field, len(s.Columns))
	for i, c := range s.Columns {
		fields[i] = c.Field()
	}
	return arrow.NewSchema(fields, nil)
}
