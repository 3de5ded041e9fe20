package load

import "errors"

// Sentinel errors of the load package.
var (
	// ErrStateCorrupt: the state file exists but cannot be read as state.
	ErrStateCorrupt = errors.New("state file is corrupt")
	// ErrWindowClosed: Write or Commit after Commit or Abort.
	ErrWindowClosed = errors.New("window already committed or aborted")
)
