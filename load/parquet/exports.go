package parquet

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/salesnav-etl/salesnav-etl/load"
	"github.com/salesnav-etl/salesnav-etl/schema"
)

var _ load.ExportReader = (*Sink)(nil)

// export is one partition of a per-export stream.
type export struct {
	name  string
	owner string // the partition id of its instance
	start int64  // exportStartAt, epoch ms
}

// exports lists the partitions of a per-export stream from their paths
// (<stream>/crm_instance=<id>/export_start_at=<ms>/data.parquet).
func (p *Sink) exports(ctx context.Context, stream string) ([]export, error) {
	names, err := p.st.List(ctx, stream+"/", DataFileName)
	if err != nil {
		return nil, err
	}
	var out []export
	for _, name := range names {
		dirs := strings.Split(strings.TrimPrefix(name, stream+"/"), "/")
		if len(dirs) != 3 {
			continue
		}
		owner, ok1 := strings.CutPrefix(dirs[0], schema.ExportPartitionKeys[0]+"=")
		start, ok2 := strings.CutPrefix(dirs[1], schema.ExportPartitionKeys[1]+"=")
		ms, err := strconv.ParseInt(start, 10, 64)
		if !ok1 || !ok2 || err != nil {
			continue
		}
		out = append(out, export{name: name, owner: owner, start: ms})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].owner != out[j].owner {
			return out[i].owner < out[j].owner
		}
		return out[i].start < out[j].start
	})
	return out, nil
}

// DistinctAfter reads, of each instance in after, the exports that start
// at or after after[instance] and the latest one that starts before it
// when it ends after it (extracted again from its start, it may end
// later: its _next_export_start_at column is read first), keeping their rows
// whose _next_export_start_at is greater; of other instances, every
// export. It lists the stream's files and opens only those.
func (p *Sink) DistinctAfter(ctx context.Context, stream string, cols []string, after map[string]int64) ([][]string, error) {
	exps, err := p.exports(ctx, stream)
	if err != nil {
		return nil, err
	}
	byOwner := make(map[string]int64, len(after))
	for urn, ms := range after {
		byOwner[load.PartitionID(urn)] = ms
	}
	read := uniqueNames(append(append([]string{}, cols...), schema.LineageNextExportStartAt))
	nextIdx := len(read) - 1
	for i, c := range read {
		if c == schema.LineageNextExportStartAt {
			nextIdx = i
		}
	}
	seen := map[string][]string{}
	for i, e := range exps {
		limit, known := byOwner[e.owner]
		if known && e.start < limit {
			// Before the watermark: only the latest such export can end
			// after it.
			if i+1 < len(exps) && exps[i+1].owner == e.owner && exps[i+1].start < limit {
				continue
			}
			// Its end first: one column, the same in every row.
			later, err := p.endsAfter(ctx, e.name, limit)
			if err != nil {
				return nil, err
			}
			if !later {
				continue
			}
		}
		tbl, ok, err := p.readTable(ctx, e.name, read)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		err = eachRow(tbl, func(row []string) {
			if known {
				next, err := strconv.ParseInt(row[nextIdx], 10, 64)
				if err == nil && next <= limit {
					return
				}
			}
			row = row[:len(cols)]
			k := strings.Join(row, "\x00")
			if _, dup := seen[k]; !dup {
				seen[k] = row
			}
		})
		tbl.Release()
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", p.st.Location(e.name), err)
		}
	}
	out := make([][]string, 0, len(seen))
	for _, row := range seen {
		out = append(out, row)
	}
	sortRows(out)
	return out, nil
}

// endsAfter reports whether a row of the export file name has a
// _next_export_start_at greater than limit.
func (p *Sink) endsAfter(ctx context.Context, name string, limit int64) (bool, error) {
	tbl, ok, err := p.readTable(ctx, name, []string{schema.LineageNextExportStartAt})
	if err != nil || !ok {
		return false, err
	}
	defer tbl.Release()
	later := false
	err = eachRow(tbl, func(row []string) {
		if next, err := strconv.ParseInt(row[0], 10, 64); err == nil && next > limit {
			later = true
		}
	})
	if err != nil {
		return false, fmt.Errorf("reading %s: %w", p.st.Location(name), err)
	}
	return later, nil
}
