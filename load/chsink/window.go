package chsink

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/apache/arrow-go/v18/arrow"

	"github.com/salesnav-etl/salesnav-etl/load"
	"github.com/salesnav-etl/salesnav-etl/schema"
)

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
	// Unique to this window even when two runs at once load the same job
	// (both resumed it from the state): the clock and random bits.
	stage := fmt.Sprintf("%s%s_%d_%d_%08x", stagePrefix, w.Stream.Name, w.JobID, time.Now().UnixNano(), rand.Uint32())
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
	// export extracted again from the same start, with no rows too.
	if partition := windowPartition(w); partition != "" {
		if move, err = ReplacePartition(s.db, w.Stream, partition, stage); err != nil {
			return nil, err
		}
	}
	// A window that replaces partitions needs a stage of the table's very
	// structure and partitioning (REPLACE PARTITION). One moved with
	// INSERT … SELECT does not: a Log table there keeps no parts to merge,
	// so no window, however long, meets "too many parts", and the server
	// spends no time sorting rows twice.
	replace := w.Stream.ReplacesPartitions()
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
	cw := &window{sink: s, conn: conn, stream: w.Stream, insert: ins, move: move, stage: qstage, stageName: stage, cols: cols, missing: missing,
		hash: needsRowHash(w.Stream), replace: replace}
	cw.identityCols, cw.dataCols = w.Stream.HashColumns(sc)
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
	stream       *schema.Stream
	insert       string // into the staging table
	move         string // INSERT … SELECT, or REPLACE PARTITION, from staging into the table
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
		b, err := w.conn.PrepareBatch(ctx, w.insert)
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
		if err := w.batch.Column(int(rec.NumCols())).Append(schema.RowHashes(rec, w.identityCols, w.dataCols)); err != nil {
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
	if w.rows > 0 || w.stream.ReplacesPartitions() {
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
				if err = w.matchStage(mctx); err == nil {
					// An empty stage empties the partition: current
					// servers do so only when asked (ReplaceSettings).
					err = w.conn.Exec(clickhouse.Context(mctx, clickhouse.WithSettings(ReplaceSettings(w.sink.version))), w.move)
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
	case w.Stream.PerExport():
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
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := w.conn.Exec(ctx, "DROP TABLE IF EXISTS "+w.stage); err != nil {
		w.sink.log.Warn("dropping a staging table", "table", w.stage, "error", err)
	}
}
