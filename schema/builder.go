package schema

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Builder builds record batches of one schema, its columns found by name,
// never by position. It is an array.RecordBuilder: the caller releases it.
type Builder struct {
	*array.RecordBuilder
}

// NewBuilder returns a Builder of s allocating from mem.
func NewBuilder(mem memory.Allocator, s *arrow.Schema) *Builder {
	return &Builder{array.NewRecordBuilder(mem, s)}
}

// Col returns the builder of the column called name. A name the schema
// lacks is a programming error: it panics, naming the column.
func (b *Builder) Col(name string) array.Builder {
	idx := b.Schema().FieldIndices(name)
	if len(idx) != 1 {
		panic(fmt.Sprintf("schema.Builder: %d columns named %q in %s", len(idx), name, b.Schema()))
	}
	return b.Field(idx[0])
}

// String appends v to the string column name.
func (b *Builder) String(name, v string) { b.Col(name).(*array.StringBuilder).Append(v) }

// OptString appends v to the string column name, or null when v is nil or
// empty.
func (b *Builder) OptString(name string, v *string) {
	if v == nil || *v == "" {
		b.Col(name).AppendNull()
		return
	}
	b.String(name, *v)
}

// LineageNames names a stream's lineage columns by what they hold.
type LineageNames struct {
	Owner        string // the contract, or a per-export stream's CRM instance
	Start, End   string // the window's bounds, or the export's (epoch ms)
	JobID        string
	ExtractedAt  string
	SnapshotDate string // snapshot streams only; "" otherwise
}

// Lineage returns the names of the stream's lineage columns
// (LineageFields holds their types).
func (s *Stream) Lineage() LineageNames {
	n := LineageNames{Owner: LineageContract, Start: LineageWindowStart, End: LineageWindowEnd, JobID: LineageJobID, ExtractedAt: LineageExtractedAt}
	if s.PerExport() {
		n.Owner, n.Start, n.End = LineageCRMInstance, LineageExportStartAt, LineageNextExportStartAt
	}
	if s.Snapshot() {
		n.SnapshotDate = LineageSnapshotDate
	}
	return n
}
