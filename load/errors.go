package load

import "errors"

// Sentinel errors of the load package.
var (
	// ErrStateCorrupt: the state file exists but cannot be read as state.
	ErrStateCorrupt = errors.New("state file is corrupt")
	// ErrWindowClosed: Write or Commit after Commit or Abort.
	ErrWindowClosed = errors.New("window already committed or aborted")
	// ErrOutsideWindow: a row's partition date is outside the window being
	// loaded, which would replace a partition the window does not cover.
	ErrOutsideWindow = errors.New("row outside the window")
	// ErrStorageAccess: the object store refused the credentials, or the
	// bucket does not exist.
	ErrStorageAccess = errors.New("object storage not accessible")
)
