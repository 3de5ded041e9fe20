// Package chsink loads record batches into ClickHouse over the native
// protocol and keeps the connector's state there.
//
// This file builds DDL and maps types with no I/O. The DDL works on
// ClickHouse 18.16 (Debian's package) and on current ClickHouse alike:
// DateTime('UTC') rather than DateTime64, UInt8 for booleans, no CODEC, TTL
// or Map; LowCardinality needs allow_experimental_low_cardinality_type=1 on
// 18.x, which the sink sends to servers older than 19.3 only (settings.go:
// current servers refuse the name).
package chsink

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/salesnav-etl/salesnav-etl/schema"
)

// RowHashColumn identifies rows of streams with no documented key: a hash
// of the row's data columns.
const RowHashColumn = schema.RowHash

// StateTable holds cursors when ClickHouse is the sink; JobsTable the
// export jobs in flight.
const (
	StateTable = "_salesnav_state"
	JobsTable  = "_salesnav_jobs"
)

// QuoteIdent quotes a name for ClickHouse: backticks, with backslashes and
// backticks escaped. It refuses empty names, invalid UTF-8 and control
// characters (NUL among them), so no name can break out of its quotes.
func QuoteIdent(name string) (string, error) {
	if name == "" || len(name) > 256 || !utf8.ValidString(name) {
		return "", fmt.Errorf("%w: %q", ErrBadIdentifier, name)
	}
	for _, r := range name {
		if unicode.IsControl(r) {
			return "", fmt.Errorf("%w: %q holds a control character", ErrBadIdentifier, name)
		}
	}
	return "`" + strings.NewReplacer(`\`, `\\`, "`", "\\`").Replace(name) + "`", nil
}

// qualified quotes db.name.
func qualified(db, name string) (string, error) {
	qdb, err := QuoteIdent(db)
	if err != nil {
		return "", err
	}
	qn, err := QuoteIdent(name)
	if err != nil {
		return "", err
	}
	return qdb + "." + qn, nil
}

// Column is one ClickHouse column.
type Column struct {
	Name string
	Type string
}

// ColumnType maps an Arrow field to a ClickHouse type. enum marks a column
// of few distinct values (LowCardinality). A dictionary-encoded field
// (transform.WithDictionaries) maps as its values' type.
func ColumnType(f arrow.Field, enum bool) (string, error) {
	if dt, ok := f.Type.(*arrow.DictionaryType); ok {
		f.Type = dt.ValueType
	}
	var t string
	switch dt := f.Type.(type) {
	case *arrow.StringType, *arrow.LargeStringType:
		t = "String"
		if enum && !f.Nullable {
			return "LowCardinality(String)", nil
		}
	case *arrow.Int64Type:
		t = "Int64"
	case *arrow.Float64Type:
		t = "Float64"
	case *arrow.BooleanType:
		t = "UInt8"
	case *arrow.Uint64Type:
		t = "UInt64"
	case *arrow.TimestampType:
		if dt.TimeZone != "UTC" {
			return "", fmt.Errorf("column %s: timestamp zone %q, want UTC", f.Name, dt.TimeZone)
		}
		t = "DateTime('UTC')"
	case *arrow.Date32Type:
		t = "Date"
	default:
		return "", fmt.Errorf("column %s: no ClickHouse type for %s", f.Name, f.Type)
	}
	if f.Nullable {
		t = "Nullable(" + t + ")"
	}
	return t, nil
}

// TableColumns returns a stream's table columns for a batch schema s: the
// schema's fields, then the row hash where the stream's key needs one. A
// day column that an export may lack (Stream.DayOptional) is Nullable
// whatever s says, so exports with and without it share one table.
func TableColumns(st *schema.Stream, s *arrow.Schema) ([]Column, error) {
	var cols []Column
	for _, f := range s.Fields() {
		c, _ := st.Column(f.Name)
		if f.Name == st.DayColumn && st.DayOptional() {
			f.Nullable = true
		}
		t, err := ColumnType(f, c.Kind == schema.Enum)
		if err != nil {
			return nil, fmt.Errorf("stream %s: %w", st.Name, err)
		}
		cols = append(cols, Column{Name: f.Name, Type: t})
	}
	if needsRowHash(st) {
		cols = append(cols, Column{Name: RowHashColumn, Type: "UInt64"})
	}
	return cols, nil
}

func needsRowHash(st *schema.Stream) bool {
	for _, k := range st.Key {
		if k == RowHashColumn {
			return true
		}
	}
	return false
}

// partitionExpr is the stream's PARTITION BY: the month of the record date
// for event streams; the contract and snapshot date for snapshot streams,
// so that a snapshot loaded again replaces its partition whole (REPLACE
// PARTITION), seats that left included. Rows without a record date (a
// DayOptional stream's export that lacks the column) share partition 0:
// ReplacingMergeTree merges duplicates only within a partition, so a row
// extracted again by any window, however it overlaps the first, replaces
// its older copy there.
func partitionExpr(st *schema.Stream) string {
	if st.DayOptional() {
		return "ifNull(toYYYYMM(`" + st.DayColumn + "`), 0)"
	}
	if st.PerExport() {
		return "(`" + schema.LineageCRMInstance + "`, `" + schema.LineageExportStartAt + "`)"
	}
	if st.Snapshot() {
		return "(`" + schema.LineageContract + "`, `" + schema.LineageSnapshotDate + "`)"
	}
	return "toYYYYMM(`" + st.DayColumn + "`)"
}

// SnapshotPartition is the partition of a snapshot stream's (contract,
// date), as a literal.
func SnapshotPartition(contract string, date time.Time) string {
	return fmt.Sprintf("(%s, toDate('%s'))", QuoteString(contract), date.Format(time.DateOnly))
}

// ExportPartition is the partition of a per-export stream's (CRM instance,
// export start), as a literal.
func ExportPartition(instance string, start time.Time) string {
	return fmt.Sprintf("(%s, %d)", QuoteString(instance), start.UnixMilli())
}

// ReplacePartition renders ALTER TABLE … REPLACE PARTITION partition FROM
// stage; partition is a literal (SnapshotPartition, ExportPartition).
func ReplacePartition(db string, st *schema.Stream, partition, stage string) (string, error) {
	t, err := qualified(db, st.Name)
	if err != nil {
		return "", err
	}
	s, err := qualified(db, stage)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("ALTER TABLE %s REPLACE PARTITION %s FROM %s", t, partition, s), nil
}

// QuoteString writes s as a ClickHouse string literal: single quotes, with
// backslash, quote and control bytes escaped, so no value can end it.
func QuoteString(s string) string {
	var b strings.Builder
	b.WriteByte('\'')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			b.WriteString(`\\`)
		case '\'':
			b.WriteString(`\'`)
		case 0:
			b.WriteString(`\0`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('\'')
	return b.String()
}

// CreateTable returns the CREATE TABLE statement of a stream on a single
// server.
func CreateTable(db string, st *schema.Stream, cols []Column) (string, error) {
	return Layout{}.CreateTable(db, st, cols)
}

// CreateTable returns the CREATE TABLE statement of a stream: on a
// cluster, ON CLUSTER and replicated (a dimension to every node; a stream
// within its shard, read through its Distributed table).
func (l Layout) CreateTable(db string, st *schema.Stream, cols []Column) (string, error) {
	table, err := qualified(db, st.Name)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "CREATE TABLE IF NOT EXISTS %s%s\n", table, l.onCluster())
	if err := writeColumns(&b, cols); err != nil {
		return "", err
	}
	if err := l.writeEngine(&b, db, st, st.Dimension()); err != nil {
		return "", err
	}
	return b.String(), nil
}

// writeEngine writes the ENGINE, PARTITION BY and ORDER BY of a stream's
// table; global places a replicated table on every node of the cluster.
func (l Layout) writeEngine(b *strings.Builder, db string, st *schema.Stream, global bool) error {
	key := make([]string, len(st.Key))
	var err error
	for i, k := range st.Key {
		if key[i], err = QuoteIdent(k); err != nil {
			return err
		}
	}
	// ReplacingMergeTree keeps the newest version of each key.
	qv, err := QuoteIdent(st.VersionColumn())
	if err != nil {
		return err
	}
	fmt.Fprintf(b, "\nENGINE = %s\n", l.engine(db, st.Name, qv, global))
	if !st.Dimension() {
		fmt.Fprintf(b, "PARTITION BY %s\n", partitionExpr(st))
	}
	fmt.Fprintf(b, "ORDER BY (%s)", strings.Join(key, ", "))
	return nil
}

// writeColumns writes a parenthesised column list, one column a line.
func writeColumns(b *strings.Builder, cols []Column) error {
	b.WriteString("(\n")
	for i, c := range cols {
		qc, err := QuoteIdent(c.Name)
		if err != nil {
			return err
		}
		sep := ","
		if i == len(cols)-1 {
			sep = ""
		}
		fmt.Fprintf(b, "    %s %s%s\n", qc, c.Type, sep)
	}
	b.WriteString(")")
	return nil
}

// ViewName is the name of a stream's deduplicated view.
func ViewName(stream string) string { return stream + "_final" }

// CreateView returns the statement of a stream's view on a single server.
func CreateView(db string, st *schema.Stream) (string, error) { return Layout{}.CreateView(db, st) }

// CreateView returns the statement of a stream's view: the table read with
// FINAL, so analysts see one row per key without knowing about FINAL. A
// dimension's view shows only the rows of its latest load (seen last), as
// the Parquet file does, unless the dimension is merged by key. On a
// cluster a stream's view reads its Distributed table (each shard applies
// FINAL to its rows: a key's rows all live on one shard); a dimension's
// reads its local table, which every node holds whole.
func (l Layout) CreateView(db string, st *schema.Stream) (string, error) {
	src := st.Name
	if l.Sharded(st) {
		src = DistName(st.Name)
	}
	table, err := qualified(db, src)
	if err != nil {
		return "", err
	}
	view, err := qualified(db, ViewName(st.Name))
	if err != nil {
		return "", err
	}
	stmt := fmt.Sprintf("CREATE VIEW IF NOT EXISTS %s%s AS SELECT * FROM %s FINAL", view, l.onCluster(), table)
	if st.Dimension() && !st.Merge() {
		v, err := QuoteIdent(st.VersionColumn())
		if err != nil {
			return "", err
		}
		stmt += fmt.Sprintf(" WHERE %s = (SELECT max(%s) FROM %s)", v, v, table)
	}
	return stmt, nil
}

// DropView returns the statement that drops a stream's view (before it is
// created again with new columns: a ClickHouse view keeps the columns it
// was created with).
func DropView(db, stream string) (string, error) { return Layout{}.DropView(db, stream) }

// DropView drops a stream's view, on every node of a cluster.
func (l Layout) DropView(db, stream string) (string, error) {
	view, err := qualified(db, ViewName(stream))
	if err != nil {
		return "", err
	}
	return "DROP TABLE IF EXISTS " + view + l.onCluster(), nil
}

// AddColumn returns the statement adding a drift column (18.16 has no
// ADD COLUMN IF NOT EXISTS; the caller checks system.columns first).
func AddColumn(db, table string, c Column) (string, error) {
	return Layout{}.AddColumn(db, table, c, false)
}

// AddColumn returns the statement adding a column to table. On a cluster
// a table replicated within each shard (sharded) is altered ON CLUSTER,
// once per shard; a table replicated to every node is altered here, and
// replication carries the change.
func (l Layout) AddColumn(db, table string, c Column, sharded bool) (string, error) {
	t, err := qualified(db, table)
	if err != nil {
		return "", err
	}
	qc, err := QuoteIdent(c.Name)
	if err != nil {
		return "", err
	}
	on := ""
	if sharded {
		on = l.onCluster()
	}
	return fmt.Sprintf("ALTER TABLE %s%s ADD COLUMN %s %s", t, on, qc, c.Type), nil
}

// CreateStateTable returns the state table's statement on a single server.
func CreateStateTable(db string) (string, error) { return Layout{}.CreateStateTable(db) }

// CreateStateTable returns the state table's statement: one row per
// (stream, contract), the newest version wins; deleted marks a reset.
// cursor_ms holds the cursor to the millisecond (CRM validation's
// nextExportStartAt); cursor, its day, stays for people and older rows.
// On a cluster it is replicated to every node.
func (l Layout) CreateStateTable(db string) (string, error) {
	t, err := qualified(db, StateTable)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s%s\n(\n    `stream` String,\n    `contract` String,\n    `cursor` Date,\n    `cursor_ms` Int64,\n    `updated_at` DateTime('UTC'),\n    `deleted` UInt8,\n    `version` UInt64\n)\nENGINE = %s\nORDER BY (`stream`, `contract`)",
		t, l.onCluster(), l.engine(db, StateTable, "`version`", true)), nil
}

// cursorMs is the state table's column added after its first version:
// tables created before it gain it on open.
var cursorMs = Column{Name: "cursor_ms", Type: "Int64"}

// CreateJobsTable returns the jobs table's statement on a single server.
func CreateJobsTable(db string) (string, error) { return Layout{}.CreateJobsTable(db) }

// CreateJobsTable returns the statement of the table of jobs in flight:
// one row per (stream, contract), the newest version wins; active 0 means
// none in flight. On a cluster it is replicated to every node.
func (l Layout) CreateJobsTable(db string) (string, error) {
	t, err := qualified(db, JobsTable)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s%s\n(\n    `stream` String,\n    `contract` String,\n    `job_id` Int64,\n    `window_start` Date,\n    `window_end` Date,\n    `created_at` DateTime('UTC'),\n    `active` UInt8,\n    `version` UInt64\n)\nENGINE = %s\nORDER BY (`stream`, `contract`)",
		t, l.onCluster(), l.engine(db, JobsTable, "`version`", true)), nil
}

// CreateDatabase returns CREATE DATABASE IF NOT EXISTS.
func CreateDatabase(db string) (string, error) { return Layout{}.CreateDatabase(db) }

// CreateDatabase returns CREATE DATABASE IF NOT EXISTS, on every node of a
// cluster.
func (l Layout) CreateDatabase(db string) (string, error) {
	qdb, err := QuoteIdent(db)
	if err != nil {
		return "", err
	}
	return "CREATE DATABASE IF NOT EXISTS " + qdb + l.onCluster(), nil
}

// InsertColumns renders an explicit column list for INSERT, which 18.16
// needs for PrepareBatch.
func InsertColumns(db, table string, cols []string) (string, error) {
	t, err := qualified(db, table)
	if err != nil {
		return "", err
	}
	q := make([]string, len(cols))
	for i, c := range cols {
		if strings.ContainsAny(c, "`\\") {
			// ClickHouse takes them escaped, but clickhouse-go parses the
			// column list itself and does not unescape them.
			return "", fmt.Errorf("%w: column %q holds a backtick or a backslash, which clickhouse-go cannot insert into", ErrBadIdentifier, c)
		}
		if q[i], err = QuoteIdent(c); err != nil {
			return "", fmt.Errorf("column %q: %w", c, err)
		}
	}
	return fmt.Sprintf("INSERT INTO %s (%s)", t, strings.Join(q, ", ")), nil
}

// StreamDDL returns every statement that creates a stream's table and view
// for the stream's full known schema (all known columns and lineage) on a
// single server.
func StreamDDL(db string, st *schema.Stream) ([]string, error) { return Layout{}.StreamDDL(db, st) }

// StreamDDL returns every statement that creates a stream's table (and on
// a cluster its Distributed table) and view for the stream's full known
// schema (all known columns and lineage).
func (l Layout) StreamDDL(db string, st *schema.Stream) ([]string, error) {
	fields := make([]arrow.Field, 0, len(st.Columns)+6)
	for _, c := range st.Columns {
		fields = append(fields, c.Field())
	}
	if !st.Dimension() {
		fields = append(fields, st.LineageFields()...)
	}
	cols, err := TableColumns(st, arrow.NewSchema(fields, nil))
	if err != nil {
		return nil, err
	}
	t, err := l.CreateTable(db, st, cols)
	if err != nil {
		return nil, err
	}
	out := []string{t}
	if l.Sharded(st) {
		d, err := l.CreateDistributed(db, st, cols)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	v, err := l.CreateView(db, st)
	if err != nil {
		return nil, err
	}
	return append(out, v), nil
}
