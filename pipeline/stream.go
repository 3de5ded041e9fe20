package pipeline

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/salesnav-etl/salesnav-etl/extract"
	"github.com/salesnav-etl/salesnav-etl/load"
	"github.com/salesnav-etl/salesnav-etl/schema"
)

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
	if resumeWindow(inflight, r.cfg.End, r.cfg.Now(), r.resumeLimit()) {
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

// resumeLimit is how old a job in flight may be and still be resumed
// (resumeLimitFor).
func (r *Runner) resumeLimit() time.Duration { return resumeLimitFor(r.cfg.JobTimeout) }

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
	jobs := r.analyticsJobs(u)
	job, err := completed(ctx, r, jobs, u.log, resume)
	switch onJobFailure(err, sp.Days()) {
	case windowTooLarge:
		if err := r.forget(ctx, u); err != nil {
			return err
		}
		return fmt.Errorf("a one-day window is still too large: %w", err)
	case windowSplit:
		if err := r.forget(ctx, u); err != nil {
			return err
		}
		mid := sp.Start.AddDate(0, 0, sp.Days()/2)
		u.log.Warn("export too large: splitting the window in halves", "job", jobs.id(job), "split_at", mid.Format(time.DateOnly))
		if err := r.runWindow(ctx, sum, st, contract, Span{Start: sp.Start, End: mid}, nil); err != nil {
			return err
		}
		if r.stopping() {
			return errStopped
		}
		return r.runWindow(ctx, sum, st, contract, Span{Start: mid, End: sp.End}, nil)
	case windowDefer:
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

	err = loadFresh(ctx, r, jobs, u.log, job, func(j extract.ExportJob) error { return r.loadJob(ctx, sum, u, j) }, nil)
	if err == nil {
		u.log.Info("window done", "duration", time.Since(began).Round(time.Millisecond).String())
	}
	return err
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
