package chsink

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/salesnav-etl/salesnav-etl/load"
	"github.com/salesnav-etl/salesnav-etl/schema"
)

var (
	_ load.ExportReader = (*Sink)(nil)
	_ load.KeyReader    = (*Sink)(nil)
)

// keysPerQuery bounds the keys of one Latest query (a query's text is
// limited: max_query_size, 256 KiB by default).
const keysPerQuery = 1000

// DistinctAfter reads the view with a condition on the lineage: the rows
// of instances not in after, and of each instance in after those whose
// _next_export_start_at is greater.
func (s *Sink) DistinctAfter(ctx context.Context, stream string, cols []string, after map[string]int64) ([][]string, error) {
	if len(after) == 0 {
		return s.selectDistinct(ctx, stream, cols, "")
	}
	owner, err := QuoteIdent(schema.LineageCRMInstance)
	if err != nil {
		return nil, err
	}
	next, err := QuoteIdent(schema.LineageNextExportStartAt)
	if err != nil {
		return nil, err
	}
	urns := make([]string, 0, len(after))
	for urn := range after {
		urns = append(urns, urn)
	}
	slices.Sort(urns)
	quoted := make([]string, len(urns))
	conds := make([]string, 0, len(urns)+1)
	for i, urn := range urns {
		quoted[i] = QuoteString(urn)
		conds = append(conds, fmt.Sprintf("(%s = %s AND %s > %s)", owner, quoted[i], next, strconv.FormatInt(after[urn], 10)))
	}
	conds = append(conds, fmt.Sprintf("%s NOT IN (%s)", owner, strings.Join(quoted, ", ")))
	return s.selectDistinct(ctx, stream, cols, strings.Join(conds, " OR "))
}

// Latest reads the dimension's view (FINAL: the newest row of each key),
// keysPerQuery keys at a time, the first query also picking the rows by
// f.Column.
func (s *Sink) Latest(ctx context.Context, st *schema.Stream, cols []string, f load.RowFilter) ([][]string, error) {
	keyCols := make([]string, len(st.Key))
	for i, k := range st.Key {
		q, err := QuoteIdent(k)
		if err != nil {
			return nil, err
		}
		keyCols[i] = "toString(" + q + ")"
	}
	tuple := "(" + strings.Join(keyCols, ", ") + ")"
	var byColumn string
	if f.Column != "" {
		q, err := QuoteIdent(f.Column)
		if err != nil {
			return nil, err
		}
		byColumn = "1" // no value excepted: every row
		if len(f.Except) > 0 {
			ex := make([]string, len(f.Except))
			for i, v := range f.Except {
				ex[i] = QuoteString(v)
			}
			byColumn = "ifNull(toString(" + q + "), '') NOT IN (" + strings.Join(ex, ", ") + ")"
		}
	}
	read := append(append([]string{}, st.Key...), cols...)
	picked := map[string][]string{}
	for start := 0; start == 0 || start < len(f.Keys); start += keysPerQuery {
		var conds []string
		if start == 0 && byColumn != "" {
			conds = append(conds, byColumn)
		}
		if chunk := f.Keys[start:min(start+keysPerQuery, len(f.Keys))]; len(chunk) > 0 {
			tuples := make([]string, len(chunk))
			for i, k := range chunk {
				vals := make([]string, len(k))
				for j, v := range k {
					vals[j] = QuoteString(v)
				}
				tuples[i] = "(" + strings.Join(vals, ", ") + ")"
			}
			conds = append(conds, tuple+" IN ("+strings.Join(tuples, ", ")+")")
		}
		if len(conds) == 0 {
			break
		}
		rows, err := s.selectDistinct(ctx, st.Name, read, strings.Join(conds, " OR "))
		if err != nil {
			return nil, err
		}
		for _, row := range rows {
			picked[strings.Join(row[:len(st.Key)], "\x00")] = row[len(st.Key):]
		}
	}
	out := make([][]string, 0, len(picked))
	for _, row := range picked {
		out = append(out, row)
	}
	slices.SortFunc(out, func(a, b []string) int { return slices.Compare(a, b) })
	return out, nil
}
