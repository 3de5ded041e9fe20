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
