package storage

import "errors"

// Sentinel errors of the storage package.
var (
	// ErrStorageAccess: the object store refused the credentials, or the
	// bucket does not exist.
	ErrStorageAccess = errors.New("object storage not accessible")
	// ErrStagedDone: Commit after Commit or Abort of a staged file.
	ErrStagedDone = errors.New("staged file already committed or aborted")
)
