package schema

import (
	"errors"
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
)

// HiveKeys returns the stream's Hive partition keys.
func (s *Stream) HiveKeys() []string {
	if s.PerExport() {
		return ExportPartitionKeys
	}
	return PartitionKeys
}

// Stream is one stream, declared once: its columns and key, how its rows
// are partitioned and written, and how it is extracted. The sinks, the
// pipeline, the fake API, the DDL and the CLI derive everything else from
// it. Validate refuses a declaration that contradicts itself.
type Stream struct {
	// Name is the stream's name: the dataset directory and table name.
	Name string
	// Columns are the known CSV columns, in their documented order.
	Columns []Column
	// Key lists the columns that identify a row: the documented key
	// columns, or "_row_hash" where none is known.
	Key []string
	// Identity lists the columns hashed into "_row_hash" when they all
	// have values; without them the hash covers every data column.
	Identity []string
	// Version is the column whose newest value wins among rows of one key
	// (default LineageExtractedAt).
	Version string

	// Partitioning is how rows are split into partitions; DayColumn is the
	// Timestamp column whose UTC day partitions a ByRecordDay stream. A
	// DayColumn that is not Required (an assumed one) may be absent from an
	// export: its rows then have no day, and go to the window's first day
	// (Parquet) or to one partition of their own (ClickHouse); see
	// DayOptional.
	Partitioning Partitioning
	DayColumn    string
	// Write is how a load meets the rows already there.
	Write WriteMode
	// Extract is how the rows are extracted; Action is the API action of
	// an AnalyticsExport.
	Extract Extraction
	Action  string
	// DefaultOn puts the stream in the default SALESNAV_STREAMS.
	DefaultOn bool
}

// Partitioning is how a stream's rows are split: a closed set.
type Partitioning int

const (
	// ByRecordDay partitions rows by the UTC day of the stream's
	// DayColumn (events): Hive keys contract and date.
	ByRecordDay Partitioning = iota + 1
	// SnapshotDay makes each window one snapshot, dated by the window's
	// last day (_snapshot_date): Hive keys contract and date.
	SnapshotDay
	// PerExportJob makes each export job one partition, owned by a CRM
	// instance and keyed by the export's start: the server's cursor, not a
	// date window, bounds it. Hive keys crm_instance and export_start_at.
	PerExportJob
	// WholeTable is a dimension: no windows, no lineage, no partitions.
	WholeTable
)

func (p Partitioning) String() string {
	switch p {
	case ByRecordDay:
		return "by record day"
	case SnapshotDay:
		return "snapshot day"
	case PerExportJob:
		return "per export job"
	case WholeTable:
		return "whole table"
	}
	return fmt.Sprintf("Partitioning(%d)", int(p))
}

// WriteMode is how a load meets the rows already there.
type WriteMode int

const (
	// Replace replaces what the load covers whole: a snapshot's or an
	// export's partition, or a dimension's table.
	Replace WriteMode = iota + 1
	// MergeByKey inserts rows; a row of a key already there replaces it
	// (the newest Version wins), other rows stay.
	MergeByKey
)

func (m WriteMode) String() string {
	switch m {
	case Replace:
		return "replace"
	case MergeByKey:
		return "merge by key"
	}
	return fmt.Sprintf("WriteMode(%d)", int(m))
}

// Extraction is how a stream's rows are extracted.
type Extraction int

const (
	// AnalyticsExport is an analytics export job of the stream's Action,
	// per contract and window (member token).
	AnalyticsExport Extraction = iota + 1
	// CRMValidationExport is a CRM data validation export job per CRM
	// instance, of one or several files (application token).
	CRMValidationExport
	// AssociationLookup looks up the profile of each CRM record loaded
	// (application token).
	AssociationLookup
	// ContractsList lists the member's contracts (member token).
	ContractsList
)

func (e Extraction) String() string {
	switch e {
	case AnalyticsExport:
		return "analytics export"
	case CRMValidationExport:
		return "CRM validation export"
	case AssociationLookup:
		return "association lookup"
	case ContractsList:
		return "contracts list"
	}
	return fmt.Sprintf("Extraction(%d)", int(e))
}

// AppToken reports whether the extraction calls the API with the
// application's client-credentials token rather than the member's.
func (e Extraction) AppToken() bool { return e == CRMValidationExport || e == AssociationLookup }

// Snapshot reports whether the stream is a snapshot per window (seat).
func (s *Stream) Snapshot() bool { return s.Partitioning == SnapshotDay }

// PerExport reports whether each export job is one partition (CRM data
// validation).
func (s *Stream) PerExport() bool { return s.Partitioning == PerExportJob }

// Dimension reports whether the stream is a table loaded whole or merged
// (contracts, profile associations), not windows of exports.
func (s *Stream) Dimension() bool { return s.Partitioning == WholeTable }

// Merge reports whether loads are merged by key: a row loaded again
// replaces the older one, other rows stay.
func (s *Stream) Merge() bool { return s.Write == MergeByKey }

// ReplacesPartitions reports whether a window replaces its partition
// whole (a snapshot, an export), rather than merging rows by key.
func (s *Stream) ReplacesPartitions() bool { return !s.Dimension() && s.Write == Replace }

// Validate reports every contradiction in the declaration.
func (s *Stream) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("stream %q: "+format, append([]any{s.Name}, args...)...))
	}
	if s.Name == "" || strings.Trim(s.Name, "abcdefghijklmnopqrstuvwxyz0123456789_") != "" {
		bad("the name must be lower-case letters, digits and _")
	}
	if len(s.Columns) == 0 {
		bad("no columns")
	}
	seen := map[string]bool{}
	for _, c := range s.Columns {
		switch {
		case c.Name == "":
			bad("a column has no name")
		case seen[c.Name]:
			bad("column %s is declared twice", c.Name)
		case IsLineage(c.Name):
			bad("column %s uses a lineage name", c.Name)
		}
		seen[c.Name] = true
		if c.Kind == Enum && len(c.Values) == 0 {
			bad("enum column %s has no values", c.Name)
		}
		if c.Assumed && c.Required {
			// Only what LinkedIn documents may stop a window when absent.
			bad("column %s is assumed (undocumented), so it cannot be required", c.Name)
		}
	}
	if len(s.Key) == 0 {
		bad("no key")
	}
	for _, k := range s.Key {
		if !seen[k] && !IsLineage(k) && k != RowHash {
			bad("key column %s is not a column", k)
		}
	}
	for _, k := range s.Identity {
		if !seen[k] {
			bad("identity column %s is not a column", k)
		}
	}
	if s.Version != "" && !seen[s.Version] {
		bad("version column %s is not a column", s.Version)
	}
	switch s.Partitioning {
	case ByRecordDay:
		if c, ok := s.Column(s.DayColumn); !ok || c.Kind != Timestamp || c.Nullable {
			bad("partitioned by record day: DayColumn %q must be a non-null timestamp column", s.DayColumn)
		}
		if s.Write != MergeByKey {
			bad("partitioned by record day: windows overlap days, so rows must merge by key, not %s", s.Write)
		}
	case SnapshotDay, PerExportJob:
		if s.Write != Replace {
			bad("partitioned %s: a window replaces its partition, not %s", s.Partitioning, s.Write)
		}
	case WholeTable:
		if s.Write != Replace && s.Write != MergeByKey {
			bad("no write mode")
		}
	default:
		bad("no partitioning")
	}
	if s.DayColumn != "" && s.Partitioning != ByRecordDay {
		bad("DayColumn %q is only for partitioning by record day", s.DayColumn)
	}
	want := map[Extraction]func(Partitioning) bool{
		AnalyticsExport:     func(p Partitioning) bool { return p == ByRecordDay || p == SnapshotDay },
		CRMValidationExport: func(p Partitioning) bool { return p == PerExportJob },
		AssociationLookup:   func(p Partitioning) bool { return p == WholeTable },
		ContractsList:       func(p Partitioning) bool { return p == WholeTable },
	}
	if ok, known := want[s.Extract]; !known {
		bad("no extraction")
	} else if !ok(s.Partitioning) {
		bad("a %s cannot be partitioned %s", s.Extract, s.Partitioning)
	}
	if (s.Extract == AnalyticsExport) != (s.Action != "") {
		bad("an Action goes with, and only with, an analytics export")
	}
	return errors.Join(errs...)
}

// DayOptional reports whether the DayColumn of a stream partitioned by
// record day may be absent from an export (it is not Required): rows of
// such an export have no day. Where a present DayColumn is empty, the row
// is rejected as in any non-null column.
func (s *Stream) DayOptional() bool {
	c, ok := s.Column(s.DayColumn)
	return s.Partitioning == ByRecordDay && ok && !c.Required
}

// VersionColumn is the column ordering duplicates of a key.
func (s *Stream) VersionColumn() string {
	if s.Version != "" {
		return s.Version
	}
	return LineageExtractedAt
}

// OwnerColumn is the lineage column naming who a row was exported for: the
// contract, or the CRM instance of a per-export stream.
func (s *Stream) OwnerColumn() string {
	if s.PerExport() {
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

// CSVHeader is the header line of an export of the stream's known
// columns: an empty export's whole file.
func (s *Stream) CSVHeader() string { return strings.Join(s.ColumnNames(), ",") + "\n" }

// LineageFields returns the stream's lineage fields, in order.
func (s *Stream) LineageFields() []arrow.Field {
	if s.PerExport() {
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

// Schema is the Arrow schema of a dimension's rows.
func (s *Stream) Schema() *arrow.Schema {
	fields := make([]arrow.Field, len(s.Columns))
	for i, c := range s.Columns {
		fields[i] = c.Field()
	}
	return arrow.NewSchema(fields, nil)
}
