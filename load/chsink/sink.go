package chsink

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/salesnav-etl/salesnav-etl/load"
	"github.com/salesnav-etl/salesnav-etl/schema"
)

// Sink loads windows into one ClickHouse table per stream
// (ReplacingMergeTree ordered by the stream's key, so re-loaded rows
// collapse), with a view <stream>_final that reads it with FINAL.
type Sink struct {
	cfg      Config
	layout   Layout
	conn     driver.Conn
	opts     *clickhouse.Options
	db       string
	redacted string
	log      *slog.Logger
	version  Version // the server's, as the DSN's first server reported it
	shards   []shard // the cluster's, by shard number

	mu     sync.Mutex
	tables map[string]map[string]string // table → column → type, as created
	nodes  map[string]driver.Conn       // connections to other cluster nodes, by address
	down   map[string]time.Time         // nodes that did not answer, until when not to try them
	moves  streamLocks                  // a stream's moves (read) against its Distributed table's rebuild (write)
}

var (
	_ load.Sink          = (*Sink)(nil)
	_ load.DimensionSink = (*Sink)(nil)
)

// Open connects, creates the database when missing, and returns the sink.
// Errors name the DSN without its password.
func Open(ctx context.Context, cfg Config) (*Sink, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("configuring ClickHouse sink: %w", err)
	}
	if cfg.BatchRows == 0 {
		cfg.BatchRows = DefaultBatchRows
	}
	if cfg.DialTimeout <= 0 {
		cfg.DialTimeout = 10 * time.Second
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	red := RedactDSN(cfg.DSN)
	opts, _ := clickhouse.ParseDSN(cfg.DSN)
	db := opts.Auth.Database
	if db == "" {
		db = "default"
	}
	// The DSN's own settings (?name=value) go to the server unchanged; the
	// sink's are chosen by the server's version, read from the handshake
	// of a connection that carries the DSN's alone.
	dsnSettings := opts.Settings
	opts.DialTimeout = cfg.DialTimeout
	if cfg.MaxConns > 0 {
		opts.MaxOpenConns = cfg.MaxConns
		opts.MaxIdleConns = min(cfg.MaxConns, 5)
	}

	// Create the database through a connection that does not name it.
	boot := *opts
	boot.Auth.Database = ""
	bconn, err := clickhouse.Open(&boot)
	if err != nil {
		return nil, fmt.Errorf("connecting to ClickHouse %s: %w", red, redactErr(err, cfg.DSN))
	}
	defer bconn.Close()
	if err := bconn.Ping(ctx); err != nil {
		return nil, fmt.Errorf("connecting to ClickHouse %s: %w", red, redactErr(err, cfg.DSN))
	}
	if cfg.WrapConn != nil {
		bconn = cfg.WrapConn(bconn)
	}
	hs, err := bconn.ServerVersion()
	if err != nil {
		return nil, fmt.Errorf("reading the version of ClickHouse %s: %w", red, redactErr(err, cfg.DSN))
	}
	version := Version{hs.Version.Major, hs.Version.Minor, hs.Version.Patch}
	chosen := SettingsFor(version, cfg.Layout.Cluster != "")
	opts.Settings = connSettings(chosen, dsnSettings)
	log.Debug("ClickHouse server", "version", version, "settings", slices.Sorted(maps.Keys(opts.Settings)))
	// The boot connection's statements carry the chosen settings too (a
	// DSN's own are on the connection already).
	for k := range dsnSettings {
		delete(chosen, k)
	}
	bctx := clickhouse.Context(ctx, clickhouse.WithSettings(chosen))
	if cfg.Layout.Cluster != "" {
		// Refused before anything is made.
		shards, err := readShards(bctx, bconn, cfg.Layout.Cluster)
		if err != nil {
			return nil, fmt.Errorf("ClickHouse %s: %w%s", red, err, dsnHint(err, dsnSettings))
		}
		if len(shards) > 1 && !strings.Contains(cfg.Layout.zkPath(), "{shard}") {
			return nil, fmt.Errorf("ClickHouse %s: cluster %s has %d shards but the ZooKeeper path %q has no {shard}: every shard's table would be a replica of one table", red, cfg.Layout.Cluster, len(shards), cfg.Layout.zkPath())
		}
	}
	stmt, err := cfg.Layout.CreateDatabase(db)
	if err != nil {
		return nil, fmt.Errorf("ClickHouse %s: %w", red, err)
	}
	// Only when missing: on a cluster the statement waits for every node,
	// and a node down would hold a run that needs nothing made.
	var dbs uint64
	if err := bconn.QueryRow(bctx, "SELECT count() FROM system.databases WHERE name = ?", db).Scan(&dbs); err != nil {
		return nil, fmt.Errorf("listing databases on ClickHouse %s: %w%s", red, err, dsnHint(err, dsnSettings))
	}
	if dbs == 0 {
		if err := bconn.Exec(bctx, stmt); err != nil {
			// On a cluster a node that is down times the statement out
			// (code 159) after the others ran it; it runs it when back.
			var ex *clickhouse.Exception
			if !errors.As(err, &ex) || ex.Code != codeTimeoutExceeded || bconn.QueryRow(bctx, "SELECT count() FROM system.databases WHERE name = ?", db).Scan(&dbs) != nil || dbs == 0 {
				return nil, fmt.Errorf("creating database %s on ClickHouse %s: %w", db, red, err)
			}
			log.Warn("a cluster node did not create the database in time: it will when it is back", "database", db, "error", err)
		}
	}
	conn, err := openHome(ctx, opts, cfg.Layout.Cluster != "", cfg.WrapConn)
	if err != nil {
		return nil, fmt.Errorf("connecting to ClickHouse %s: %w", red, redactErr(err, cfg.DSN))
	}
	sink := &Sink{cfg: cfg, layout: cfg.Layout, conn: conn, opts: opts, db: db, redacted: red, log: log, version: version,
		tables: map[string]map[string]string{}, nodes: map[string]driver.Conn{}, down: map[string]time.Time{}}
	if cfg.Layout.Cluster != "" {
		if sink.shards, err = readShards(ctx, conn, cfg.Layout.Cluster); err != nil {
			conn.Close()
			return nil, fmt.Errorf("ClickHouse %s: %w", red, err)
		}
		if err := sink.pinHome(ctx); err != nil {
			sink.conn.Close()
			return nil, fmt.Errorf("ClickHouse %s: %w", red, err)
		}
		conn = sink.conn
	}
	if err := sink.dropStale(ctx, conn); err != nil {
		log.Warn("dropping stale staging tables", "error", err)
	}
	if err := sink.repairViews(ctx); err != nil {
		// Not fatal here: a stream whose view is still missing reports it
		// when it is loaded or read.
		log.Warn("making missing views", "database", db, "error", err)
	}
	return sink, nil
}

// repairViews makes the view (and on a cluster the Distributed table) of
// every stream table that has none: a run killed between creating a table
// and its view, or between dropping a view and making it again with a new
// column, leaves one missing, and the view is what analysts, and the
// reading of loaded keys, go through.
func (s *Sink) repairViews(ctx context.Context) error {
	have, err := s.tableNames(ctx)
	if err != nil {
		return err
	}
	for _, st := range schema.All() {
		if !have[st.Name] {
			continue
		}
		if s.layout.Sharded(st) && !have[DistName(st.Name)] {
			s.log.Warn("a Distributed table was missing (a run was killed while making it): made again", "stream", st.Name, "table", DistName(st.Name))
			if err := s.createDistributed(ctx, st, false); err != nil {
				return err
			}
		}
		if !have[ViewName(st.Name)] {
			s.log.Warn("a view was missing (a run was killed while making it): made again", "stream", st.Name, "view", ViewName(st.Name))
			if err := s.createView(ctx, st, false); err != nil {
				return err
			}
		}
	}
	return nil
}

// tableNames lists the tables of the database on the connected server.
func (s *Sink) tableNames(ctx context.Context) (map[string]bool, error) {
	rows, err := s.conn.Query(ctx, "SELECT name FROM system.tables WHERE database = ?", s.db)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	have := map[string]bool{}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		have[n] = true
	}
	return have, rows.Err()
}

// Version is the server's version, as the DSN's first server reported it
// in its handshake: it chose the settings the sink sends (SettingsFor).
func (s *Sink) Version() Version { return s.version }

// dsnHint adds a pointer to the DSN to an error about an unknown setting
// when the DSN gives settings of its own: the sink's are chosen by
// version, so such an error names one of the DSN's.
func dsnHint(err error, dsn clickhouse.Settings) string {
	var ex *clickhouse.Exception
	if len(dsn) == 0 || !errors.As(err, &ex) || ex.Code != codeUnknownSetting {
		return ""
	}
	return fmt.Sprintf(" (the DSN sets %s: a setting this server does not know is refused; remove it from the DSN)", strings.Join(slices.Sorted(maps.Keys(dsn)), ", "))
}

// Database is the sink's database.
func (s *Sink) Database() string { return s.db }

// Conn is the sink's connection (for tests and the state store).
func (s *Sink) Conn() driver.Conn { return s.conn }

// Close closes the connections.
func (s *Sink) Close() error {
	s.mu.Lock()
	for _, c := range s.nodes {
		c.Close()
	}
	s.nodes = map[string]driver.Conn{}
	s.mu.Unlock()
	return s.conn.Close()
}
