package pipeline

// Which keys a run looks up, without reading all history.
//
// A run looks up the keys of SALESNAV_ASSOCIATION_KEYS_FILE, the CRM
// records of the crm_validation exports loaded since the associations last
// ran, and the keys loaded before that must be asked again (askAgain:
// ERROR ones, UNMATCHED ones older than AssociationRecheck); less the keys
// whose newest row is an answer not to ask again.
//
// "Since the associations last ran" is a watermark per CRM instance, kept
// in the state as the cursor of (profile_associations, instance URN): the
// greatest _next_export_start_at among the exports whose records were
// looked up. The run reads only the exports that end after it
// (load.ExportReader), and saves the new watermarks last, once every key
// is looked up and merged. So:
//
//   - a crash (or a stop, a spent quota, a failed batch) before that
//     point keeps the old watermarks: the next run reads the same exports
//     again, and asks again only their keys without an answer yet;
//   - a crash between the CRM load and the associations (or a run of
//     crm_validation alone) leaves exports after the watermark: the next
//     run that looks associations up reads them;
//   - an export extracted again from its start (a crash before the CRM
//     cursor was saved) ends later than before: it is read again;
//   - `state reset --stream crm_validation` resets these watermarks too
//     (the exports loaded again may start before them), and
//     `state reset --stream profile_associations` makes the next run read
//     every export again.
//
// The re-asked keys come from the profile_associations dimension itself
// (load.KeyReader: a filtered query in ClickHouse; in Parquet one pass
// over a few columns of its parts, holding only the picked rows).

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/salesnav-etl/salesnav-etl/extract"
	"github.com/salesnav-etl/salesnav-etl/load"
	"github.com/salesnav-etl/salesnav-etl/schema"
)

// associationKeys returns the keys to look up, in order (the configured
// ones, then the CRM records, then the keys asked again), and the
// watermarks to save once they are looked up and merged.
func (r *Runner) associationKeys(ctx context.Context, st *schema.Stream) ([]extract.AssociationKey, map[string]int64, error) {
	keys := make([]extract.AssociationKey, 0, len(r.cfg.AssociationKeys))
	seen := map[extract.AssociationKey]bool{}
	add := func(k extract.AssociationKey) {
		if !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	for _, k := range r.cfg.AssociationKeys {
		add(k)
	}
	if r.can.Exports == nil || r.can.Keys == nil {
		return keys, nil, nil
	}
	after, err := r.watermarks(ctx, st)
	if err != nil {
		return nil, nil, err
	}
	crm, err := r.can.Exports.DistinctAfter(ctx, schema.CRMValidation.Name,
		[]string{schema.LineageCRMInstance, schema.CRMRecordIDColumn, schema.LineageNextExportStartAt}, after)
	if err != nil {
		return nil, nil, fmt.Errorf("reading CRM records from %s: %w", schema.CRMValidation.Name, err)
	}
	marks := map[string]int64{}
	bad := map[string]bool{}
	for _, row := range crm {
		if next, err := strconv.ParseInt(row[2], 10, 64); err == nil && next > marks[row[0]] && next > after[row[0]] {
			marks[row[0]] = next
		}
		if row[1] == "" {
			continue
		}
		partner, id, err := ParseCRMInstance(row[0])
		if err != nil {
			if !bad[row[0]] {
				bad[row[0]] = true
				r.log.Warn("skipping CRM records of an unparsable instance", "crm_instance", row[0], "error", err)
			}
			continue
		}
		add(extract.AssociationKey{InstanceID: id, Partner: partner, RecordID: row[1]})
	}
	// The newest row of each of these keys, and of each key that may be
	// asked again.
	want := make([][]string, len(keys))
	for i, k := range keys {
		want[i] = []string{k.InstanceID, k.Partner, k.RecordID}
	}
	done, err := r.can.Keys.Latest(ctx, st, []string{"instanceId", "partner", "recordId", "status", "fetchedAt"},
		load.RowFilter{Keys: want, Column: "status", Except: []string{schema.AssociationMatched}})
	if err != nil {
		return nil, nil, fmt.Errorf("reading %s: %w", st.Name, err)
	}
	skip := map[extract.AssociationKey]bool{}
	for _, row := range done {
		k := extract.AssociationKey{InstanceID: row[0], Partner: row[1], RecordID: row[2]}
		if askAgain(row[3], row[4], r.cfg.Now(), r.cfg.AssociationRecheck) {
			add(k)
		} else {
			skip[k] = true
		}
	}
	out := keys[:0]
	for _, k := range keys {
		if !skip[k] {
			out = append(out, k)
		}
	}
	return out, marks, nil
}

// watermarks reads the saved watermark of each CRM instance (epoch ms).
func (r *Runner) watermarks(ctx context.Context, st *schema.Stream) (map[string]int64, error) {
	entries, err := r.state.List(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading %s watermarks: %w", st.Name, err)
	}
	after := map[string]int64{}
	for _, e := range entries {
		if e.Stream == st.Name && e.Cursor != nil {
			after[e.Contract] = e.Cursor.UnixMilli()
		}
	}
	return after, nil
}

// saveWatermarks saves the watermarks moved by a run, even when the run is
// being cancelled (its lookups are merged).
func (r *Runner) saveWatermarks(ctx context.Context, st *schema.Stream, marks map[string]int64) error {
	sctx, cancel := detached(ctx)
	defer cancel()
	for urn, ms := range marks {
		if err := r.state.SetCursor(sctx, st.Name, urn, time.UnixMilli(ms).UTC()); err != nil {
			return fmt.Errorf("saving %s watermark of %s: %w", st.Name, urn, err)
		}
	}
	return nil
}
