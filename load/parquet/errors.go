package parquet

import "errors"

// Sentinel errors of the parquet package.
var (
	// ErrOutsideWindow: a row's partition date is outside the window being
	// loaded, which would replace a partition the window does not cover.
	ErrOutsideWindow = errors.New("row outside the window")
)
