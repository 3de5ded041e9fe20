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

// analyticsJobs is the engine's view of a unit's analytics export jobs.
func (r *Runner) analyticsJobs(u unit) jobKind[extract.ExportJob] {
	return jobKind[extract.ExportJob]{
		noun: exportNoun, logNoun: "export job",
		id:     func(j extract.ExportJob) int64 { return j.ID },
		status: func(j extract.ExportJob) string { return string(j.Status) },
		state: func(j extract.ExportJob) (bool, bool, bool) {
			return j.Status.Done(), j.Status.Failed(), j.Status.Known()
		},
		create: func(ctx context.Context) (extract.ExportJob, error) {
			job, err := r.api.CreateAnalyticsExport(ctx, extract.Action(u.st.Action), extract.ExportRequest{
				Contract: u.contract, StartAt: extract.Millis(u.sp.StartAt()), EndAt: extract.Millis(u.sp.EndAt()),
			})
			if err != nil {
				return job, fmt.Errorf("creating %s export: %w", u.st.Name, err)
			}
			return job, nil
		},
		poll: func(ctx context.Context, id int64) (extract.ExportJob, error) {
			return r.api.AnalyticsExport(ctx, u.contract, id)
		},
		fits: func(extract.ExportJob, *slog.Logger) bool { return true },
		// TIMED_OUT and INTERNAL_ERROR may pass; a file too large or data
		// not there yet are the window's to decide (onJobFailure).
		retryable: func(j extract.ExportJob) bool {
			return j.Status == extract.StatusFailedTimedOut || j.Status == extract.StatusFailedInternalError
		},
		complete: func(j extract.ExportJob) error {
			if (j.DownloadURL == nil || *j.DownloadURL == "") && (j.RowCount == nil || *j.RowCount != 0) {
				return fmt.Errorf("export %d is COMPLETED without a downloadUrl", j.ID)
			}
			return nil
		},
		inFlight: func(id int64) *load.Job {
			if r.cfg.Backfill {
				return nil
			}
			return &load.Job{ID: id, Stream: u.st.Name, Contract: u.contract, Start: u.sp.Start, End: u.sp.End, CreatedAt: r.cfg.Now().UTC()}
		},
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
		body = strings.NewReader(st.CSVHeader())
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
		transform.WithInvalidUTF8(r.cfg.InvalidUTF8),
		transform.WithMaxRecordSize(r.cfg.MaxRecordSize),
		// Enum and lineage columns as dictionaries: both sinks take them
		// without hashing or copying each value (docs/performance.md).
		transform.WithDictionaries(),
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
	sum.addRepaired(st.Name, tr.Repaired())
	log.Info("window loaded", "rows", rows, "rejected", rejected, "repaired", tr.Repaired(), "files", stats.Files,
		"removed_partitions", stats.Removed, "bytes", stats.Bytes, "downloaded_bytes", downloaded(),
		"duration", time.Since(began).Round(time.Millisecond).String())
	return nil
}

// refuseOverRatio refuses a load whose rejected rows exceed MaxRejectRatio:
// it aborts it, keeps its rejects file for diagnosis, counts them, and
// returns ErrTooManyRejects naming what (the export) and unit (what was
// not loaded). Within the ratio it returns nil.
func (r *Runner) refuseOverRatio(sum *Summary, st *schema.Stream, rej *rejectsFile, abort func(), rows, rejected int64, log *slog.Logger, what, unit string) error {
	if !overRejectRatio(rows, rejected, r.cfg.MaxRejectRatio) {
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

func deref(p *int64) int64 {
	if p == nil {
		return -1
	}
	return *p
}
