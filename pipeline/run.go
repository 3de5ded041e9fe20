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
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"golang.org/x/sync/errgroup"

	"github.com/salesnav-etl/salesnav-etl/extract"
	"github.com/salesnav-etl/salesnav-etl/load"
	"github.com/salesnav-etl/salesnav-etl/schema"
	"github.com/salesnav-etl/salesnav-etl/transform"
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

// Config configures a run.
type Config struct {
	// Streams to run, in order (per contract, one job at a time). The
	// contracts dimension loads first; CRM validation runs per CRM
	// instance beside the contracts; profile associations run last.
	Streams []*schema.Stream
	// CRMInstances are the urn:li:crmInstance:(PARTNER,ID) URNs whose CRM
	// data validation exports are loaded (per-export streams).
	CRMInstances []string
	// AssociationKeys are looked up by the profile associations stream,
	// besides the CRM records of the loaded CRM validation data.
	AssociationKeys []extract.AssociationKey
	// AssociationBatch is how many keys one lookup asks for (default
	// DefaultAssociationBatch, at most MaxAssociationBatch).
	AssociationBatch int
	// Start is the first day loaded by a (stream, contract) with no cursor,
	// or of a backfill.
	Start time.Time
	// End is the exclusive last day of this run, a whole UTC day.
	End time.Time
	// Backfill loads [Start, End) whatever the cursors say, and neither
	// reads nor moves them (nor records jobs in flight).
	Backfill bool
	// LookbackDays re-extracts that many days before the cursor, when
	// there are new days to load, to catch late data.
	LookbackDays int
	// MaxRejectRatio is the share of rejected rows a window may have and
	// still load (0 means none).
	MaxRejectRatio float64
	// RejectsDir receives rejected rows as JSON Lines.
	RejectsDir string
	// RejectsStorage, when set, receives them instead (a bucket): each
	// file is uploaded whole when its window ends.
	RejectsStorage load.Storage
	// Concurrency is how many contracts run at once (default 2).
	Concurrency int
	// WindowDays caps a window (default and maximum 90).
	WindowDays int
	// PollInitial, PollMax: polling starts at PollInitial and doubles up
	// to PollMax (defaults 2s and 1m).
	PollInitial, PollMax time.Duration
	// JobTimeout bounds the wait for one export job (default 3h).
	JobTimeout time.Duration
	// JobRetries is how many times a job that failed with TIMED_OUT or
	// INTERNAL_ERROR is created again (0: the default 3; negative: never),
	// waiting RetryDelay, doubling, before each (default 1m).
	JobRetries int
	RetryDelay time.Duration
	// DownloadAttempts bounds the tries of one job's file: an expired URL,
	// a dropped connection or a short file fetch a fresh URL and try again
	// (default 3).
	DownloadAttempts int
	// BatchSize is rows per record batch (default transform's).
	BatchSize int
	// Stop, when closed, stops the run gracefully: no new window starts,
	// a job being polled is left in flight (resumed next run), a window
	// being loaded finishes (the caller cancels ctx to abandon it).
	Stop <-chan struct{}
	// Shard is this run's share of the contracts and CRM instances (see
	// Shard; the zero value takes all).
	Shard Shard
	// Observer, when set, is told of progress (rows, bytes) and job waits.
	Observer  Observer
	Allocator memory.Allocator
	Logger    *slog.Logger
	Now       func() time.Time
}

// Validate reports every problem of c.
func (c Config) Validate() error {
	var errs []error
	if len(c.Streams) == 0 {
		errs = append(errs, errors.New("no streams"))
	}
	if c.End.IsZero() {
		errs = append(errs, errors.New("end is not set"))
	}
	if !c.Start.IsZero() && !c.End.IsZero() && !c.Start.Before(c.End) {
		errs = append(errs, fmt.Errorf("start %s is not before end %s", c.Start.Format(time.DateOnly), c.End.Format(time.DateOnly)))
	}
	if c.Backfill && c.Start.IsZero() {
		errs = append(errs, errors.New("a backfill needs a start"))
	}
	if c.MaxRejectRatio < 0 || c.MaxRejectRatio > 1 {
		errs = append(errs, fmt.Errorf("max reject ratio %v is not in [0, 1]", c.MaxRejectRatio))
	}
	if c.RejectsDir == "" && c.RejectsStorage == nil {
		errs = append(errs, errors.New("rejects directory is not set"))
	}
	if c.WindowDays < 0 || c.WindowDays > MaxWindowDays {
		errs = append(errs, fmt.Errorf("window days %d is not in [1, %d]", c.WindowDays, MaxWindowDays))
	}
	if c.LookbackDays < 0 {
		errs = append(errs, fmt.Errorf("lookback %d days is negative", c.LookbackDays))
	}
	for _, st := range c.Streams {
		if st.PerExport && len(c.CRMInstances) == 0 {
			errs = append(errs, fmt.Errorf("stream %s needs at least one CRM instance", st.Name))
		}
	}
	if err := c.Shard.Validate(); err != nil {
		errs = append(errs, err)
	}
	for _, urn := range c.CRMInstances {
		if _, _, err := ParseCRMInstance(urn); err != nil {
			errs = append(errs, fmt.Errorf("CRM instance: %w", err))
		}
	}
	if c.AssociationBatch < 0 || c.AssociationBatch > MaxAssociationBatch {
		errs = append(errs, fmt.Errorf("association batch %d is not in [1, %d]", c.AssociationBatch, MaxAssociationBatch))
	}
	if c.DownloadAttempts < 0 {
		errs = append(errs, errors.New("download attempts must not be negative"))
	}
	return errors.Join(errs...)
}

// Runner runs the pipeline.
type Runner struct {
	cfg   Config
	api   API
	sink  load.Sink
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
	return &Runner{cfg: cfg, api: api, sink: sink, state: state, log: log}, nil
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
	names := make([]string, len(r.cfg.Streams))
	for i, s := range r.cfg.Streams {
		names[i] = s.Name
	}
	sum := newSummary(names, r.cfg.Now(), r.cfg.End)
	sum.Shard = r.cfg.Shard.String()
	defer func() { sum.finish(r.cfg.Now()) }()

	var exports, perExport []*schema.Stream
	var dims, merged []*schema.Stream
	for _, st := range r.cfg.Streams {
		switch {
		case (st.Merge || st.Dimension) && !r.cfg.Shard.First():
			// Not split by contract: shard 0 loads them.
			r.log.Info("stream loaded by shard 0: skipped", "stream", st.Name, "shard", r.cfg.Shard.String())
			delete(sum.Streams, st.Name)
		case st.Merge:
			merged = append(merged, st)
		case st.Dimension:
			dims = append(dims, st)
		case st.PerExport:
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

// loadContracts replaces the contracts dimension with the contracts the
// member can see, stamped with when they were seen.
func (r *Runner) loadContracts(ctx context.Context, sum *Summary, st *schema.Stream, contracts []extract.Contract) error {
	ds, ok := r.sink.(load.DimensionSink)
	if !ok {
		return fmt.Errorf("the sink keeps no dimension tables (%s)", st.Name)
	}
	b := array.NewRecordBuilder(r.cfg.Allocator, st.Schema())
	defer b.Release()
	seen := arrow.Timestamp(r.cfg.Now().UnixMilli())
	for _, c := range contracts {
		b.Field(0).(*array.StringBuilder).Append(c.Contract)
		b.Field(1).(*array.StringBuilder).Append(c.Name)
		if c.Description != nil {
			b.Field(2).(*array.StringBuilder).Append(*c.Description)
		} else {
			b.Field(2).AppendNull()
		}
		b.Field(3).(*array.BooleanBuilder).Append(c.HasReportingAccess)
		b.Field(4).(*array.TimestampBuilder).Append(seen)
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

// errStopped: the run is stopping; not a failure of the unit.
var errStopped = errors.New("stopped")

// runStream loads the windows of one (stream, contract) from its cursor to
// End. On error it returns the window that failed.
func (r *Runner) runStream(ctx context.Context, sum *Summary, st *schema.Stream, contract string) (*Span, error) {
	from := r.cfg.Start
	var inflight *load.Job
	if !r.cfg.Backfill {
		cursor, ok, err := r.state.Cursor(ctx, st.Name, contract)
		if err != nil {
			return nil, fmt.Errorf("reading cursor: %w", err)
		}
		if ok {
			from = cursor
			// Something new to load: look back to catch late data.
			if r.cfg.LookbackDays > 0 && from.Before(r.cfg.End) {
				from = from.AddDate(0, 0, -r.cfg.LookbackDays)
			}
		}
		if inflight, err = r.state.InFlight(ctx, st.Name, contract); err != nil {
			return nil, fmt.Errorf("reading job in flight: %w", err)
		}
	}
	var spans []Span
	if inflight != nil && !inflight.End.After(r.cfg.End) && r.cfg.Now().Sub(inflight.CreatedAt) < r.resumeLimit() {
		// Resume the job a previous run created: its window first.
		spans = append([]Span{{Start: inflight.Start, End: inflight.End}}, PlanWindows(inflight.End, r.cfg.End, r.cfg.WindowDays)...)
	} else {
		if inflight != nil {
			r.log.Info("dropping a job in flight that no longer fits", "stream", st.Name, "contract", contract, "job", inflight.ID)
			if err := r.state.ClearInFlight(ctx, st.Name, contract); err != nil {
				return nil, err
			}
			inflight = nil
		}
		spans = PlanWindows(from, r.cfg.End, r.cfg.WindowDays)
	}
	if len(spans) == 0 {
		r.log.Info("stream up to date", "stream", st.Name, "contract", contract, "cursor", from.Format(time.DateOnly))
		return nil, nil
	}
	for i, sp := range spans {
		if r.stopping() {
			return &sp, errStopped
		}
		var resume *load.Job
		if i == 0 {
			resume = inflight
		}
		if err := r.runWindow(ctx, sum, st, contract, sp, resume); err != nil {
			return &sp, err
		}
	}
	return nil, nil
}

// resumeLimit is how old a job in flight may be and still be resumed: a
// slow job that outlived one run's JobTimeout is picked up by the next
// (creating another would only queue behind it), but one older than four
// timeouts, or than LinkedIn's 7 days, is given up and created again.
func (r *Runner) resumeLimit() time.Duration {
	return min(7*24*time.Hour, 4*r.cfg.JobTimeout)
}

// detached is ctx without its cancellation, bounded by its own deadline:
// for bookkeeping that must finish once the data is in, even while the run
// is being cancelled.
func detached(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
}

// unit is one window of one stream of one contract, as it goes.
type unit struct {
	st       *schema.Stream
	contract string
	sp       Span
	log      *slog.Logger
}

// runWindow extracts, transforms and loads one window, then saves the
// cursor. Any failure leaves the sink and the cursor as they were. A job
// that fails because the file would be too large is split in halves.
func (r *Runner) runWindow(ctx context.Context, sum *Summary, st *schema.Stream, contract string, sp Span, resume *load.Job) error {
	u := unit{st: st, contract: contract, sp: sp, log: r.log.With("stream", st.Name, "contract", contract,
		"window_start", sp.Start.Format(time.DateOnly), "window_end", sp.End.Format(time.DateOnly))}
	began := time.Now()
	job, err := r.completedJob(ctx, u, resume)
	var failed *extract.JobFailedError
	if errors.As(err, &failed) && failed.Status == extract.StatusFailedExceededFileSize {
		if err := r.forget(ctx, u); err != nil {
			return err
		}
		if sp.Days() <= 1 {
			return fmt.Errorf("a one-day window is still too large: %w", err)
		}
		mid := sp.Start.AddDate(0, 0, sp.Days()/2)
		u.log.Warn("export too large: splitting the window in halves", "job", failed.JobID, "split_at", mid.Format(time.DateOnly))
		if err := r.runWindow(ctx, sum, st, contract, Span{Start: sp.Start, End: mid}, nil); err != nil {
			return err
		}
		if r.stopping() {
			return errStopped
		}
		return r.runWindow(ctx, sum, st, contract, Span{Start: mid, End: sp.End}, nil)
	}
	if errors.As(err, &failed) && failed.Status == extract.StatusFailedDataDelay {
		if ferr := r.forget(ctx, u); ferr != nil {
			return ferr
		}
		return &DeferredError{Err: err}
	}
	if err != nil {
		return err
	}
	u.log = u.log.With("job", job.ID)
	r.cfg.Observer.JobWaited(st.Name, time.Since(began))
	u.log.Info("export job completed", "row_count", deref(job.RowCount), "waited", time.Since(began).Round(time.Millisecond).String())

	for attempt := 1; ; attempt++ {
		err := r.loadJob(ctx, sum, u, job)
		if err == nil || attempt >= r.cfg.DownloadAttempts || !retryableDownload(err) || r.stopping() {
			if err == nil {
				u.log.Info("window done", "duration", time.Since(began).Round(time.Millisecond).String())
			}
			return err
		}
		u.log.Warn("download failed: polling the job for a fresh URL and trying again", "attempt", attempt, "error", err)
		next, perr := r.api.AnalyticsExport(ctx, contract, job.ID)
		if perr != nil {
			return fmt.Errorf("refreshing the URL of export %d: %w (after %v)", job.ID, perr, err)
		}
		job = next
	}
}

// forget clears the (failed) job in flight of a unit.
func (r *Runner) forget(ctx context.Context, u unit) error {
	if r.cfg.Backfill {
		return nil
	}
	dctx, cancel := detached(ctx)
	defer cancel()
	return r.state.ClearInFlight(dctx, u.st.Name, u.contract)
}

// unframed marks err, a failure to read a download's content, as a
// transfer problem when the download was unframed: a body cut short can
// fail to parse in any way (a header cut at a comma, say), and another
// copy may be whole.
func unframed(dl *extract.Download, err error) error {
	if dl == nil || !dl.Unframed || errors.Is(err, extract.ErrShortDownload) {
		return err
	}
	return fmt.Errorf("%w (the download had neither Content-Length nor chunking, so it may be cut): %w", extract.ErrShortDownload, err)
}

// retryableDownload tells transfer problems, which another try with a
// fresh URL may cure, from problems of the data or the destination.
func retryableDownload(err error) bool {
	return errors.Is(err, extract.ErrForbidden) || errors.Is(err, transform.ErrRead) || errors.Is(err, extract.ErrShortDownload) ||
		errors.Is(err, ErrShortExport) || errors.Is(err, ErrNoHeader) || errors.Is(err, errURLExpired)
}

var errURLExpired = errors.New("download URL expired")

// completedJob returns the unit's job once COMPLETED: the job in flight
// when resume is set and the API still knows it, else a new one, recorded
// as in flight before it is polled. TIMED_OUT and INTERNAL_ERROR jobs are
// created again, up to JobRetries times.
func (r *Runner) completedJob(ctx context.Context, u unit, resume *load.Job) (extract.ExportJob, error) {
	var job extract.ExportJob
	if resume != nil {
		j, err := r.api.AnalyticsExport(ctx, u.contract, resume.ID)
		switch {
		case errors.Is(err, extract.ErrNotFound):
			u.log.Warn("the job in flight is unknown to the API (expired?): creating another", "job", resume.ID)
		case err != nil:
			return job, fmt.Errorf("polling export %d: %w", resume.ID, err)
		default:
			u.log.Info("resuming the job in flight of a previous run", "job", resume.ID, "status", j.Status)
			job = j
		}
	}
	for retries := 0; ; retries++ {
		if job.ID == 0 {
			created, err := r.api.CreateAnalyticsExport(ctx, extract.Action(u.st.Action), extract.ExportRequest{
				Contract: u.contract, StartAt: extract.Millis(u.sp.StartAt()), EndAt: extract.Millis(u.sp.EndAt()),
			})
			if err != nil {
				return job, fmt.Errorf("creating %s export: %w", u.st.Name, err)
			}
			job = created
			u.log.Info("export job created", "job", job.ID, "status", job.Status)
			if !r.cfg.Backfill {
				// Recorded even when the run is being cancelled: the job
				// exists at LinkedIn now, and the next run must find it.
				dctx, cancel := detached(ctx)
				err := r.state.SetInFlight(dctx, load.Job{ID: job.ID, Stream: u.st.Name, Contract: u.contract,
					Start: u.sp.Start, End: u.sp.End, CreatedAt: r.cfg.Now().UTC()})
				cancel()
				if err != nil {
					return job, fmt.Errorf("saving export %d in flight: %w", job.ID, err)
				}
			}
		}
		done, err := r.waitJob(ctx, u.contract, job, u.log)
		var failed *extract.JobFailedError
		if !errors.As(err, &failed) || (failed.Status != extract.StatusFailedTimedOut && failed.Status != extract.StatusFailedInternalError) {
			return done, err
		}
		if retries >= r.cfg.JobRetries {
			return done, fmt.Errorf("%w, %d times", err, retries+1)
		}
		wait := r.cfg.RetryDelay << retries
		u.log.Warn("export job failed: creating it again", "job", job.ID, "status", failed.Status, "retry_in", wait.String())
		if err := r.sleep(ctx, wait); err != nil {
			return done, err
		}
		job = extract.ExportJob{}
	}
}

// sleep waits d, or less when the context ends or the run stops.
func (r *Runner) sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-r.cfg.Stop:
		return errStopped
	case <-t.C:
		return nil
	}
}

// loadJob downloads a completed job's file, transforms and loads it,
// commits the window and saves the cursor, then clears the job in flight.
func (r *Runner) loadJob(ctx context.Context, sum *Summary, u unit, job extract.ExportJob) error {
	began := time.Now()
	st, sp, log := u.st, u.sp, u.log
	var body io.Reader
	var dl *extract.Download
	downloaded := func() int64 { return 0 }
	if job.DownloadURL == nil || *job.DownloadURL == "" {
		// COMPLETED, rowCount 0 and no file (waitJob allows only that):
		// the window is empty, which a header-only file says as well.
		body = strings.NewReader(headerOnly(st))
	} else {
		if job.ExpireAt != nil && job.ExpireAt.Time().Before(r.cfg.Now()) {
			return fmt.Errorf("export %d: %w at %s", job.ID, errURLExpired, job.ExpireAt.Time().Format(time.RFC3339))
		}
		var err error
		dl, err = r.api.Download(ctx, *job.DownloadURL)
		if err != nil {
			return fmt.Errorf("downloading export %d: %w", job.ID, err)
		}
		defer dl.Close()
		body, downloaded = dl.Body, dl.BytesRead
	}

	win := load.Window{Stream: st, Contract: u.contract, PartitionID: load.PartitionID(u.contract), Start: sp.Start, End: sp.End, JobID: job.ID}
	rej := r.newRejects(rejectsName(st.Name, win.PartitionID, sp))
	defer rej.abort()
	tr, err := transform.NewReader(body, st,
		transform.WithAllocator(r.cfg.Allocator),
		transform.WithBatchSize(r.cfg.BatchSize),
		transform.WithSource(fmt.Sprintf("%s export %d", st.Name, job.ID)),
		transform.WithRejects(rej),
		transform.WithLineage(transform.Lineage{
			Contract: u.contract, WindowStart: sp.StartAt(), WindowEnd: sp.EndAt(),
			JobID: job.ID, ExtractedAt: r.cfg.Now(), SnapshotDate: win.SnapshotDate(),
		}))
	if err != nil {
		return fmt.Errorf("reading export %d: %w", job.ID, unframed(dl, err))
	}
	defer tr.Release()
	if tr.Empty() {
		// No header at all: a broken file, not an empty window (that has a
		// header). Loading it would empty every partition of the window.
		return fmt.Errorf("export %d: %w", job.ID, ErrNoHeader)
	}
	if d := tr.Drift(); len(d) > 0 {
		log.Warn("schema drift: columns not in the schema are kept as strings", "columns", d)
	}

	ww, err := r.sink.OpenWindow(ctx, win, tr.Schema())
	if err != nil {
		return fmt.Errorf("opening window for export %d: %w", job.ID, err)
	}
	meter := progressMeter{obs: r.cfg.Observer, stream: st.Name}
	for tr.Next() {
		if err := ww.Write(ctx, tr.RecordBatch()); err != nil {
			ww.Abort()
			return fmt.Errorf("loading export %d: %w", job.ID, err)
		}
		meter.update(tr.Rows()+tr.Rejected(), downloaded())
	}
	meter.update(tr.Rows()+tr.Rejected(), downloaded())
	if err := tr.Err(); err != nil {
		ww.Abort()
		return fmt.Errorf("reading export %d: %w", job.ID, unframed(dl, err))
	}
	if dl != nil {
		if err := dl.Confirm(ctx); err != nil {
			ww.Abort()
			return fmt.Errorf("downloading export %d: %w", job.ID, err)
		}
	}
	rows, rejected := tr.Rows(), tr.Rejected()
	if job.RowCount != nil && rows+rejected != *job.RowCount {
		if rows+rejected < *job.RowCount {
			// A short file must not replace partitions holding more.
			ww.Abort()
			return fmt.Errorf("export %d: %w: the job reported %d rows, the file had %d", job.ID, ErrShortExport, *job.RowCount, rows+rejected)
		}
		log.Warn("the file has more rows than the job's rowCount", "row_count", *job.RowCount, "rows_read", rows+rejected)
	}
	if err := r.refuseOverRatio(sum, st, rej, func() { ww.Abort() }, rows, rejected, log, fmt.Sprintf("export %d", job.ID), "window"); err != nil {
		return err
	}
	stats, err := ww.Commit(ctx)
	if err != nil {
		return fmt.Errorf("committing export %d: %w", job.ID, err)
	}
	rejPath, err := rej.commit()
	if err != nil {
		return err
	}
	if !r.cfg.Backfill {
		// The cursor is saved last, once the window is committed, and only
		// forward: a lookback window (or a half of one) may end before it.
		// The data is in: finish the bookkeeping even if the run is being
		// cancelled.
		sctx, cancel := detached(ctx)
		defer cancel()
		cur, ok, err := r.state.Cursor(sctx, st.Name, u.contract)
		if err != nil {
			return fmt.Errorf("reading cursor after export %d: %w", job.ID, err)
		}
		if !ok || sp.End.After(cur) {
			if err := r.state.SetCursor(sctx, st.Name, u.contract, sp.End); err != nil {
				return fmt.Errorf("saving cursor after export %d: %w", job.ID, err)
			}
		}
		if err := r.state.ClearInFlight(sctx, st.Name, u.contract); err != nil {
			return fmt.Errorf("clearing export %d in flight: %w", job.ID, err)
		}
	}
	sum.addWindow(st.Name, rows, rejected, stats.Files, stats.Removed, stats.Bytes, tr.Drift(), rejPath)
	log.Info("window loaded", "rows", rows, "rejected", rejected, "files", stats.Files,
		"removed_partitions", stats.Removed, "bytes", stats.Bytes, "downloaded_bytes", downloaded(),
		"duration", time.Since(began).Round(time.Millisecond).String())
	return nil
}

// refuseOverRatio refuses a load whose rejected rows exceed MaxRejectRatio:
// it aborts it, keeps its rejects file for diagnosis, counts them, and
// returns ErrTooManyRejects naming what (the export) and unit (what was
// not loaded). Within the ratio it returns nil.
func (r *Runner) refuseOverRatio(sum *Summary, st *schema.Stream, rej *rejectsFile, abort func(), rows, rejected int64, log *slog.Logger, what, unit string) error {
	if rejected == 0 || float64(rejected) <= r.cfg.MaxRejectRatio*float64(rows+rejected) {
		return nil
	}
	abort()
	path, err := rej.commit()
	if err != nil {
		log.Error("writing rejects", "error", err)
	}
	sum.addUnloadedRejects(st.Name, rejected, path)
	return fmt.Errorf("%s: %w: %d of %d rows (max ratio %v); %s not loaded, rejects in %s",
		what, ErrTooManyRejects, rejected, rows+rejected, r.cfg.MaxRejectRatio, unit, path)
}

// waitJob polls job until it is done, with a delay that doubles from
// PollInitial up to PollMax, for at most JobTimeout. A graceful stop ends
// the wait with the job left in flight.
func (r *Runner) waitJob(ctx context.Context, contract string, job extract.ExportJob, log *slog.Logger) (extract.ExportJob, error) {
	deadline := time.Now().Add(r.cfg.JobTimeout)
	delay := r.cfg.PollInitial
	last := job.Status
	for !job.Status.Done() {
		if time.Now().After(deadline) {
			return job, fmt.Errorf("export %d: %w after %s (status %s)", job.ID, ErrJobTimeout, r.cfg.JobTimeout, job.Status)
		}
		if err := r.sleep(ctx, delay); err != nil {
			return job, err
		}
		next, err := r.api.AnalyticsExport(ctx, contract, job.ID)
		if err != nil {
			return job, fmt.Errorf("polling export %d: %w", job.ID, err)
		}
		job = next
		if job.Status != last {
			log.Info("export job status", "job", job.ID, "status", job.Status)
			last = job.Status
		}
		delay = min(delay*2, r.cfg.PollMax)
	}
	if job.Status.Failed() {
		return job, &extract.JobFailedError{JobID: job.ID, Status: job.Status}
	}
	if (job.DownloadURL == nil || *job.DownloadURL == "") && (job.RowCount == nil || *job.RowCount != 0) {
		return job, fmt.Errorf("export %d is COMPLETED without a downloadUrl", job.ID)
	}
	return job, nil
}

// headerOnly is the CSV of an empty export of st.
func headerOnly(st *schema.Stream) string {
	names := make([]string, len(st.Columns))
	for i, c := range st.Columns {
		names[i] = c.Name
	}
	return strings.Join(names, ",") + "\n"
}

func deref(p *int64) int64 {
	if p == nil {
		return -1
	}
	return *p
}
