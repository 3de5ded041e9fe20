package chsink

import (
	"errors"
	"fmt"
	"strings"

	"github.com/salesnav-etl/salesnav-etl/schema"
)

// Layout places the sink's tables: on a single server (the zero value), or
// on a cluster of remote_servers, every statement ON CLUSTER:
//   - a stream's table is ReplicatedReplacingMergeTree within each shard,
//     with a Distributed table <stream>_dist that routes each row to the
//     shard of its key (ShardingKey) and that the stream's view reads;
//   - dimensions and the state tables are replicated to every node (the
//     path's {shard} becomes "all"): small, and read where they are.
type Layout struct {
	// Cluster is the remote_servers cluster; "" for a single server.
	Cluster string
	// ZKPath is the ZooKeeper path of a replicated table: {database} and
	// {table} are filled in here, other macros ({shard}) by each server.
	ZKPath string
	// Replica is the replica name, a macro of each server by default; it
	// must differ between every two nodes of the cluster.
	Replica string
}

// Layout defaults.
const (
	DefaultZKPath  = "/clickhouse/tables/{shard}/{database}/{table}"
	DefaultReplica = "{replica}"
)

// Validate reports every problem of l.
func (l Layout) Validate() error {
	if l.Cluster == "" {
		return nil
	}
	var errs []error
	if _, err := QuoteIdent(l.Cluster); err != nil {
		errs = append(errs, fmt.Errorf("cluster: %w", err))
	}
	path := l.zkPath()
	if !strings.HasPrefix(path, "/") || !strings.Contains(path, "{table}") {
		errs = append(errs, fmt.Errorf("ZooKeeper path %q: want an absolute path with {table} (and {database} unless one database uses the cluster)", path))
	}
	if strings.ContainsAny(path+l.replica(), "'\\\x00") {
		errs = append(errs, fmt.Errorf("ZooKeeper path %q or replica %q holds a quote, a backslash or NUL", path, l.replica()))
	}
	return errors.Join(errs...)
}

func (l Layout) zkPath() string {
	if l.ZKPath == "" {
		return DefaultZKPath
	}
	return l.ZKPath
}

func (l Layout) replica() string {
	if l.Replica == "" {
		return DefaultReplica
	}
	return l.Replica
}

// onCluster is " ON CLUSTER `name`", or "" on a single server.
func (l Layout) onCluster() string {
	if l.Cluster == "" {
		return ""
	}
	q, _ := QuoteIdent(l.Cluster) // checked by Validate
	return " ON CLUSTER " + q
}

// Sharded reports whether st's table is split over the cluster's shards
// (and read through a Distributed table): every stream but dimensions.
func (l Layout) Sharded(st *schema.Stream) bool { return l.Cluster != "" && !st.Dimension() }

// engine is the ReplacingMergeTree of table with version column qv: on a
// cluster, replicated at the layout's path (global: every node, one
// replica set).
func (l Layout) engine(db, table, qv string, global bool) string {
	if l.Cluster == "" {
		return "ReplacingMergeTree(" + qv + ")"
	}
	path := strings.NewReplacer("{database}", db, "{table}", table).Replace(l.zkPath())
	if global {
		path = strings.ReplaceAll(path, "{shard}", "all")
	}
	return fmt.Sprintf("ReplicatedReplacingMergeTree(%s, %s, %s)", QuoteString(path), QuoteString(l.replica()), qv)
}

// DistName is the name of a stream's Distributed table on a cluster.
func DistName(stream string) string { return stream + "_dist" }

// ShardColumns are the columns whose hash picks a row's shard: a snapshot
// or per-export stream's partition columns (its REPLACE PARTITION then
// runs on one shard), an event stream's whole key. Either way they are
// part of the key, so every copy of a row lands on one shard, where FINAL
// collapses them.
func ShardColumns(st *schema.Stream) []string {
	switch {
	case st.PerExport():
		return []string{schema.LineageCRMInstance, schema.LineageExportStartAt}
	case st.Snapshot():
		return []string{schema.LineageContract, schema.LineageSnapshotDate}
	}
	return st.Key
}

// ShardingKey is the Distributed table's sharding expression of st.
func ShardingKey(st *schema.Stream) (string, error) {
	cols := ShardColumns(st)
	q := make([]string, len(cols))
	for i, c := range cols {
		var err error
		if q[i], err = QuoteIdent(c); err != nil {
			return "", err
		}
	}
	return "cityHash64(" + strings.Join(q, ", ") + ")", nil
}

// CreateDistributed returns the statement of a stream's Distributed table
// over its shards' tables, with cols (the table's, in any order).
func (l Layout) CreateDistributed(db string, st *schema.Stream, cols []Column) (string, error) {
	dist, err := qualified(db, DistName(st.Name))
	if err != nil {
		return "", err
	}
	key, err := ShardingKey(st)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "CREATE TABLE IF NOT EXISTS %s%s\n", dist, l.onCluster())
	if err := writeColumns(&b, cols); err != nil {
		return "", err
	}
	fmt.Fprintf(&b, "\nENGINE = Distributed(%s, %s, %s, %s)", QuoteString(l.Cluster), QuoteString(db), QuoteString(st.Name), key)
	return b.String(), nil
}

// DropDistributed drops a stream's Distributed table on every node (to make
// it again with new columns: 18.16 refuses ALTER ON CLUSTER of a
// Distributed table over replicated shards). It holds no rows: inserts
// through it are synchronous.
func (l Layout) DropDistributed(db, stream string) (string, error) {
	dist, err := qualified(db, DistName(stream))
	if err != nil {
		return "", err
	}
	return "DROP TABLE IF EXISTS " + dist + l.onCluster(), nil
}
