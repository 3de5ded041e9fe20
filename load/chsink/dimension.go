package chsink

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/salesnav-etl/salesnav-etl/load"
	"github.com/salesnav-etl/salesnav-etl/schema"
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

var (
	_ load.MergeSink = (*Sink)(nil)
	_ load.Reader    = (*Sink)(nil)
)

// MergeDimension inserts rec into the dimension's table, where the newest
// version of each key wins (ReplacingMergeTree); its view reads it FINAL.
func (s *Sink) MergeDimension(ctx context.Context, st *schema.Stream, rec arrow.RecordBatch) (load.Stats, error) {
	if !st.Merge() {
		return load.Stats{}, fmt.Errorf("merging %s: it is replaced whole, not merged", st.Name)
	}
	return s.ReplaceDimension(ctx, st, rec)
}

// Distinct reads the distinct values of cols from the stream's view (one
// row per key). Names are quoted, never spliced raw.
func (s *Sink) Distinct(ctx context.Context, stream string, cols []string) ([][]string, error) {
	return s.selectDistinct(ctx, stream, cols, "")
}

// selectDistinct reads the distinct values of cols from the stream's view,
// of the rows where the condition where holds (all when it is ""). A
// table without one of cols gives none.
func (s *Sink) selectDistinct(ctx context.Context, stream string, cols []string, where string) ([][]string, error) {
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
	query := "SELECT DISTINCT " + strings.Join(exprs, ", ") + " FROM " + view
	if where != "" {
		query += " WHERE " + where
	}
	rows, err := s.conn.Query(ctx, query)
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
