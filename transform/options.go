package transform

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Reject is one row that was not loaded, and why.
type Reject struct {
	Stream string   `json:"stream"`
	Source string   `json:"source,omitempty"`
	Line   int      `json:"line"`
	Column string   `json:"column,omitempty"`
	Value  string   `json:"value"`
	Reason string   `json:"reason"`
	Record []string `json:"record"`
}

// RejectSink receives rejected rows. An error from it stops the Reader.
type RejectSink interface {
	Reject(r Reject) error
}

// RejectFunc adapts a function to RejectSink.
type RejectFunc func(Reject) error

// Reject calls f.
func (f RejectFunc) Reject(r Reject) error { return f(r) }

type config struct {
	mem         memory.Allocator
	batchSize   int
	lineage     *Lineage
	rejects     RejectSink
	source      string
	invalidUTF8 InvalidUTF8
	maxRecord   int64
	dict        bool
}

// Option configures a Reader.
type Option func(*config)

// WithAllocator sets the allocator of the record batches.
func WithAllocator(mem memory.Allocator) Option { return func(c *config) { c.mem = mem } }

// WithBatchSize sets the rows per record batch (default DefaultBatchSize).
func WithBatchSize(n int) Option { return func(c *config) { c.batchSize = n } }

// WithLineage appends the lineage columns to every batch, with these values.
func WithLineage(l Lineage) Option { return func(c *config) { c.lineage = &l } }

// WithRejects sends rejected rows to s. Without it rejects are only counted.
func WithRejects(s RejectSink) Option { return func(c *config) { c.rejects = s } }

// WithSource names the input in errors and rejects (a file or job).
func WithSource(name string) Option { return func(c *config) { c.source = name } }

// InvalidUTF8 is what a Reader does with a string field (a String or Enum
// column, or a drift column) whose bytes are not valid UTF-8: such bytes
// must never reach a sink (Parquet readers refuse the whole file).
type InvalidUTF8 int

const (
	// RejectInvalidUTF8 rejects the row, naming the column and line (the
	// default).
	RejectInvalidUTF8 InvalidUTF8 = iota
	// ReplaceInvalidUTF8 loads the row with each run of invalid bytes
	// replaced by one U+FFFD (strings.ToValidUTF8), and counts it
	// (Reader.Repaired).
	ReplaceInvalidUTF8
)

// ParseInvalidUTF8 reads a mode by name: "reject" or "replace".
func ParseInvalidUTF8(s string) (InvalidUTF8, error) {
	switch s {
	case "reject":
		return RejectInvalidUTF8, nil
	case "replace":
		return ReplaceInvalidUTF8, nil
	}
	return 0, fmt.Errorf("%q is not reject or replace", s)
}

// WithInvalidUTF8 sets what to do with invalid UTF-8 (default
// RejectInvalidUTF8).
func WithInvalidUTF8(m InvalidUTF8) Option { return func(c *config) { c.invalidUTF8 = m } }

// DefaultMaxRecordSize bounds a CSV record (and so each field) by default.
const DefaultMaxRecordSize = 16 << 20

// WithMaxRecordSize bounds the bytes of one CSV record, line end included
// (default DefaultMaxRecordSize; n <= 0 means the default). A larger
// record stops the Reader with ErrRecordTooLarge; see NewReader.
func WithMaxRecordSize(n int64) Option { return func(c *config) { c.maxRecord = n } }

// WithDictionaries makes the batches' Enum columns and lineage columns
// dictionary arrays (DictionaryOf their type), whose values they share:
// an Enum column's dictionary is its declared values in their order, the
// same in every batch of every Reader of the stream, and a lineage
// column's is its one value. A sink can then write such a column without
// hashing each value (Parquet writes the indices as they are). Other
// columns, drift columns among them, are as without it.
func WithDictionaries() Option { return func(c *config) { c.dict = true } }
