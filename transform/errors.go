package transform

import (
	"errors"
	"fmt"
)

// Sentinel errors of the transform. Branch on them with errors.Is.
var (
	// ErrMissingColumn: a required column is not in the header.
	ErrMissingColumn = errors.New("missing required column")
	// ErrBadHeader: the header has an empty or duplicate name, or a name
	// reserved for a lineage column.
	ErrBadHeader = errors.New("bad header")
	// ErrCSVSyntax: the file is not well-formed CSV (an unterminated quote,
	// say); the error names the line.
	ErrCSVSyntax = errors.New("malformed CSV")
	// ErrRecordTooLarge: a CSV record is larger than the Reader's bound
	// (WithMaxRecordSize); the error names the line it starts on.
	ErrRecordTooLarge = errors.New("CSV record larger than the bound")
	// ErrRead: reading the input failed (a dropped connection, a truncated
	// gzip stream): the file may be fine, the transfer was not.
	ErrRead = errors.New("reading input")
	// ErrLineageType: a stream declares a lineage column of a type the
	// Reader cannot fill (a mistake in the stream's declaration).
	ErrLineageType = errors.New("no lineage value for this type")
)

// HeaderError reports a problem with the header row.
type HeaderError struct {
	Source string // the file or stream read
	Column string // the column at fault
	Reason error  // ErrMissingColumn or ErrBadHeader
	Detail string
}

func (e *HeaderError) Error() string {
	msg := fmt.Sprintf("%s: header: %v %q", e.Source, e.Reason, e.Column)
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	return msg
}

func (e *HeaderError) Unwrap() error { return e.Reason }
