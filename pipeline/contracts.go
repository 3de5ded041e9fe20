package pipeline

import (
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/salesnav-etl/salesnav-etl/extract"
	"github.com/salesnav-etl/salesnav-etl/schema"
)

// loadContracts replaces the contracts dimension with the contracts the
// member can see, stamped with when they were seen.
func (r *Runner) loadContracts(ctx context.Context, sum *Summary, st *schema.Stream, contracts []extract.Contract) error {
	ds := r.can.Dimensions
	if ds == nil {
		return fmt.Errorf("the sink keeps no dimension tables (%s)", st.Name)
	}
	b := schema.NewBuilder(r.cfg.Allocator, st.Schema())
	defer b.Release()
	seen := arrow.Timestamp(r.cfg.Now().UnixMilli())
	for _, c := range contracts {
		b.String("contract", c.Contract)
		b.String("name", c.Name)
		if c.Description != nil {
			b.String("description", *c.Description)
		} else {
			b.Col("description").AppendNull()
		}
		b.Col("hasReportingAccess").(*array.BooleanBuilder).Append(c.HasReportingAccess)
		b.Col("seenAt").(*array.TimestampBuilder).Append(seen)
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	stats, err := ds.ReplaceDimension(ctx, st, rec)
	if err != nil {
		return fmt.Errorf("loading %s: %w", st.Name, err)
	}
	sum.addWindow(st.Name, stats.Rows, 0, stats.Files, 0, stats.Bytes, nil, "")
	r.cfg.Observer.Progress(st.Name, stats.Rows, 0)
	r.log.Info("dimension loaded", "stream", st.Name, "rows", stats.Rows)
	return nil
}

// hadContracts reports whether the member had contracts before this run:
// a cursor or job of an analytics stream in the state, or rows in the
// contracts dimension. An empty list then is LinkedIn's fault or a wrong
// token, not a member without contracts.
func (r *Runner) hadContracts(ctx context.Context) bool {
	es, err := r.state.List(ctx)
	if err != nil {
		r.log.Warn("reading state to check an empty contract list", "error", err)
	}
	for _, e := range es {
		if st, err := schema.Lookup(e.Stream); err == nil && st.Extract == schema.AnalyticsExport {
			return true
		}
	}
	if r.can.Reader == nil {
		return false
	}
	rows, err := r.can.Reader.Distinct(ctx, schema.Contracts.Name, []string{"contract"})
	if err != nil {
		r.log.Warn("reading the contracts dimension to check an empty contract list", "error", err)
	}
	return len(rows) > 0
}
