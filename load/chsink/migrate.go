package chsink

import (
	"context"
	"fmt"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/apache/arrow-go/v18/arrow"

	"github.com/salesnav-etl/salesnav-etl/schema"
)

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
	for i, c := range cols {
		t, exists := have[c.Name]
		switch {
		case !exists:
			missing = append(missing, c)
		case t != c.Type && c.Name == st.DayColumn && c.Type == "Nullable("+t+")" && !dayNullable(sc, c.Name):
			// A table made when the day column was required: exports
			// that have the column still load into it.
			cols[i].Type = t
		case t != c.Type:
			return nil, nil, fmt.Errorf("%w: %s.%s.%s is %s in the table but %s in this export", ErrTypeConflict, s.db, st.Name, c.Name, t, c.Type)
		}
	}
	return cols, missing, nil
}

// dayNullable reports whether the batch schema sc's day column name may
// hold nulls (the export lacked it).
func dayNullable(sc *arrow.Schema, name string) bool {
	f, ok := sc.FieldsByName(name)
	return !ok || f[0].Nullable
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
