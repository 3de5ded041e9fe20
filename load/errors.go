package load

import "errors"

// Sentinel errors of the load package.
var (
	// ErrStateCorrupt: the state file exists but cannot be read as state.
	ErrStateCorrupt = errors.New("state file is corrupt")
	// ErrBadCursor: a cursor that the state could not read back (a year
	// outside 1970-2199, say) was refused; nothing was written.
	ErrBadCursor = errors.New("cursor refused")
	// ErrWindowClosed: Write or Commit after Commit or Abort.
	ErrWindowClosed = errors.New("window already committed or aborted")
)
