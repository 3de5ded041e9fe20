// Package pipeline runs the connector: for each contract with reporting
// access and each stream, it plans windows from the saved cursor to a fixed
// end, and for each window creates the export job (saved as in flight),
// polls it, streams the download through the transform into the sink,
// commits the window, and only then saves the cursor.
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"golang.org/x/sync/errgroup"

	"github.com/salesnav-etl/salesnav-etl/extract"
	"github.com/salesnav-etl/salesnav-etl/load"
	"github.com/salesnav-etl/salesnav-etl/schema"
)

// API is what a run needs of the Sales Navigator API.
type API interface {
	Contracts(ctx context.Context) ([]extract.Contract, error)
	CreateAnalyticsExport(ctx context.Context, action extract.Action, req extract.ExportRequest) (extract.ExportJob, error)
	AnalyticsExport(ctx context.Context, contract string, id int64) (extract.ExportJob, error)
	Download(ctx context.Context, url string) (*extract.Download, error)
	CreateCRMValidationExport(ctx context.Context, crmInstance string, exportStartAt time.Time) (extract.CRMValidationJob, error)
	CRMValidationExport(ctx context.Context, crmInstance string, id int64) (extract.CRMValidationJob, error)
	DownloadCRM(ctx context.Context, url string) (*extract.Download, error)
	ProfileAssociations(ctx context.Context, keys []extract.AssociationKey) ([]extract.AssociationResult, error)
}

var _ API = (*extract.Client)(nil)

// Runner runs the pipeline.
type Runner struct {
	cfg   Config
	api   API
	sink  load.Sink
	can   load.Abilities // the sink's, found by New
	state load.StateStore
	log   *slog.Logger
}

// New returns a Runner. It does not own api, sink or state: the caller
// closes them.
func New(cfg Config, api API, sink load.Sink, state load.StateStore) (*Runner, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("configuring run: %w", err)
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 2
	}
	if cfg.WindowDays == 0 {
		cfg.WindowDays = MaxWindowDays
	}
	if cfg.PollInitial <= 0 {
		cfg.PollInitial = 2 * time.Second
	}
	if cfg.PollMax < cfg.PollInitial {
		cfg.PollMax = max(time.Minute, cfg.PollInitial)
	}
	if cfg.JobTimeout <= 0 {
		cfg.JobTimeout = 3 * time.Hour
	}
	switch {
	case cfg.JobRetries == 0:
		cfg.JobRetries = 3
	case cfg.JobRetries < 0:
		cfg.JobRetries = 0
	}
	if cfg.RetryDelay <= 0 {
		cfg.RetryDelay = time.Minute
	}
	if cfg.DownloadAttempts == 0 {
		cfg.DownloadAttempts = 3
	}
	if cfg.AssociationRecheck == 0 {
		cfg.AssociationRecheck = DefaultAssociationRecheck
	}
	if cfg.AssociationBatch == 0 {
		cfg.AssociationBatch = DefaultAssociationBatch
	}
	if cfg.Allocator == nil {
		cfg.Allocator = memory.DefaultAllocator
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Stop == nil {
		cfg.Stop = make(chan struct{})
	}
	if cfg.Observer == nil {
		cfg.Observer = nopObserver{}
	}
	cfg.Start, cfg.End = Day(cfg.Start), Day(cfg.End)
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Runner{cfg: cfg, api: api, sink: sink, can: load.AbilitiesOf(sink), state: state, log: log}, nil
}

func (r *Runner) stopping() bool {
	select {
	case <-r.cfg.Stop:
		return true
	default:
		return false
	}
}

// Run loads every stream of every reporting contract up to End. The
// summary is always returned; its Status says whether the run was
// complete. The error is set only when the run could not start (contracts
// unreadable), was cancelled, or met a spent API quota.
func (r *Runner) Run(ctx context.Context) (*Summary, error) {
	names := schema.Names(r.cfg.Streams)
	sum := newSummary(names, r.cfg.Now(), r.cfg.End)
	sum.Shard = r.cfg.Shard.String()
	defer func() { sum.finish(r.cfg.Now()) }()

	var exports, perExport []*schema.Stream
	var dims, merged []*schema.Stream
	for _, st := range r.cfg.Streams {
		switch {
		case st.Dimension() && !r.cfg.Shard.First():
			// Not split by contract: shard 0 loads them.
			r.log.Info("stream loaded by shard 0: skipped", "stream", st.Name, "shard", r.cfg.Shard.String())
			delete(sum.Streams, st.Name)
		case st.Extract == schema.AssociationLookup:
			merged = append(merged, st)
		case st.Extract == schema.ContractsList:
			dims = append(dims, st)
		case st.Extract == schema.CRMValidationExport:
			perExport = append(perExport, st)
		default:
			exports = append(exports, st)
		}
	}

	// Contracts are listed only for the streams that need them: a
	// CRM-only run may hold an application token alone.
	var reporting []extract.Contract
	if len(exports) > 0 || len(dims) > 0 {
		contracts, err := r.api.Contracts(ctx)
		if err != nil {
			err = fmt.Errorf("listing contracts: %w", err)
			if errors.Is(err, extract.ErrQuotaExhausted) {
				sum.quota(err)
			} else {
				sum.fail(err)
			}
			return sum, err
		}
		if len(contracts) == 0 && r.hadContracts(ctx) {
			err := fmt.Errorf("listing contracts: %w", ErrNoContracts)
			sum.fail(err)
			return sum, err
		}
		ids := map[string]string{}
		for _, c := range contracts {
			if !c.HasReportingAccess {
				r.log.Info("skipping contract without reporting access", "contract", c.Contract)
				sum.Skipped = append(sum.Skipped, c.Contract)
				continue
			}
			id := load.PartitionID(c.Contract)
			if other, ok := ids[id]; ok && other != c.Contract {
				err := fmt.Errorf("%w: %s and %s both map to %q", ErrPartitionIDClash, other, c.Contract, id)
				sum.fail(err)
				return sum, err
			}
			ids[id] = c.Contract
			if !r.cfg.Shard.Owns(c.Contract) {
				sum.OtherShards++
				continue
			}
			reporting = append(reporting, c)
			sum.Contracts = append(sum.Contracts, c.Contract)
		}
		for _, st := range dims {
			// The contracts dimension: what the member can see, now.
			sum.dimensionDone(st.Name, r.loadContracts(ctx, sum, st, contracts))
		}
	}
	if len(perExport) > 0 {
		ids := map[string]string{}
		for _, urn := range r.cfg.CRMInstances {
			id := load.PartitionID(urn)
			if other, ok := ids[id]; ok && other != urn {
				err := fmt.Errorf("%w: %s and %s both map to %q", ErrPartitionIDClash, other, urn, id)
				sum.fail(err)
				return sum, err
			}
			ids[id] = urn
		}
	}
	var instances []string
	if len(perExport) > 0 && !r.cfg.Backfill {
		for _, inst := range r.cfg.CRMInstances {
			if r.cfg.Shard.Owns(inst) {
				instances = append(instances, inst)
			} else {
				sum.OtherShards++
			}
		}
		sum.CRMInstances = instances
	}
	logArgs := []any{"contracts", len(reporting), "crm_instances", len(instances), "streams", names,
		"end", r.cfg.End.Format(time.DateOnly), "backfill", r.cfg.Backfill}
	if r.cfg.Shard.Sharded() {
		logArgs = append(logArgs, "shard", r.cfg.Shard.String(), "other_shards", sum.OtherShards)
	}
	r.log.Info("run started", logArgs...)

	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(r.cfg.Concurrency)
	for _, c := range reporting {
		g.Go(func() error {
			// One job at a time per contract: streams run in order.
			for _, st := range exports {
				if gctx.Err() != nil || r.stopping() {
					return nil
				}
				span, err := r.runStream(gctx, sum, st, c.Contract)
				if errors.Is(err, extract.ErrQuotaExhausted) {
					// Every other call would meet the same wall: stop
					// the whole run, state as it is.
					sum.quota(err)
					return err
				}
				sum.unitDone(st.Name, c.Contract, span, err)
			}
			return nil
		})
	}
	for _, st := range perExport {
		if r.cfg.Backfill {
			// An export runs from the server's cursor to now: there is no
			// window to backfill.
			r.log.Info("no backfill for a stream exported from the server's cursor: skipped", "stream", st.Name)
			continue
		}
		for _, inst := range instances {
			g.Go(func() error {
				if gctx.Err() != nil || r.stopping() {
					return nil
				}
				err := r.runCRM(gctx, sum, st, inst)
				if errors.Is(err, extract.ErrQuotaExhausted) {
					sum.quota(err)
					return err
				}
				sum.unitDone(st.Name, inst, nil, err)
				return nil
			})
		}
	}
	err := g.Wait()
	if err == nil && ctx.Err() == nil {
		// Profile associations last: they read the CRM records just loaded.
		for _, st := range merged {
			if r.stopping() {
				break
			}
			err = r.runAssociations(ctx, sum, st)
			if errors.Is(err, extract.ErrQuotaExhausted) {
				sum.quota(err)
				break
			}
			sum.unitDone(st.Name, "", nil, err)
			err = nil
		}
	}
	if errors.Is(err, extract.ErrQuotaExhausted) {
		r.log.Error("API quota exhausted: run stopped, state saved", "error", err)
		return sum, err
	}
	if r.stopping() {
		sum.stopped()
	}
	if err := ctx.Err(); err != nil {
		sum.fail(err)
		return sum, err
	}
	return sum, nil
}
