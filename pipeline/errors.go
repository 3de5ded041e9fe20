package pipeline

import "errors"

// Sentinel errors of the pipeline.
var (
	// ErrTooManyRejects: a window's rejected rows exceeded the configured
	// ratio; the window was not loaded and its cursor not moved.
	ErrTooManyRejects = errors.New("too many rejected rows")
	// ErrShortExport: the file held fewer rows than the job's rowCount (a
	// truncated download); the window was not loaded.
	ErrShortExport = errors.New("export file shorter than its rowCount")
	// ErrNoHeader: the export file is empty, without even a header row;
	// API_NOTES asks to fail clearly rather than load it.
	ErrNoHeader = errors.New("export file has no header row")
	// ErrJobTimeout: an export job did not finish within the job timeout.
	ErrJobTimeout = errors.New("export job timed out")
	// ErrPartitionIDClash: two contracts map to the same partition id.
	ErrPartitionIDClash = errors.New("two contracts share a partition id")
	// ErrNoCursor: a completed CRM validation export gave no
	// nextExportStartAt (nor exportEndAt), so the cursor cannot move.
	ErrNoCursor = errors.New("no next export start")
	// ErrCursorOutOfRange: a completed CRM validation export's
	// nextExportStartAt lies before its exportStartAt or after now (plus
	// maxCursorSkew); the window fails and the cursor stays.
	ErrCursorOutOfRange = errors.New("next export start out of range")
	// ErrUnknownJobStatus: an export job answered a status outside the
	// documented set; its window fails at once (the job is not polled).
	ErrUnknownJobStatus = errors.New("undocumented job status")
	// ErrNoContracts: the API listed no contract for a member who had
	// some (cursors in the state, rows in the contracts dimension): the run
	// fails rather than empty the contracts table.
	ErrNoContracts = errors.New("the API listed no contract, but the member had contracts before; nothing was changed (check the token's member and seats)")
	// ErrFilesDiffer: the files of one CRM validation export have
	// different columns.
	ErrFilesDiffer = errors.New("the export's files differ")
)

// DeferredError stops a stream for this run without failing it: LinkedIn
// has not got the data yet (FAILED_DUE_TO_DATA_DELAY). The cursor stays;
// the next run tries again.
type DeferredError struct{ Err error }

func (e *DeferredError) Error() string { return "deferred to a later run: " + e.Err.Error() }
func (e *DeferredError) Unwrap() error { return e.Err }

// errStopped: the run is stopping; not a failure of the unit.
var errStopped = errors.New("stopped")

var errURLExpired = errors.New("download URL expired")
