// Package pipeline runs the connector: for each contract with reporting
// access and each stream, it plans windows from the saved cursor to a fixed
// end, and for each window creates the export job, polls it, streams the
// download through the transform into the sink, commits the window, and only
// then saves the cursor.
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

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
}

var _ API = (*extract.Client)(nil)

// Config configures a run.
type Config struct {
	// Streams to run, in order (per contract, one job at a time).
	Streams []*schema.Stream
	// Start is the first day loaded by a (stream, contract) with no cursor.
	Start time.Time
	// End is the exclusive last day of this run, a whole UTC day.
	End time.Time
	// MaxRejectRatio is the share of rejected rows a window may have and
	// still load (0 means none).
	MaxRejectRatio float64
	// RejectsDir receives rejected rows as JSON Lines.
	RejectsDir string
	// Concurrency is how many contracts run at once (default 2).
	Concurrency int
	// WindowDays caps a window (default and maximum 90).
	WindowDays int
	// PollInitial, PollMax: polling starts at PollInitial and doubles up
	// to PollMax (defaults 2s and 1m).
	PollInitial, PollMax time.Duration
	// JobTimeout bounds the wait for one export job (default 3h).
	JobTimeout time.Duration
	// BatchSize is rows per record batch (default transform's).
	BatchSize int
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
	if c.MaxRejectRatio < 0 || c.MaxRejectRatio > 1 {
		errs = append(errs, fmt.Errorf("max reject ratio %v is not in [0, 1]", c.MaxRejectRatio))
	}
	if c.RejectsDir == "" {
		errs = append(errs, errors.New("rejects directory is not set"))
	}
	if c.WindowDays < 0 || c.WindowDays > MaxWindowDays {
		errs = append(errs, fmt.Errorf("window days %d is not in [1, %d]", c.WindowDays, MaxWindowDays))
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
	if cfg.Allocator == nil {
		cfg.Allocator = memory.DefaultAllocator
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	cfg.Start, cfg.End = Day(cfg.Start), Day(cfg.End)
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Runner{cfg: cfg, api: api, sink: sink, state: state, log: log}, nil
}

// Run loads every stream of every reporting contract up to End. The
// summary is always returned; the error is set only when the run could not
// start (contracts unreadable) or was cancelled. Per-window failures are in
// the summary, whose Status says whether the run was complete.
func (r *Runner) Run(ctx context.Context) (*Summary, error) {
	names := make([]string, len(r.cfg.Streams))
	for i, s := range r.cfg.Streams {
		names[i] = s.Name
	}
	sum := newSummary(names, r.cfg.Now(), r.cfg.End)
	defer func() { sum.finish(r.cfg.Now()) }()

	contracts, err := r.api.Contracts(ctx)
	if err != nil {
		err = fmt.Errorf("listing contracts: %w", err)
		sum.fail(err)
		return sum, err
	}
	var reporting []extract.Contract
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
		reporting = append(reporting, c)
		sum.Contracts = append(sum.Contracts, c.Contract)
	}
	r.log.Info("run started", "contracts", len(reporting), "streams", names, "end", r.cfg.End.Format(time.DateOnly))

	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(r.cfg.Concurrency)
	for _, c := range reporting {
		g.Go(func() error {
			// One job at a time per contract: streams run in order.
			for _, st := range r.cfg.Streams {
				if gctx.Err() != nil {
					return gctx.Err()
				}
				span, err := r.runStream(gctx, sum, st, c.Contract)
				sum.unitDone(st.Name, c.Contract, span, err)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		sum.fail(err)
		return sum, err
	}
	if err := ctx.Err(); err != nil {
		sum.fail(err)
		return sum, err
	}
	return sum, nil
}

// runStream loads the windows of one (stream, contract) from its cursor to
// End. On error it returns the window that failed.
func (r *Runner) runStream(ctx context.Context, sum *Summary, st *schema.Stream, contract string) (*Span, error) {
	from := r.cfg.Start
	cursor, ok, err := r.state.Cursor(ctx, st.Name, contract)
	if err != nil {
		return nil, fmt.Errorf("reading cursor: %w", err)
	}
	if ok {
		from = cursor
	}
	spans := PlanWindows(from, r.cfg.End, r.cfg.WindowDays)
	if len(spans) == 0 {
		r.log.Info("stream up to date", "stream", st.Name, "contract", contract, "cursor", from.Format(time.DateOnly))
		return nil, nil
	}
	for _, sp := range spans {
		if err := r.runWindow(ctx, sum, st, contract, sp); err != nil {
			return &sp, err
		}
	}
	return nil, nil
}

// runWindow extracts, transforms and loads one window, then saves the
// cursor. Any failure leaves the sink and the cursor as they were.
func (r *Runner) runWindow(ctx context.Context, sum *Summary, st *schema.Stream, contract string, sp Span) error {
	began := time.Now()
	log := r.log.With("stream", st.Name, "contract", contract,
		"window_start", sp.Start.Format(time.DateOnly), "window_end", sp.End.Format(time.DateOnly))

	job, err := r.api.CreateAnalyticsExport(ctx, extract.Action(st.Action), extract.ExportRequest{
		Contract: contract, StartAt: extract.Millis(sp.StartAt()), EndAt: extract.Millis(sp.EndAt()),
	})
	if err != nil {
		return fmt.Errorf("creating %s export: %w", st.Name, err)
	}
	log = log.With("job", job.ID)
	log.Info("export job created", "status", job.Status)
	if job, err = r.waitJob(ctx, contract, job, log); err != nil {
		return err
	}
	log.Info("export job completed", "row_count", deref(job.RowCount), "waited", time.Since(began).Round(time.Millisecond).String())

	var body io.Reader
	downloaded := func() int64 { return 0 }
	if job.DownloadURL == nil || *job.DownloadURL == "" {
		// COMPLETED, rowCount 0 and no file (waitJob allows only that):
		// the window is empty, which a header-only file says as well.
		body = strings.NewReader(headerOnly(st))
	} else {
		dl, err := r.api.Download(ctx, *job.DownloadURL)
		if err != nil {
			return fmt.Errorf("downloading export %d: %w", job.ID, err)
		}
		defer dl.Close()
		body, downloaded = dl.Body, dl.BytesRead
	}

	win := load.Window{Stream: st, Contract: contract, PartitionID: load.PartitionID(contract), Start: sp.Start, End: sp.End, JobID: job.ID}
	rej := newRejectsFile(rejectsPath(r.cfg.RejectsDir, st.Name, win.PartitionID, sp))
	defer rej.abort()
	tr, err := transform.NewReader(body, st,
		transform.WithAllocator(r.cfg.Allocator),
		transform.WithBatchSize(r.cfg.BatchSize),
		transform.WithSource(fmt.Sprintf("%s export %d", st.Name, job.ID)),
		transform.WithRejects(rej),
		transform.WithLineage(transform.Lineage{
			Contract: contract, WindowStart: sp.StartAt(), WindowEnd: sp.EndAt(),
			JobID: job.ID, ExtractedAt: r.cfg.Now(), SnapshotDate: win.SnapshotDate(),
		}))
	if err != nil {
		return fmt.Errorf("reading export %d: %w", job.ID, err)
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
	for tr.Next() {
		if err := ww.Write(ctx, tr.RecordBatch()); err != nil {
			ww.Abort()
			return fmt.Errorf("loading export %d: %w", job.ID, err)
		}
	}
	if err := tr.Err(); err != nil {
		ww.Abort()
		return fmt.Errorf("reading export %d: %w", job.ID, err)
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
	if rejected > 0 && float64(rejected) > r.cfg.MaxRejectRatio*float64(rows+rejected) {
		ww.Abort()
		path, perr := rej.commit()
		if perr != nil {
			log.Error("writing rejects", "error", perr)
		}
		sum.addUnloadedRejects(st.Name, rejected, path)
		return fmt.Errorf("export %d: %w: %d of %d rows (max ratio %v); window not loaded, rejects in %s",
			job.ID, ErrTooManyRejects, rejected, rows+rejected, r.cfg.MaxRejectRatio, path)
	}
	stats, err := ww.Commit(ctx)
	if err != nil {
		return fmt.Errorf("committing export %d: %w", job.ID, err)
	}
	rejPath, err := rej.commit()
	if err != nil {
		return err
	}
	// The cursor is saved last: only a committed window moves it.
	if err := r.state.SetCursor(ctx, st.Name, contract, sp.End); err != nil {
		return fmt.Errorf("saving cursor after export %d: %w", job.ID, err)
	}
	sum.addWindow(st.Name, rows, rejected, stats.Files, stats.Removed, stats.Bytes, tr.Drift(), rejPath)
	log.Info("window loaded", "rows", rows, "rejected", rejected, "files", stats.Files,
		"removed_partitions", stats.Removed, "bytes", stats.Bytes, "downloaded_bytes", downloaded(),
		"duration", time.Since(began).Round(time.Millisecond).String())
	return nil
}

// waitJob polls job until it is done, with a delay that doubles from
// PollInitial up to PollMax, for at most JobTimeout.
func (r *Runner) waitJob(ctx context.Context, contract string, job extract.ExportJob, log *slog.Logger) (extract.ExportJob, error) {
	deadline := time.Now().Add(r.cfg.JobTimeout)
	delay := r.cfg.PollInitial
	last := job.Status
	timer := time.NewTimer(delay)
	defer timer.Stop()
	for !job.Status.Done() {
		if time.Now().After(deadline) {
			return job, fmt.Errorf("export %d: %w after %s (status %s)", job.ID, ErrJobTimeout, r.cfg.JobTimeout, job.Status)
		}
		timer.Reset(delay)
		select {
		case <-ctx.Done():
			return job, context.Cause(ctx)
		case <-timer.C:
		}
		next, err := r.api.AnalyticsExport(ctx, contract, job.ID)
		if err != nil {
			return job, fmt.Errorf("polling export %d: %w", job.ID, err)
		}
		job = next
		if job.Status != last {
			log.Info("export job status", "status", job.Status)
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
