package schema

import "errors"

// Sentinel errors of the stream registry.
var (
	// ErrDuplicateStream: Register was given a stream whose name is taken.
	ErrDuplicateStream = errors.New("a stream of that name is registered")
)
