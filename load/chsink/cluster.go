package chsink

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/salesnav-etl/salesnav-etl/load"
)

// streamLocks keeps a stream's moves into its Distributed table and the
// table's rebuild (a drift column) apart.
type streamLocks struct {
	mu sync.Mutex
	m  map[string]*sync.RWMutex
}

func (l *streamLocks) get(stream string) *sync.RWMutex {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.m == nil {
		l.m = map[string]*sync.RWMutex{}
	}
	if l.m[stream] == nil {
		l.m[stream] = &sync.RWMutex{}
	}
	return l.m[stream]
}

// ddlTimeout bounds how long an ON CLUSTER statement waits for every node.
const ddlTimeout = 30 * time.Second

// openHome connects to the DSN's servers (the first that answers). On a
// cluster the connection is pinned to that one node: staging tables are
// local to a node, so every statement of a window must reach the same one,
// which a pool over several addresses does not promise.
func openHome(ctx context.Context, opts *clickhouse.Options, cluster bool, wrap func(driver.Conn) driver.Conn) (driver.Conn, error) {
	if !cluster || len(opts.Addr) < 2 {
		return dial(ctx, opts, "", wrap)
	}
	var errs []error
	for _, addr := range opts.Addr {
		conn, err := dial(ctx, opts, addr, wrap)
		if err == nil {
			return conn, nil
		}
		errs = append(errs, err)
	}
	return nil, errors.Join(errs...)
}

// dial opens a connection pool with opts, to addr alone unless it is "",
// and pings it. wrap, when not nil, wraps the pool (Config.WrapConn).
func dial(ctx context.Context, opts *clickhouse.Options, addr string, wrap func(driver.Conn) driver.Conn) (driver.Conn, error) {
	o := *opts
	if addr != "" {
		o.Addr = []string{addr}
	}
	conn, err := clickhouse.Open(&o)
	if err != nil {
		return nil, err
	}
	if err := conn.Ping(ctx); err != nil {
		conn.Close()
		return nil, err
	}
	if wrap != nil {
		return wrap(conn), nil
	}
	return conn, nil
}

// execDDL runs an ON CLUSTER statement. When it times out because a node
// did not answer (that node runs it when it is back) but done reports that
// it took effect here, the run goes on, with a warning.
func (s *Sink) execDDL(ctx context.Context, stmt string, done func() bool) error {
	err := s.conn.Exec(ctx, stmt)
	var ex *clickhouse.Exception
	if err != nil && s.layout.Cluster != "" && errors.As(err, &ex) && ex.Code == codeTimeoutExceeded && done() {
		s.log.Warn("a cluster node did not run a statement in time: it will when it is back", "statement", firstLine(stmt), "error", err)
		return nil
	}
	return err
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// shard is one shard of the cluster, as the connected server's
// system.clusters describes it.
type shard struct {
	num, weight int
	local       bool     // the connected server is one of its replicas
	addrs       []string // host:port of its replicas, in order
	localAddr   string   // that replica's, when local
}

// readShards reads the cluster's shards, ordered by number.
func readShards(ctx context.Context, conn driver.Conn, cluster string) ([]shard, error) {
	rows, err := conn.Query(ctx, "SELECT shard_num, shard_weight, host_name, port, is_local FROM system.clusters WHERE cluster = ? ORDER BY shard_num, replica_num", cluster)
	if err != nil {
		return nil, fmt.Errorf("reading cluster %s: %w", cluster, err)
	}
	defer rows.Close()
	var out []shard
	for rows.Next() {
		var num, weight uint32
		var host string
		var port uint16
		var local uint8
		if err := rows.Scan(&num, &weight, &host, &port, &local); err != nil {
			return nil, fmt.Errorf("reading cluster %s: %w", cluster, err)
		}
		if len(out) == 0 || out[len(out)-1].num != int(num) {
			out = append(out, shard{num: int(num), weight: int(weight)})
		}
		sh := &out[len(out)-1]
		addr := net.JoinHostPort(host, strconv.Itoa(int(port)))
		sh.addrs = append(sh.addrs, addr)
		if local == 1 && !sh.local {
			sh.local, sh.localAddr = true, addr
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading cluster %s: %w", cluster, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: %q is not in the server's remote_servers (SELECT * FROM system.clusters)", ErrNoCluster, cluster)
	}
	return out, nil
}

// pickShard is the shard of a row whose sharding key hashes to h, as the
// Distributed engine picks it: each shard holds weight slots, in order.
func pickShard(shards []shard, h uint64) shard {
	total := 0
	for _, sh := range shards {
		total += sh.weight
	}
	slot := int(h % uint64(max(total, 1)))
	for _, sh := range shards {
		if slot < sh.weight {
			return sh
		}
		slot -= sh.weight
	}
	return shards[len(shards)-1]
}

// ownerConn returns a connection to a replica of the shard that holds the
// window's partition (ShardColumns): the connected server when it is one,
// else the first replica that answers. The server computes the hash, with
// the columns' own types, as its Distributed table does.
func (s *Sink) ownerConn(ctx context.Context, w load.Window) (driver.Conn, error) {
	query, arg1, arg2 := "SELECT cityHash64(toString(?), toDate(?))", any(w.Contract), any(w.SnapshotDate().Format(time.DateOnly))
	if w.Stream.PerExport() {
		query, arg2 = "SELECT cityHash64(toString(?), toInt64(?))", w.Start.UnixMilli()
	}
	var h uint64
	if err := s.conn.QueryRow(ctx, query, arg1, arg2).Scan(&h); err != nil {
		return nil, fmt.Errorf("hashing the partition of %s %s: %w", w.Stream.Name, w.Contract, err)
	}
	sh := pickShard(s.shards, h)
	if sh.local {
		return s.conn, nil
	}
	var errs []error
	for _, addr := range sh.addrs {
		conn, err := s.nodeConn(ctx, addr)
		if err == nil {
			return conn, nil
		}
		errs = append(errs, err)
	}
	return nil, fmt.Errorf("reaching shard %d of cluster %s for %s %s: %w", sh.num, s.layout.Cluster, w.Stream.Name, w.Contract, errors.Join(errs...))
}

// nodeConn returns an open connection to the cluster node at addr, with
// the DSN's account and database, made on first use (when it drops stale
// staging tables there too).
func (s *Sink) nodeConn(ctx context.Context, addr string) (_ driver.Conn, err error) {
	// One connection (a pool) per node, shared by the windows; made under
	// the lock so that two windows never race to make it.
	s.mu.Lock()
	defer s.mu.Unlock()
	if until, ok := s.down[addr]; ok && time.Now().Before(until) {
		return nil, fmt.Errorf("connecting to %s: %w", addr, errNodeDown)
	}
	defer func() {
		if err != nil && ctx.Err() == nil { // not when only the caller gave up
			s.down[addr] = time.Now().Add(time.Minute)
		}
	}()
	if conn, ok := s.nodes[addr]; ok {
		if err = conn.Ping(ctx); err != nil {
			return nil, fmt.Errorf("connecting to %s: %w", addr, redactErr(err, s.cfg.DSN))
		}
		return conn, nil
	}
	conn, err := dial(ctx, s.opts, addr, s.cfg.WrapConn)
	if err != nil {
		return nil, fmt.Errorf("connecting to %s: %w", addr, redactErr(err, s.cfg.DSN))
	}
	if err := s.dropStale(ctx, conn); err != nil { //nolint:govet // a warning only
		s.log.Warn("dropping stale staging tables", "node", addr, "error", err)
	}
	s.nodes[addr] = conn
	return conn, nil
}

// Shards lists the cluster's shards as "shard <n>: host:port, …" (for
// config check); nil on a single server.
func (s *Sink) Shards() []string {
	var out []string
	for _, sh := range s.shards {
		out = append(out, fmt.Sprintf("shard %d: %v", sh.num, sh.addrs))
	}
	sort.Strings(out)
	return out
}

// pinHome moves the sink onto one node of the cluster: the replica that
// the connected server is, reached at its remote_servers address. A DSN
// naming a load balancer (one address, several servers behind it) would
// otherwise spread one window's statements over servers, and its staging
// table lives on one.
func (s *Sink) pinHome(ctx context.Context) error {
	home := ""
	for _, sh := range s.shards {
		if sh.local {
			home = sh.localAddr
		}
	}
	if home == "" {
		return fmt.Errorf("the DSN's server is not a node of cluster %s (no replica of system.clusters is local)", s.layout.Cluster)
	}
	conn, err := dial(ctx, s.opts, home, s.cfg.WrapConn)
	if err != nil {
		return fmt.Errorf("connecting to %s, this node's address in cluster %s: %w", home, s.layout.Cluster, redactErr(err, s.cfg.DSN))
	}
	shards, err := readShards(ctx, conn, s.layout.Cluster)
	if err != nil {
		conn.Close()
		return err
	}
	s.conn.Close()
	s.conn, s.shards = conn, shards
	return nil
}

// execMove runs a move into a Distributed table, waiting out another
// process's rebuild of it (a few tries over about ten seconds).
func execMove(ctx context.Context, conn driver.Conn, stmt string) error {
	var err error
	for try := 0; try < 5; try++ {
		err = conn.Exec(ctx, stmt)
		var ex *clickhouse.Exception
		if !errors.As(err, &ex) || ex.Code != codeUnknownTable {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(time.Duration(1<<try) * 300 * time.Millisecond):
		}
	}
	return err
}
