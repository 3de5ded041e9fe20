package chsink

// The package's sentinels, and the ClickHouse server codes it acts on.

import (
	"errors"
)

// ErrTypeConflict: a column's type in the table differs from the export's.
var ErrTypeConflict = errors.New("column type conflict")

// codeIncompatibleColumns is ClickHouse's INCOMPATIBLE_COLUMNS: REPLACE
// PARTITION from a table of another structure.
const codeIncompatibleColumns = 122

// codeUnknownSetting is ClickHouse's UNKNOWN_SETTING: a query carried a
// setting the server does not know.
const codeUnknownSetting = 115

// ErrNoCluster: the configured cluster is not in the server's
// remote_servers.
var ErrNoCluster = errors.New("no such cluster")

// errNodeDown: a node that did not answer in the last minute is not
// tried again until then.
var errNodeDown = errors.New("did not answer in the last minute")

// codeTimeoutExceeded is ClickHouse's TIMEOUT_EXCEEDED: an ON CLUSTER
// statement some node did not run in time (it runs it when it is back).
const codeTimeoutExceeded = 159

// codeUnknownTable is ClickHouse's UNKNOWN_TABLE: another process is
// making the Distributed table again (a drift column).
const codeUnknownTable = 60

// ErrBadIdentifier: a database, table or column name that cannot be used.
var ErrBadIdentifier = errors.New("bad identifier")
