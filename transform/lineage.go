package transform

import (
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/salesnav-etl/salesnav-etl/schema"
)

// Lineage is stamped on every row read.
type Lineage struct {
	// Contract is the contract URN, or the CRM instance URN of a
	// per-export stream.
	Contract string
	// WindowStart and WindowEnd bound the export, both inclusive. When
	// WindowEnd is set, rows of a partitioned stream whose time falls
	// outside the window are rejected. For a per-export stream they are
	// the exportStartAt sent and the job's nextExportStartAt.
	WindowStart, WindowEnd time.Time
	JobID                  int64
	ExtractedAt            time.Time
	// SnapshotDate is the date of a snapshot stream's rows.
	SnapshotDate time.Time
}

// appendLineage fills the lineage columns of the n rows just appended.
func (r *Reader) appendLineage(n int) {
	l := r.cfg.lineage
	if l == nil {
		return
	}
	sb := r.bld.Field(r.lin.owner).(*array.StringBuilder)
	sb.ReserveData(n * len(l.Contract))
	for range n {
		sb.Append(l.Contract)
	}
	fillTS := func(b array.Builder, t time.Time) {
		switch tb := b.(type) {
		case *array.TimestampBuilder:
			v := arrow.Timestamp(t.UnixMilli())
			tb.Reserve(n)
			for range n {
				tb.UnsafeAppend(v)
			}
		case *array.Int64Builder: // per-export bounds, epoch ms
			v := t.UnixMilli()
			tb.Reserve(n)
			for range n {
				tb.UnsafeAppend(v)
			}
		}
	}
	fillTS(r.bld.Field(r.lin.start), l.WindowStart)
	fillTS(r.bld.Field(r.lin.end), l.WindowEnd)
	jb := r.bld.Field(r.lin.jobID).(*array.Int64Builder)
	jb.Reserve(n)
	for range n {
		jb.UnsafeAppend(l.JobID)
	}
	fillTS(r.bld.Field(r.lin.extractedAt), l.ExtractedAt)
	if r.lin.snapshotDate >= 0 {
		db := r.bld.Field(r.lin.snapshotDate).(*array.Date32Builder)
		d := arrow.Date32FromTime(l.SnapshotDate)
		db.Reserve(n)
		for range n {
			db.UnsafeAppend(d)
		}
	}
}

// lineageCols are the indices of the lineage columns in a batch, found by
// name; snapshotDate is -1 for a stream that has none.
type lineageCols struct {
	owner, start, end, jobID, extractedAt, snapshotDate int
}

func lineageIndices(s *arrow.Schema, n schema.LineageNames) lineageCols {
	idx := func(name string) int {
		if name == "" {
			return -1
		}
		return s.FieldIndices(name)[0]
	}
	return lineageCols{owner: idx(n.Owner), start: idx(n.Start), end: idx(n.End), jobID: idx(n.JobID),
		extractedAt: idx(n.ExtractedAt), snapshotDate: idx(n.SnapshotDate)}
}
