package chsink

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"maps"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/salesnav-etl/salesnav-etl/load"
	"github.com/salesnav-etl/salesnav-etl/schema"
)

// DefaultBatchRows is the rows per INSERT into a window's staging table
// (the move into the table is one INSERT … SELECT, whatever the batches).
// make bench: at 50k rather than 200k, ClickHouse parses one batch while the
// next is built, 20% faster in BenchmarkClickHouseWindow, and the connector
// peaks 100 MB lower.
const DefaultBatchRows = 50_000

// ErrTypeConflict: a column's type in the table differs from the export's.
var ErrTypeConflict = errors.New("column type conflict")

// Config configures a Sink.
type Config struct {
	// DSN is clickhouse://user:password@host:9000/database?secure=false
	// (native protocol; secure=true for TLS). The database is created when
	// missing; "default" when the DSN names none.
	DSN string
	// BatchRows is rows per INSERT (default DefaultBatchRows).
	BatchRows int
	// DialTimeout bounds connecting (default 10s).
	DialTimeout time.Duration
	// MaxConns bounds the connection pool (default 10). Each window being
	// loaded holds one until its rows are sent: give it at least the run's
	// concurrency plus two.
	MaxConns int
	// Layout places the tables on a cluster (Layout.Cluster set) or on the
	// single server of the DSN (the zero value).
	Layout Layout
	Logger *slog.Logger
	// WrapConn, when set, wraps every connection pool the sink opens (to
	// the DSN's server and to other cluster nodes), once it answers: tests
	// record the statements sent through it. Nil uses the pools as they are.
	WrapConn func(driver.Conn) driver.Conn
}

// Validate reports every problem of c.
func (c Config) Validate() error {
	var errs []error
	if c.DSN == "" {
		errs = append(errs, errors.New("DSN is empty"))
	} else if _, err := clickhouse.ParseDSN(c.DSN); err != nil {
		errs = append(errs, fmt.Errorf("DSN %s: %v", RedactDSN(c.DSN), redactErr(err, c.DSN)))
	} else if u, err := url.Parse(c.DSN); err != nil || u.Scheme != "clickhouse" {
		errs = append(errs, fmt.Errorf("DSN %s: want clickhouse://user:password@host:9000/database (native protocol)", RedactDSN(c.DSN)))
	}
	if c.BatchRows < 0 {
		errs = append(errs, fmt.Errorf("batch rows %d is negative", c.BatchRows))
	}
	if err := c.Layout.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// RedactDSN returns dsn with its password replaced, for messages: in the
// user:password@ part and in a password= parameter alike.
func RedactDSN(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "(unparsable DSN)"
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	q := u.Query()
	if q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// dsnPasswords returns the passwords a DSN carries.
func dsnPasswords(dsn string) []string {
	u, err := url.Parse(dsn)
	if err != nil {
		return nil
	}
	var pws []string
	if pw, has := u.User.Password(); has && pw != "" {
		pws = append(pws, pw)
	}
	if pw := u.Query().Get("password"); pw != "" {
		pws = append(pws, pw)
	}
	return pws
}

// redactErr removes the DSN's passwords from an error text.
func redactErr(err error, dsn string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	for _, pw := range dsnPasswords(dsn) {
		msg = strings.ReplaceAll(msg, pw, "xxxxx")
	}
	if msg == err.Error() {
		return err
	}
	return errors.New(msg)
}

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

// ReplaceDimension inserts rec into the dimension's table, where the
// newest version (seenAt) of each key wins; read it through its view.
func (s *Sink) ReplaceDimension(ctx context.Context, st *schema.Stream, rec arrow.RecordBatch) (load.Stats, error) {
	cols, missing, err := s.ensureTable(ctx, st, rec.Schema())
	if err == nil {
		// One insert, with nothing to undo: drift columns go in first.
		s.mu.Lock()
		err = s.addColumns(ctx, st, missing)
		s.mu.Unlock()
	}
	if err != nil {
		return load.Stats{}, err
	}
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.Name
	}
	ins, err := InsertColumns(s.db, st.Name, names)
	if err != nil {
		return load.Stats{}, err
	}
	b, err := s.conn.PrepareBatch(ctx, ins)
	if err != nil {
		return load.Stats{}, fmt.Errorf("preparing insert into %s: %w", st.Name, err)
	}
	for i := range rec.NumCols() {
		v, err := columnValues(rec.Column(int(i)), rec.Schema().Field(int(i)).Nullable)
		if err == nil {
			err = b.Column(int(i)).Append(v)
		}
		if err != nil {
			b.Abort()
			return load.Stats{}, fmt.Errorf("loading %s.%s: %w", st.Name, rec.ColumnName(int(i)), err)
		}
	}
	if err := b.Send(); err != nil {
		return load.Stats{}, fmt.Errorf("inserting into %s.%s: %w", s.db, st.Name, err)
	}
	return load.Stats{Rows: rec.NumRows(), Files: 1}, nil
}

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

// existingColumns reads a table's columns from system.columns.
func (s *Sink) existingColumns(ctx context.Context, table string) (map[string]string, error) {
	return s.columnsOn(ctx, s.conn, table)
}

// columnsOn reads a table's columns on the server of conn.
func (s *Sink) columnsOn(ctx context.Context, conn driver.Conn, table string) (map[string]string, error) {
	cols, err := s.orderedColumns(ctx, conn, table)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(cols))
	for _, c := range cols {
		out[c.Name] = c.Type
	}
	return out, nil
}

// orderedColumns reads a table's columns in the table's order (as
// system.columns lists them; 18.16 has no position column).
func (s *Sink) orderedColumns(ctx context.Context, conn driver.Conn, table string) ([]Column, error) {
	rows, err := conn.Query(ctx, "SELECT name, type FROM system.columns WHERE database = ? AND table = ?", s.db, table)
	if err != nil {
		return nil, fmt.Errorf("reading columns of %s.%s: %w", s.db, table, err)
	}
	defer rows.Close()
	var cols []Column
	for rows.Next() {
		var c Column
		if err := rows.Scan(&c.Name, &c.Type); err != nil {
			return nil, err
		}
		cols = append(cols, c)
	}
	return cols, rows.Err()
}

// ensureTable creates the stream's table and view when missing (with the
// schema's columns, not drift), and refuses a type conflict before
// anything is inserted. It returns the window's columns, and those of them
// the table lacks: drift columns, added by addColumns when the window
// commits, so that a window that fails (a cut header, say) leaves no
// column behind.
func (s *Sink) ensureTable(ctx context.Context, st *schema.Stream, sc *arrow.Schema) (cols, missing []Column, err error) {
	if cols, err = TableColumns(st, sc); err != nil {
		return nil, nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	have, ok := s.tables[st.Name]
	if !ok {
		var known []Column
		for _, c := range cols {
			if _, inSchema := st.Column(c.Name); inSchema || schema.IsLineage(c.Name) || c.Name == RowHashColumn {
				known = append(known, c)
			}
		}
		// Only what is missing: on a cluster each statement waits for
		// every node, and a node down would hold a run that needs none.
		names, err := s.tableNames(ctx)
		if err != nil {
			return nil, nil, fmt.Errorf("listing tables of %s: %w", s.db, err)
		}
		if !names[st.Name] {
			stmt, err := s.layout.CreateTable(s.db, st, known)
			if err != nil {
				return nil, nil, err
			}
			if err := s.execDDL(ctx, stmt, s.exists(ctx, st.Name)); err != nil {
				return nil, nil, fmt.Errorf("creating table %s.%s: %w", s.db, st.Name, err)
			}
		}
		if have, err = s.existingColumns(ctx, st.Name); err != nil {
			return nil, nil, err
		}
		// The Distributed table and the view must show every column of
		// the table: a run that died (or a node that was down) between a
		// drift column's ALTER and their rebuild left them without it.
		if s.layout.Sharded(st) {
			dist, err := s.existingColumns(ctx, DistName(st.Name))
			if err != nil {
				return nil, nil, err
			}
			if len(dist) == 0 || !covers(dist, have) {
				if err := s.createDistributed(ctx, st, len(dist) > 0); err != nil {
					return nil, nil, err
				}
			}
		}
		view, err := s.existingColumns(ctx, ViewName(st.Name))
		if err != nil {
			return nil, nil, err
		}
		if len(view) == 0 || !covers(view, have) {
			if err := s.createView(ctx, st, len(view) > 0); err != nil {
				return nil, nil, err
			}
		}
		s.tables[st.Name] = have
	}
	for _, c := range cols {
		t, exists := have[c.Name]
		switch {
		case !exists:
			missing = append(missing, c)
		case t != c.Type:
			return nil, nil, fmt.Errorf("%w: %s.%s.%s is %s in the table but %s in this export", ErrTypeConflict, s.db, st.Name, c.Name, t, c.Type)
		}
	}
	return cols, missing, nil
}

// addColumns adds to the stream's table those of cols it still lacks
// (another window may have added them since), and makes the view again.
// The caller holds s.mu.
func (s *Sink) addColumns(ctx context.Context, st *schema.Stream, cols []Column) error {
	have := s.tables[st.Name]
	var added []string
	for _, c := range cols {
		if t, exists := have[c.Name]; exists {
			if t != c.Type {
				return fmt.Errorf("%w: %s.%s.%s is %s in the table but %s in this export", ErrTypeConflict, s.db, st.Name, c.Name, t, c.Type)
			}
			continue
		}
		if err := s.addColumn(ctx, s.conn, st.Name, c, s.layout.Sharded(st)); err != nil {
			// The next ensureTable reads the columns (and makes the view)
			// again.
			delete(s.tables, st.Name)
			return err
		}
		have[c.Name] = c.Type
		added = append(added, c.Name)
	}
	if len(added) == 0 {
		return nil
	}
	s.log.Warn("schema drift: columns added to the table", "stream", st.Name, "table", s.db+"."+st.Name, "columns", added)
	if s.layout.Sharded(st) {
		if err := s.createDistributed(ctx, st, true); err != nil {
			delete(s.tables, st.Name)
			return err
		}
	}
	if err := s.createView(ctx, st, true); err != nil {
		delete(s.tables, st.Name)
		return err
	}
	return nil
}

// addColumn adds column c to table on conn's server (18.16 has no ADD
// COLUMN IF NOT EXISTS); sharded alters a stream's table ON CLUSTER. When
// the ALTER fails but the column is there all the same, with c's type,
// another process (a shard) added it first, or the server did and its
// answer was lost: that is success.
func (s *Sink) addColumn(ctx context.Context, conn driver.Conn, table string, c Column, sharded bool) error {
	stmt, err := s.layout.AddColumn(s.db, table, c, sharded)
	if err != nil {
		return err
	}
	if err := conn.Exec(ctx, stmt); err != nil {
		// Also when a node of the cluster did not confirm in time: it
		// applies the change when it is back.
		if now, lerr := s.columnsOn(ctx, conn, table); lerr == nil && now[c.Name] == c.Type {
			return nil
		}
		return fmt.Errorf("adding column %s to %s.%s: %w", c.Name, s.db, table, err)
	}
	return nil
}

// createView creates the stream's FINAL view; with replace, it drops it
// first so that it picks up new columns.
func (s *Sink) createView(ctx context.Context, st *schema.Stream, replace bool) error {
	name := ViewName(st.Name)
	if replace {
		stmt, err := s.layout.DropView(s.db, st.Name)
		if err != nil {
			return err
		}
		if err := s.execDDL(ctx, stmt, s.gone(ctx, name)); err != nil {
			return fmt.Errorf("dropping view %s: %w", name, err)
		}
	}
	stmt, err := s.layout.CreateView(s.db, st)
	if err != nil {
		return err
	}
	if err := s.execDDL(ctx, stmt, s.exists(ctx, name)); err != nil {
		return fmt.Errorf("creating view %s: %w", name, err)
	}
	return nil
}

// createDistributed creates the stream's Distributed table over the
// columns of its table here; with replace, it drops it first so that it
// picks up new columns, while no move of this process goes through it.
func (s *Sink) createDistributed(ctx context.Context, st *schema.Stream, replace bool) error {
	name := DistName(st.Name)
	lock := s.moves.get(st.Name)
	lock.Lock()
	defer lock.Unlock()
	if replace {
		stmt, err := s.layout.DropDistributed(s.db, st.Name)
		if err != nil {
			return err
		}
		if err := s.execDDL(ctx, stmt, s.gone(ctx, name)); err != nil {
			return fmt.Errorf("dropping %s: %w", name, err)
		}
	}
	cols, err := s.orderedColumns(ctx, s.conn, st.Name)
	if err != nil {
		return err
	}
	stmt, err := s.layout.CreateDistributed(s.db, st, cols)
	if err != nil {
		return err
	}
	if err := s.execDDL(ctx, stmt, s.exists(ctx, name)); err != nil {
		return fmt.Errorf("creating %s: %w", name, err)
	}
	return nil
}

// exists and gone report, for execDDL, whether table is (or is no longer)
// on the connected server.
func (s *Sink) exists(ctx context.Context, table string) func() bool {
	return func() bool {
		names, err := s.tableNames(ctx)
		return err == nil && names[table]
	}
}

func (s *Sink) gone(ctx context.Context, table string) func() bool {
	return func() bool {
		names, err := s.tableNames(ctx)
		return err == nil && !names[table]
	}
}

// covers reports whether cols has every column of want.
func covers(cols, want map[string]string) bool {
	for c := range want {
		if _, ok := cols[c]; !ok {
			return false
		}
	}
	return true
}

// codeIncompatibleColumns is ClickHouse's INCOMPATIBLE_COLUMNS: REPLACE
// PARTITION from a table of another structure.
const codeIncompatibleColumns = 122

// codeUnknownSetting is ClickHouse's UNKNOWN_SETTING: a query carried a
// setting the server does not know.
const codeUnknownSetting = 115

// stagePrefix names the staging tables of windows being loaded.
const stagePrefix = "_stage_"

// OpenWindow prepares the stream's table for batches of schema sc, and a
// staging table of the same structure that receives the window's rows
// until Commit moves them over in one INSERT … SELECT: a window refused
// half-way (too many rejects, a short file, an error) leaves the table as
// it was.
func (s *Sink) OpenWindow(ctx context.Context, w load.Window, sc *arrow.Schema) (load.WindowWriter, error) {
	cols, missing, err := s.ensureTable(ctx, w.Stream, sc)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.Name
	}
	stage := fmt.Sprintf("%s%s_%d_%d", stagePrefix, w.Stream.Name, w.JobID, time.Now().UnixNano())
	qstage, err := qualified(s.db, stage)
	if err != nil {
		return nil, err
	}
	qtable, err := qualified(s.db, w.Stream.Name)
	if err != nil {
		return nil, err
	}
	// Every statement is built first: a name refused creates nothing.
	ins, err := InsertColumns(s.db, stage, names)
	if err != nil {
		return nil, err
	}
	// On a cluster rows go through the Distributed table, each to the
	// shard of its key.
	target := w.Stream.Name
	if s.layout.Sharded(w.Stream) {
		target = DistName(w.Stream.Name)
	}
	move, err := InsertColumns(s.db, target, names)
	if err != nil {
		return nil, err
	}
	quoted := make([]string, len(names))
	for i, n := range names {
		quoted[i], _ = QuoteIdent(n)
	}
	move += " SELECT " + strings.Join(quoted, ", ") + " FROM " + qstage
	// A snapshot replaces its (contract, date) partition whole; so does an
	// export extracted again from the same start. With no rows, the
	// partition is dropped.
	var drop string
	if partition := windowPartition(w); partition != "" {
		if move, err = ReplacePartition(s.db, w.Stream, partition, stage); err != nil {
			return nil, err
		}
		if drop, err = DropPartition(s.db, w.Stream, partition); err != nil {
			return nil, err
		}
	}
	// A window that replaces partitions needs a stage of the table's very
	// structure and partitioning (REPLACE PARTITION). One moved with
	// INSERT … SELECT does not: a Log table there keeps no parts to merge,
	// so no window, however long, meets "too many parts", and the server
	// spends no time sorting rows twice.
	replace := w.Stream.Snapshot() || w.Stream.PerExport
	conn := s.conn
	var makeStage []string
	switch {
	case replace && s.layout.Sharded(w.Stream):
		// The partition lives on one shard (ShardColumns): stage and
		// replace it on a node of that shard, which replicates the new
		// partition to the shard's other replicas.
		if conn, err = s.ownerConn(ctx, w); err != nil {
			return nil, err
		}
		tcols, err := s.orderedColumns(ctx, conn, w.Stream.Name)
		if err != nil {
			return nil, err
		}
		stmt, err := CreateStage(s.db, stage, w.Stream, tcols)
		if err != nil {
			return nil, err
		}
		makeStage = append(makeStage, stmt)
	case replace:
		// The table's structure; the window's drift columns are added
		// by makeStage (the table gets them at Commit).
		makeStage = append(makeStage, "CREATE TABLE "+qstage+" AS "+qtable)
	default:
		stmt, err := CreateLogTable(s.db, stage, cols)
		if err != nil {
			return nil, err
		}
		makeStage = append(makeStage, stmt)
	}
	if err := s.makeStage(ctx, conn, qstage, stage, makeStage, missing); err != nil {
		return nil, fmt.Errorf("creating staging table for %s: %w", w.Stream.Name, err)
	}
	cw := &window{sink: s, conn: conn, ctx: ctx, stream: w.Stream, insert: ins, move: move, drop: drop, stage: qstage, stageName: stage, cols: cols, missing: missing,
		hash: needsRowHash(w.Stream), replace: replace}
	identity := map[string]int{}
	for i, f := range sc.Fields() {
		if !schema.IsLineage(f.Name) {
			cw.dataCols = append(cw.dataCols, i)
		}
		if slices.Contains(w.Stream.Identity, f.Name) {
			identity[f.Name] = i
		}
	}
	if len(identity) == len(w.Stream.Identity) {
		for _, n := range w.Stream.Identity {
			cw.identityCols = append(cw.identityCols, identity[n])
		}
	}
	return cw, nil
}

// makeStage runs stmts, which create the staging table qstage (bare name
// stage), then adds the window's drift columns it lacks: a stage made AS
// the table has those another window added since Open. On an error the
// stage is dropped.
func (s *Sink) makeStage(ctx context.Context, conn driver.Conn, qstage, stage string, stmts []string, missing []Column) error {
	err := func() error {
		for _, stmt := range stmts {
			if err := conn.Exec(ctx, stmt); err != nil {
				return err
			}
		}
		if len(missing) == 0 {
			return nil
		}
		have, err := s.columnsOn(ctx, conn, stage)
		if err != nil {
			return err
		}
		for _, c := range missing {
			if _, ok := have[c.Name]; ok {
				continue
			}
			if err := s.addColumn(ctx, conn, stage, c, false); err != nil {
				return err
			}
		}
		return nil
	}()
	if err != nil {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		_ = conn.Exec(dctx, "DROP TABLE IF EXISTS "+qstage)
	}
	return err
}

// dropStale drops staging tables left by runs that died more than six
// hours ago (a window lives in its staging table for minutes).
func (s *Sink) dropStale(ctx context.Context, conn driver.Conn) error {
	rows, err := conn.Query(ctx, "SELECT name FROM system.tables WHERE database = ? AND startsWith(name, ?) AND metadata_modification_time < now() - 21600", s.db, stagePrefix)
	if err != nil {
		return err
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return err
		}
		names = append(names, n)
	}
	rows.Close()
	for _, n := range names {
		q, err := qualified(s.db, n)
		if err != nil {
			return err
		}
		if err := conn.Exec(ctx, "DROP TABLE IF EXISTS "+q); err != nil {
			return err
		}
		s.log.Info("dropped a stale staging table", "table", n)
	}
	return nil
}

type window struct {
	sink         *Sink
	conn         driver.Conn // the server of the staging table
	ctx          context.Context
	stream       *schema.Stream
	insert       string // into the staging table
	move         string // INSERT … SELECT, or REPLACE PARTITION, from staging into the table
	drop         string // with REPLACE PARTITION: DROP PARTITION, the move of an empty stage
	stage        string // the staging table, quoted
	stageName    string // and its bare name
	replace      bool   // move is REPLACE PARTITION: the stage's structure must be the table's
	committed    bool
	stageDropped bool
	cols         []Column
	missing      []Column // columns the table lacked at Open: added at Commit
	hash         bool
	dataCols     []int // batch columns hashed into _row_hash
	identityCols []int // or these, when the row has them all

	batch   driver.Batch
	pending int
	rows    int64
	inserts int
	closed  bool
}

// Write appends rec column by column to the open INSERT, sending it once it
// holds BatchRows rows.
func (w *window) Write(ctx context.Context, rec arrow.RecordBatch) error {
	if w.closed {
		return load.ErrWindowClosed
	}
	n := int(rec.NumRows())
	if n == 0 {
		return nil
	}
	if w.batch == nil {
		b, err := w.conn.PrepareBatch(w.ctx, w.insert)
		if err != nil {
			return fmt.Errorf("preparing insert into %s: %w", w.stream.Name, err)
		}
		w.batch = b
	}
	for i := range rec.NumCols() {
		v, err := columnValues(rec.Column(int(i)), rec.Schema().Field(int(i)).Nullable)
		if err != nil {
			return fmt.Errorf("loading %s.%s: %w", w.stream.Name, rec.ColumnName(int(i)), err)
		}
		if err := w.batch.Column(int(i)).Append(v); err != nil {
			w.Abort()
			return fmt.Errorf("loading %s.%s: %w", w.stream.Name, rec.ColumnName(int(i)), err)
		}
	}
	if w.hash {
		if err := w.batch.Column(int(rec.NumCols())).Append(rowHashes(rec, w.identityCols, w.dataCols)); err != nil {
			w.Abort()
			return fmt.Errorf("loading %s.%s: %w", w.stream.Name, RowHashColumn, err)
		}
	}
	w.pending += n
	w.rows += int64(n)
	if w.pending >= w.sink.cfg.BatchRows {
		return w.send()
	}
	return ctx.Err()
}

func (w *window) send() error {
	if w.batch == nil {
		return nil
	}
	b := w.batch
	w.batch = nil
	if err := b.Send(); err != nil {
		w.closed = true
		w.dropStage()
		return fmt.Errorf("inserting %d rows into %s.%s: %w", w.pending, w.sink.db, w.stream.Name, err)
	}
	w.inserts++
	w.sink.log.Debug("inserted", "stream", w.stream.Name, "rows", w.pending)
	w.pending = 0
	return nil
}

// Commit sends the last rows to the staging table, moves them all into
// the stream's table in one INSERT … SELECT, and drops the staging table.
// A re-load of the same rows collapses into one through the table's key.
func (w *window) Commit(ctx context.Context) (load.Stats, error) {
	if w.closed {
		return load.Stats{}, load.ErrWindowClosed
	}
	if err := w.send(); err != nil {
		w.dropStage()
		return load.Stats{}, err
	}
	w.closed = true
	if w.rows > 0 || w.stream.Snapshot() || w.stream.PerExport {
		// The rows are all in the stage: the move runs to its end even if
		// the run is being cancelled, within a deadline of its own.
		mctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Minute)
		// The window's drift columns go into the table now that its rows
		// are all here. Another window of the stream may have added a
		// drift column to the table since this stage was made: REPLACE
		// PARTITION needs the same structure. The lock keeps columns from
		// being added between the check and the move.
		w.sink.mu.Lock()
		err := w.sink.addColumns(mctx, w.stream, w.missing)
		if err == nil && w.replace {
			// Another process (a shard) may add a column between the
			// check and the move, which then fails on the structure:
			// match again and move once more.
			for try := 0; try < 2; try++ {
				if w.rows == 0 {
					// Current ClickHouse refuses to replace a
					// partition from an empty stage (DropPartition).
					err = w.conn.Exec(mctx, w.drop)
				} else if err = w.matchStage(mctx); err == nil {
					err = w.conn.Exec(mctx, w.move)
				}
				var ex *clickhouse.Exception
				if !errors.As(err, &ex) || ex.Code != codeIncompatibleColumns {
					break
				}
			}
		}
		w.sink.mu.Unlock()
		if err == nil && !w.replace {
			// On a cluster, synchronously: the rows are on their shards
			// when the cursor moves; and not while this process rebuilds
			// the Distributed table.
			lock := w.sink.moves.get(w.stream.Name)
			lock.RLock()
			err = execMove(clickhouse.Context(mctx, clickhouse.WithSettings(MoveSettings())), w.conn, w.move)
			lock.RUnlock()
		}
		cancel()
		if err != nil {
			w.dropStage()
			return load.Stats{}, fmt.Errorf("moving %d rows into %s.%s: %w", w.rows, w.sink.db, w.stream.Name, err)
		}
	}
	w.committed = true
	w.dropStage()
	return load.Stats{Rows: w.rows, Files: w.inserts}, nil
}

// windowPartition is the partition literal a window of a snapshot or
// per-export stream replaces, or "" for a stream whose rows are merged.
func windowPartition(w load.Window) string {
	switch {
	case w.Stream.Snapshot():
		return SnapshotPartition(w.Contract, w.SnapshotDate())
	case w.Stream.PerExport:
		return ExportPartition(w.Contract, w.Start)
	}
	return ""
}

// matchStage adds to the staging table the columns the stream's table
// gained since the stage was made. The caller holds the sink's lock.
func (w *window) matchStage(ctx context.Context) error {
	stage, err := w.sink.columnsOn(ctx, w.conn, w.stageName)
	if err != nil {
		return err
	}
	// In the table's order: REPLACE PARTITION compares structures.
	table, err := w.sink.orderedColumns(ctx, w.conn, w.stream.Name)
	if err != nil {
		return err
	}
	for _, c := range table {
		if _, ok := stage[c.Name]; ok {
			continue
		}
		if err := w.sink.addColumn(ctx, w.conn, w.stageName, c, false); err != nil {
			return err
		}
	}
	return nil
}

// Abort drops the window's rows: the unsent ones and the staging table.
// After Commit it does nothing.
func (w *window) Abort() error {
	w.closed = true
	var err error
	if w.batch != nil {
		err = w.batch.Abort()
		w.batch = nil
	}
	if !w.committed {
		w.dropStage()
	}
	return err
}

// dropStage drops the staging table, even while the run is being
// cancelled (a leftover would also be dropped by a later Open).
func (w *window) dropStage() {
	if w.stageDropped {
		return
	}
	w.stageDropped = true
	ctx, cancel := context.WithTimeout(context.WithoutCancel(w.ctx), 30*time.Second)
	defer cancel()
	if err := w.conn.Exec(ctx, "DROP TABLE IF EXISTS "+w.stage); err != nil {
		w.sink.log.Warn("dropping a staging table", "table", w.stage, "error", err)
	}
}

// columnValues converts an Arrow array into the slice clickhouse-go appends
// column-wise: []T, or []*T for nullable columns.
func columnValues(arr arrow.Array, nullable bool) (any, error) {
	n := arr.Len()
	switch a := arr.(type) {
	case *array.String:
		return values(n, nullable, a.IsNull, a.Value), nil
	case *array.Int64:
		if !nullable {
			return a.Int64Values(), nil
		}
		return nullables(n, a.IsNull, a.Value), nil
	case *array.Float64:
		if !nullable {
			return a.Float64Values(), nil
		}
		return nullables(n, a.IsNull, a.Value), nil
	case *array.Boolean:
		return values(n, nullable, a.IsNull, func(i int) uint8 {
			if a.Value(i) {
				return 1
			}
			return 0
		}), nil
	case *array.Timestamp:
		return values(n, nullable, a.IsNull, func(i int) time.Time { return time.UnixMilli(int64(a.Value(i))).UTC() }), nil
	case *array.Date32:
		return values(n, nullable, a.IsNull, func(i int) time.Time { return a.Value(i).ToTime() }), nil
	}
	return nil, fmt.Errorf("no ClickHouse conversion for %s", arr.DataType())
}

// values is []T of value, or []*T with nil for nulls when nullable.
func values[T any](n int, nullable bool, isNull func(int) bool, value func(int) T) any {
	if nullable {
		return nullables(n, isNull, value)
	}
	out := make([]T, n)
	for i := range n {
		out[i] = value(i)
	}
	return out
}

func nullables[T any](n int, isNull func(int) bool, value func(int) T) []*T {
	vals := make([]T, n)
	out := make([]*T, n)
	for i := range n {
		if !isNull(i) {
			vals[i] = value(i)
			out[i] = &vals[i]
		}
	}
	return out
}

// rowHashes hashes each row (FNV-64a of the text forms of its columns,
// with a separator and a null marker): its identity columns when it has
// them all, else all its data columns.
func rowHashes(rec arrow.RecordBatch, identity, data []int) []uint64 {
	n := int(rec.NumRows())
	out := make([]uint64, n)
	h := fnv.New64a()
	for r := range n {
		h.Reset()
		cols := data
		if len(identity) > 0 && !slices.ContainsFunc(identity, func(c int) bool { return rec.Column(c).IsNull(r) }) {
			cols = identity
			h.Write([]byte("id\x1f"))
		}
		for _, c := range cols {
			a := rec.Column(c)
			if a.IsNull(r) {
				h.Write([]byte{0})
			} else {
				h.Write([]byte(a.ValueStr(r)))
			}
			h.Write([]byte{0x1f})
		}
		out[r] = h.Sum64()
	}
	return out
}

var (
	_ load.MergeSink = (*Sink)(nil)
	_ load.Reader    = (*Sink)(nil)
)

// MergeDimension inserts rec into the dimension's table, where the newest
// version of each key wins (ReplacingMergeTree); its view reads it FINAL.
func (s *Sink) MergeDimension(ctx context.Context, st *schema.Stream, rec arrow.RecordBatch) (load.Stats, error) {
	if !st.Merge {
		return load.Stats{}, fmt.Errorf("merging %s: it is replaced whole, not merged", st.Name)
	}
	return s.ReplaceDimension(ctx, st, rec)
}

// Distinct reads the distinct values of cols from the stream's view (one
// row per key). Names are quoted, never spliced raw.
func (s *Sink) Distinct(ctx context.Context, stream string, cols []string) ([][]string, error) {
	have, err := s.existingColumns(ctx, stream)
	if err != nil {
		return nil, err
	}
	exprs := make([]string, len(cols))
	for i, c := range cols {
		if _, ok := have[c]; !ok {
			return nil, nil // no table, or no such column yet
		}
		q, err := QuoteIdent(c)
		if err != nil {
			return nil, err
		}
		exprs[i] = "ifNull(toString(" + q + "), '')"
	}
	view, err := qualified(s.db, ViewName(stream))
	if err != nil {
		return nil, err
	}
	rows, err := s.conn.Query(ctx, "SELECT DISTINCT "+strings.Join(exprs, ", ")+" FROM "+view)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", ViewName(stream), err)
	}
	defer rows.Close()
	var out [][]string
	for rows.Next() {
		row := make([]string, len(cols))
		ptrs := make([]any, len(cols))
		for i := range row {
			ptrs[i] = &row[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, fmt.Errorf("reading %s: %w", ViewName(stream), err)
		}
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading %s: %w", ViewName(stream), err)
	}
	slices.SortFunc(out, func(a, b []string) int { return slices.Compare(a, b) })
	return out, nil
}
