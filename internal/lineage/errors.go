package lineage

import "errors"

// Sentinel errors.
var (
	// ErrBadParent: OPENLINEAGE_PARENT_ID is not namespace/job/runId with
	// a UUID run id.
	ErrBadParent = errors.New("not namespace/job/runId with a UUID run id")
	// ErrBadLocation: a dataset location that no naming rule covers.
	ErrBadLocation = errors.New("no OpenLineage dataset name for this location")
	// ErrTimedOut: the lineage server did not answer within the emitter's
	// timeout; the event was given up.
	ErrTimedOut = errors.New("lineage server did not answer in time")
	// ErrRejected: the lineage server answered with a status other than
	// 2xx.
	ErrRejected = errors.New("lineage server refused the event")
)
