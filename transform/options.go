package transform

import (
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
	mem       memory.Allocator
	batchSize int
	lineage   *Lineage
	rejects   RejectSink
	source    string
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
