package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/salesnav-etl/salesnav-etl/extract"
	"github.com/salesnav-etl/salesnav-etl/load"
	"github.com/salesnav-etl/salesnav-etl/schema"
	"github.com/salesnav-etl/salesnav-etl/transform"
)

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
