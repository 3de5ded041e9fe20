package pipeline

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/salesnav-etl/salesnav-etl/extract"
	"github.com/salesnav-etl/salesnav-etl/load"
	"github.com/salesnav-etl/salesnav-etl/schema"
)

// DefaultAssociationBatch is how many keys one batch lookup asks for.
const DefaultAssociationBatch = 100

// DefaultAssociationRecheck is how long a key without a match stays
// unasked: CRM records and profiles change.
const DefaultAssociationRecheck = 30 * 24 * time.Hour

// MaxAssociationBatch bounds a batch (LinkedIn documents no limit; the
// request URL grows with every key).
const MaxAssociationBatch = 500

// associationsPerLoad is how many looked-up keys are merged into the sink
// at a time, so that a run stopped half-way keeps what it fetched.
const associationsPerLoad = 5000

// ReadAssociationKeys reads profile association keys from CSV with a header
// naming the columns instanceId, partner and recordId (in any order; other
// columns are ignored). Errors name the source and the line.
func ReadAssociationKeys(r io.Reader, source string) ([]extract.AssociationKey, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: empty file: want a header with instanceId, partner, recordId", source)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	idx := map[string]int{}
	for i, h := range header {
		idx[strings.TrimPrefix(strings.TrimSpace(h), "\ufeff")] = i
	}
	var missing []string
	for _, c := range []string{"instanceId", "partner", "recordId"} {
		if _, ok := idx[c]; !ok {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%s: line 1: header lacks column(s) %s", source, strings.Join(missing, ", "))
	}
	var keys []extract.AssociationKey
	seen := map[extract.AssociationKey]bool{}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return keys, nil
		}
		if err != nil {
			// A *csv.ParseError names the line and column.
			return nil, fmt.Errorf("%s: %w", source, err)
		}
		line, _ := cr.FieldPos(0)
		get := func(c string) string {
			if i := idx[c]; i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		k := extract.AssociationKey{InstanceID: get("instanceId"), Partner: get("partner"), RecordID: get("recordId")}
		for _, f := range []struct{ name, v string }{{"instanceId", k.InstanceID}, {"partner", k.Partner}, {"recordId", k.RecordID}} {
			if f.v == "" {
				return nil, fmt.Errorf("%s: line %d: column %s is empty", source, line, f.name)
			}
		}
		if !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
}

// ParseCRMInstance splits urn:li:crmInstance:(PARTNER,INSTANCE_ID) into the
// partner and the instance id of an association key.
func ParseCRMInstance(urn string) (partner, instanceID string, err error) {
	rest, ok := strings.CutPrefix(urn, "urn:li:crmInstance:(")
	if ok {
		rest, ok = strings.CutSuffix(rest, ")")
	}
	if ok {
		partner, instanceID, ok = strings.Cut(rest, ",")
	}
	if !ok || partner == "" || instanceID == "" {
		return "", "", fmt.Errorf("%q is not urn:li:crmInstance:(PARTNER,INSTANCE_ID)", urn)
	}
	return partner, instanceID, nil
}

// runAssociations looks up the keys in batches and merges the answers into
// the profile associations dimension, associationsPerLoad at a time. A key
// without a match is recorded as UNMATCHED, a key the API failed as ERROR;
// neither fails the run. A batch call that fails (after the client's
// retries) stops the stream with what was fetched before it kept.
func (r *Runner) runAssociations(ctx context.Context, sum *Summary, st *schema.Stream) error {
	ms := r.can.Merge
	if ms == nil {
		return fmt.Errorf("the sink keeps no merged tables (%s)", st.Name)
	}
	keys, marks, err := r.associationKeys(ctx, st)
	if err != nil {
		return err
	}
	log := r.log.With("stream", st.Name)
	if len(keys) == 0 {
		log.Info("no CRM record to look up (keys come from the recordId column of the loaded crm_validation data, and SALESNAV_ASSOCIATION_KEYS_FILE)")
		return r.saveWatermarks(ctx, st, marks)
	}
	log.Info("looking up profile associations", "keys", len(keys), "batch", r.cfg.AssociationBatch)
	b := schema.NewBuilder(r.cfg.Allocator, st.Schema())
	defer b.Release()
	counts := map[string]int{}
	flush := func() error {
		if b.Col("recordId").Len() == 0 {
			return nil
		}
		rec := b.NewRecordBatch()
		defer rec.Release()
		// The answers are fetched: merge them even if the run is being
		// cancelled.
		dctx, cancel := detached(ctx)
		defer cancel()
		stats, err := ms.MergeDimension(dctx, st, rec)
		if err != nil {
			return fmt.Errorf("loading %s: %w", st.Name, err)
		}
		sum.addWindow(st.Name, stats.Rows, 0, stats.Files, 0, stats.Bytes, nil, "")
		return nil
	}
	err = LookupAssociations(ctx, r.api, keys, r.cfg.AssociationBatch, func(res []extract.AssociationResult) error {
		fetched := arrow.Timestamp(r.cfg.Now().UnixMilli())
		r.cfg.Observer.Progress(st.Name, int64(len(res)), 0)
		for _, a := range res {
			status := AssociationStatus(a)
			counts[status]++
			AppendAssociation(b, a, status, fetched)
		}
		if b.Col("recordId").Len() >= associationsPerLoad {
			if err := flush(); err != nil {
				return err
			}
		}
		if r.stopping() {
			return errStopped
		}
		return nil
	})
	// What was fetched is kept, whatever stopped the lookups.
	if ferr := flush(); ferr != nil {
		return errors.Join(err, ferr)
	}
	if err != nil {
		return err
	}
	// Every key of the exports read is looked up and merged: only now do
	// the watermarks move.
	if err := r.saveWatermarks(ctx, st, marks); err != nil {
		return err
	}
	log.Info("profile associations loaded", "keys", len(keys), "matched", counts[schema.AssociationMatched],
		"unmatched", counts[schema.AssociationUnmatched], "errors", counts[schema.AssociationError])
	return nil
}

// AssociationLookup is the API call behind LookupAssociations.
type AssociationLookup interface {
	ProfileAssociations(ctx context.Context, keys []extract.AssociationKey) ([]extract.AssociationResult, error)
}

// LookupAssociations looks keys up in batches of size (the documented
// ids=List(...) form), calling fn with the results of each batch in order.
// An error of a call (after the client's own retries; a spent quota is
// extract.ErrQuotaExhausted) or of fn stops it; batches already passed to
// fn stay done.
func LookupAssociations(ctx context.Context, api AssociationLookup, keys []extract.AssociationKey, size int, fn func([]extract.AssociationResult) error) error {
	if size <= 0 {
		size = DefaultAssociationBatch
	}
	for start := 0; start < len(keys); start += size {
		batch := keys[start:min(start+size, len(keys))]
		res, err := api.ProfileAssociations(ctx, batch)
		if err != nil {
			return fmt.Errorf("looking up keys %d to %d of %d: %w", start+1, start+len(batch), len(keys), err)
		}
		if err := fn(res); err != nil {
			return err
		}
	}
	return nil
}

// AssociationStatus classifies a lookup result: MATCHED, UNMATCHED (no
// confident match: a 404, also when the batch answer files it under
// errors, as Rest.li batch answers may) or ERROR.
func AssociationStatus(a extract.AssociationResult) string {
	switch {
	case a.Matched():
		return schema.AssociationMatched
	case a.Status == http.StatusNotFound:
		return schema.AssociationUnmatched
	default:
		return schema.AssociationError
	}
}

// AppendAssociation appends one lookup result to a builder of
// schema.ProfileAssociations.Schema().
func AppendAssociation(b *schema.Builder, a extract.AssociationResult, status string, fetched arrow.Timestamp) {
	b.String("instanceId", a.Key.InstanceID)
	b.String("partner", a.Key.Partner)
	b.String("recordId", a.Key.RecordID)
	b.String("status", status)
	b.Col("httpStatus").(*array.Int64Builder).Append(int64(a.Status))
	var member, profile, photo *string
	if a.Association != nil {
		member, profile, photo = &a.Association.Member, &a.Association.Profile, a.Association.ProfilePhoto
	}
	b.OptString("member", member)
	b.OptString("profile", profile)
	b.OptString("profilePhoto", photo)
	b.OptString("error", &a.Error)
	b.Col("fetchedAt").(*array.TimestampBuilder).Append(fetched)
}

// MergeAssociations merges lookup results (associations --load) into the
// sink's profile_associations. An error does not replace an answer loaded
// before (a match, or no match): those keys are kept as they are. It
// returns what was merged; nothing when every result was such an error.
func MergeAssociations(ctx context.Context, sink load.Sink, results []extract.AssociationResult, fetched time.Time, mem memory.Allocator) (load.Stats, error) {
	can := load.AbilitiesOf(sink)
	if can.Merge == nil {
		return load.Stats{}, fmt.Errorf("the sink keeps no merged tables (%s)", schema.ProfileAssociations.Name)
	}
	st := schema.ProfileAssociations
	answered := map[extract.AssociationKey]bool{}
	if can.Keys != nil {
		// Only the keys of the results: the newest row of each.
		want := make([][]string, len(results))
		for i, a := range results {
			want[i] = []string{a.Key.InstanceID, a.Key.Partner, a.Key.RecordID}
		}
		rows, err := can.Keys.Latest(ctx, st, []string{"instanceId", "partner", "recordId", "status"}, load.RowFilter{Keys: want})
		if err != nil {
			return load.Stats{}, fmt.Errorf("reading %s: %w", st.Name, err)
		}
		for _, r := range rows {
			if r[3] != schema.AssociationError {
				answered[extract.AssociationKey{InstanceID: r[0], Partner: r[1], RecordID: r[2]}] = true
			}
		}
	}
	b := schema.NewBuilder(mem, st.Schema())
	defer b.Release()
	at := arrow.Timestamp(fetched.UnixMilli())
	kept := 0
	for _, a := range results {
		status := AssociationStatus(a)
		if status == schema.AssociationError && answered[a.Key] {
			continue
		}
		AppendAssociation(b, a, status, at)
		kept++
	}
	if kept == 0 {
		return load.Stats{}, nil
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	stats, err := can.Merge.MergeDimension(ctx, st, rec)
	if err != nil {
		return load.Stats{}, fmt.Errorf("loading %s: %w", st.Name, err)
	}
	return stats, nil
}
