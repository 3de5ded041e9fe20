package chtest

import (
	"regexp"
	"strings"
)

var (
	onClusterRe  = regexp.MustCompile(" ON CLUSTER (`(?:[^`\\\\]|\\\\.)*`|[A-Za-z0-9_]+)")
	replicatedRe = regexp.MustCompile(`Replicated(\w*MergeTree)\('(?:[^'\\]|\\.)*', '(?:[^'\\]|\\.)*'(, )?`)
	distEngineRe = regexp.MustCompile(`ENGINE = Distributed\(`)
	distNameRe   = regexp.MustCompile("_dist`")
)

// LocalForm says how a statement recorded on a cluster replays on one
// server with no cluster, ZooKeeper or remote_servers (chDB):
//   - check is the exact text to check for syntax only (the caller runs
//     EXPLAIN AST of it), for statements with ON CLUSTER, a Replicated*
//     engine or a Distributed engine; "" for the others;
//   - run is its local form, to run: ON CLUSTER removed, Replicated dropped
//     from the engine with its ZooKeeper path and replica, and the local
//     table standing in for <stream>_dist. It is "" for the statements
//     that make or drop a Distributed table, which have no local form.
//
// A statement of a single server comes back as run, with check "".
func LocalForm(stmt string) (check, run string) {
	cluster := onClusterRe.MatchString(stmt) || replicatedRe.MatchString(stmt) || distEngineRe.MatchString(stmt)
	if cluster {
		check = stmt
	}
	if distEngineRe.MatchString(stmt) || isDropDist(stmt) {
		return check, ""
	}
	run = onClusterRe.ReplaceAllString(stmt, "")
	run = replicatedRe.ReplaceAllString(run, "$1(")
	run = distNameRe.ReplaceAllString(run, "`")
	return check, run
}

// isDropDist reports whether stmt drops a Distributed table.
func isDropDist(stmt string) bool {
	if !strings.HasPrefix(stmt, "DROP TABLE") {
		return false
	}
	name := onClusterRe.ReplaceAllString(stmt, "")
	return strings.HasSuffix(name, "_dist`")
}
