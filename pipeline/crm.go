package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path"
	"strconv"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/salesnav-etl/salesnav-etl/extract"
	"github.com/salesnav-etl/salesnav-etl/load"
	"github.com/salesnav-etl/salesnav-etl/schema"
	"github.com/salesnav-etl/salesnav-etl/transform"
)

// CRM data validation exports run from the server's cursor: each export
// covers [exportStartAt, nextExportStartAt), where exportStartAt is the
// saved cursor (SALESNAV_START on a first run) and nextExportStartAt comes
// back with the completed job. All files of the job load as one window —
// one partition keyed by exportStartAt, replaced whole if the same start
// is extracted again — and only then is nextExportStartAt saved.

// crmUnit is one CRM instance of a per-export stream, as it goes.
type crmUnit struct {
	st       *schema.Stream
	instance string
	from     time.Time
	log      *slog.Logger
}

// runCRM loads the next export of a CRM instance.
func (r *Runner) runCRM(ctx context.Context, sum *Summary, st *schema.Stream, instance string) error {
	from := r.cfg.Start
	cursor, ok, err := r.state.Cursor(ctx, st.Name, instance)
	if err != nil {
		return fmt.Errorf("reading cursor: %w", err)
	}
	if ok {
		from = cursor
	}
	if !from.Before(r.cfg.Now()) {
		r.log.Info("CRM validation up to date", "stream", st.Name, "crm_instance", instance, "cursor", from.Format(time.RFC3339))
		return nil
	}
	inflight, err := r.state.InFlight(ctx, st.Name, instance)
	if err != nil {
		return fmt.Errorf("reading job in flight: %w", err)
	}
	log := r.log.With("stream", st.Name, "crm_instance", instance, "export_start_at", from.UnixMilli())
	u := crmUnit{st: st, instance: instance, from: from, log: log}
	// A job in flight was created from the cursor that is still saved (the
	// cursor moves only once its files are loaded, and a reset clears the
	// job too): resume it if it is young enough. Its start is compared by
	// day only, as ClickHouse's jobs table keeps days.
	if inflight != nil && !resumeExport(inflight, from, r.cfg.Now(), r.resumeLimit()) {
		log.Info("dropping a job in flight that no longer fits", "job", inflight.ID)
		if err := r.state.ClearInFlight(ctx, st.Name, instance); err != nil {
			return err
		}
		inflight = nil
	}
	began := time.Now()
	jobs := r.crmJobs(u)
	job, err := completed(ctx, r, jobs, log, inflight)
	if err != nil {
		var failed *extract.JobFailedError
		if errors.As(err, &failed) {
			if ferr := r.forgetCRM(ctx, u); ferr != nil {
				return ferr
			}
			if onJobFailure(err, 1) == windowDefer {
				// LinkedIn lacks the data yet: the next run tries again.
				return &DeferredError{Err: err}
			}
		}
		return err
	}
	log = log.With("job", job.JobID)
	u.log = log
	r.cfg.Observer.JobWaited(st.Name, time.Since(began))
	log.Info("CRM validation export completed", "files", len(job.DownloadURLs), "waited", time.Since(began).Round(time.Millisecond).String())
	return loadFresh(ctx, r, jobs, log, job, func(j extract.CRMValidationJob) error { return r.loadCRMJob(ctx, sum, u, j) },
		func(err error) error {
			if !errors.Is(err, ErrFilesDiffer) {
				return nil
			}
			// Resuming this job would meet the same files: the next run
			// creates another.
			if ferr := r.forgetCRM(ctx, u); ferr != nil {
				return errors.Join(err, ferr)
			}
			return nil
		})
}

func (r *Runner) forgetCRM(ctx context.Context, u crmUnit) error {
	dctx, cancel := detached(ctx)
	defer cancel()
	return r.state.ClearInFlight(dctx, u.st.Name, u.instance)
}

// crmJobs is the engine's view of a unit's CRM validation export jobs.
func (r *Runner) crmJobs(u crmUnit) jobKind[extract.CRMValidationJob] {
	return jobKind[extract.CRMValidationJob]{
		noun: crmNoun, logNoun: crmNoun, manyFiles: true,
		id:     func(j extract.CRMValidationJob) int64 { return j.JobID },
		status: func(j extract.CRMValidationJob) string { return string(j.Status) },
		// Failures as the analytics exports': the documented one and
		// theirs.
		state: func(j extract.CRMValidationJob) (bool, bool, bool) {
			failed := extract.JobStatus(j.Status).Failed()
			return j.Status == extract.CRMStatusCompleted || failed, failed, j.Status.Known()
		},
		create: func(ctx context.Context) (extract.CRMValidationJob, error) {
			job, err := r.api.CreateCRMValidationExport(ctx, u.instance, u.from)
			if err != nil {
				return job, fmt.Errorf("creating %s export: %w", u.st.Name, err)
			}
			return job, nil
		},
		poll: func(ctx context.Context, id int64) (extract.CRMValidationJob, error) {
			return r.api.CRMValidationExport(ctx, u.instance, id)
		},
		fits: func(j extract.CRMValidationJob, log *slog.Logger) bool {
			if j.ExportStartAt != 0 && j.ExportStartAt.Time().UnixMilli() != u.from.UnixMilli() {
				log.Warn("the job in flight exports from another start: creating another", "job", j.JobID,
					"job_export_start_at", int64(j.ExportStartAt))
				return false
			}
			return true
		},
		// Processing can take two hours; a timeout or an internal error
		// may pass.
		retryable: func(j extract.CRMValidationJob) bool {
			s := extract.JobStatus(j.Status)
			return s == extract.StatusFailedTimedOut || s == extract.StatusFailedInternalError
		},
		complete: func(j extract.CRMValidationJob) error {
			if j.NextExportStartAt == nil && j.ExportEndAt == nil {
				return fmt.Errorf("CRM validation export %d is COMPLETED without nextExportStartAt: %w", j.JobID, ErrNoCursor)
			}
			return nil
		},
		inFlight: func(id int64) *load.Job {
			return &load.Job{ID: id, Stream: u.st.Name, Contract: u.instance, Start: u.from, End: u.from, CreatedAt: r.cfg.Now().UTC()}
		},
	}
}

// nextStart is the cursor a completed CRM export moves to.
func nextStart(job extract.CRMValidationJob) time.Time {
	if job.NextExportStartAt != nil {
		return job.NextExportStartAt.Time()
	}
	return job.ExportEndAt.Time()
}

// loadCRMJob downloads every file of a completed export into one window,
// commits it, then saves nextExportStartAt as the cursor and clears the
// job in flight.
func (r *Runner) loadCRMJob(ctx context.Context, sum *Summary, u crmUnit, job extract.CRMValidationJob) error {
	began := time.Now()
	st, log := u.st, u.log
	if job.ExpireAt != nil && job.ExpireAt.Time().Before(r.cfg.Now()) {
		return fmt.Errorf("CRM validation export %d: %w at %s", job.JobID, errURLExpired, job.ExpireAt.Time().Format(time.RFC3339))
	}
	next := nextStart(job)
	if err := checkNextCursor(next, u.from, r.cfg.Now()); err != nil {
		return fmt.Errorf("CRM validation export %d: nextExportStartAt: %w", job.JobID, err)
	}
	win := load.Window{Stream: st, Contract: u.instance, PartitionID: load.PartitionID(u.instance), Start: u.from, End: next, JobID: job.JobID}
	rej := r.newRejects(path.Join(st.Name, schema.ExportPartitionKeys[0]+"="+win.PartitionID,
		strconv.FormatInt(u.from.UnixMilli(), 10)+".jsonl"))
	defer rej.abort()
	lineage := transform.Lineage{Contract: u.instance, WindowStart: u.from, WindowEnd: next, JobID: job.JobID, ExtractedAt: r.cfg.Now()}

	var (
		ww                            load.WindowWriter
		first                         *arrow.Schema
		rows, rejected, repaired, dls int64
		drift                         []string
	)
	abort := func() {
		if ww != nil {
			ww.Abort()
		}
	}
	if len(job.DownloadURLs) == 0 {
		// No file: an export with nothing to report. Its partition is
		// replaced by an empty one, which a header-only file says as well.
		var err error
		if ww, err = r.sink.OpenWindow(ctx, win, emptyExportSchema(st)); err != nil {
			return fmt.Errorf("opening window for CRM validation export %d: %w", job.JobID, err)
		}
	}
	for i, url := range job.DownloadURLs {
		n, err := func() (int64, error) {
			dl, err := r.api.DownloadCRM(ctx, url)
			if err != nil {
				return 0, fmt.Errorf("downloading file %d of CRM validation export %d: %w", i+1, job.JobID, err)
			}
			defer dl.Close()
			src := fmt.Sprintf("%s export %d file %d", st.Name, job.JobID, i+1)
			tr, err := transform.NewReader(dl.Body, st,
				transform.WithAllocator(r.cfg.Allocator),
				transform.WithBatchSize(r.cfg.BatchSize),
				transform.WithSource(src),
				transform.WithRejects(rej),
				transform.WithInvalidUTF8(r.cfg.InvalidUTF8),
				transform.WithMaxRecordSize(r.cfg.MaxRecordSize),
				transform.WithLineage(lineage))
			if err != nil {
				return 0, fmt.Errorf("reading %s: %w", src, unframed(dl, err))
			}
			defer tr.Release()
			if tr.Empty() {
				return 0, fmt.Errorf("%s: %w", src, ErrNoHeader)
			}
			var conform func(arrow.RecordBatch) arrow.RecordBatch
			if ww == nil {
				first = tr.Schema()
				if ww, err = r.sink.OpenWindow(ctx, win, first); err != nil {
					return 0, fmt.Errorf("opening window for CRM validation export %d: %w", job.JobID, err)
				}
			} else if !first.Equal(tr.Schema()) {
				// Columns in another order, or some missing: their rows
				// go in under file 1's columns. A column file 1 lacks
				// cannot.
				if conform, err = conformTo(first, tr.Schema(), r.cfg.Allocator); err != nil {
					return 0, fmt.Errorf("%s: %w", src, unframed(dl, err))
				}
			}
			for _, d := range tr.Drift() {
				if !contains(drift, d) {
					drift = append(drift, d)
				}
			}
			meter := progressMeter{obs: r.cfg.Observer, stream: st.Name}
			for tr.Next() {
				rec := tr.RecordBatch()
				if conform != nil {
					rec = conform(rec)
				}
				err := ww.Write(ctx, rec)
				if conform != nil {
					rec.Release()
				}
				if err != nil {
					return 0, fmt.Errorf("loading %s: %w", src, err)
				}
				meter.update(tr.Rows()+tr.Rejected(), dl.BytesRead())
			}
			meter.update(tr.Rows()+tr.Rejected(), dl.BytesRead())
			if err := tr.Err(); err != nil {
				return 0, fmt.Errorf("reading %s: %w", src, unframed(dl, err))
			}
			if err := dl.Confirm(ctx); err != nil {
				return 0, fmt.Errorf("downloading %s: %w", src, err)
			}
			rows += tr.Rows()
			rejected += tr.Rejected()
			repaired += tr.Repaired()
			return dl.BytesRead(), nil
		}()
		if err != nil {
			abort()
			return err
		}
		dls += n
	}
	if len(drift) > 0 {
		log.Warn("schema drift: columns not in the schema are kept as strings", "columns", drift)
	}
	if err := r.refuseOverRatio(sum, st, rej, abort, rows, rejected, log, fmt.Sprintf("CRM validation export %d", job.JobID), "export"); err != nil {
		return err
	}
	stats, err := ww.Commit(ctx)
	if err != nil {
		return fmt.Errorf("committing CRM validation export %d: %w", job.JobID, err)
	}
	rejPath, err := rej.commit()
	if err != nil {
		return err
	}
	// The data is in: the job is done, then the cursor follows the
	// server's, even if the run is being cancelled. In this order: a crash
	// between the two exports again from the same start, which replaces
	// this partition; the other order would resume this job after the
	// cursor moved and load its rows a second time, under the new start.
	sctx, cancel := detached(ctx)
	defer cancel()
	if err := r.state.ClearInFlight(sctx, st.Name, u.instance); err != nil {
		return fmt.Errorf("clearing CRM validation export %d in flight: %w", job.JobID, err)
	}
	if err := r.state.SetCursor(sctx, st.Name, u.instance, next); err != nil {
		return fmt.Errorf("saving cursor after CRM validation export %d: %w", job.JobID, err)
	}
	sum.addWindow(st.Name, rows, rejected, stats.Files, stats.Removed, stats.Bytes, drift, rejPath)
	sum.addRepaired(st.Name, repaired)
	log.Info("export loaded", "rows", rows, "rejected", rejected, "repaired", repaired, "files", len(job.DownloadURLs), "bytes", stats.Bytes,
		"downloaded_bytes", dls, "next_export_start_at", next.UnixMilli(), "duration", time.Since(began).Round(time.Millisecond).String())
	return nil
}

// emptyExportSchema is the batch schema of an export without files: the
// known columns and the lineage.
func emptyExportSchema(st *schema.Stream) *arrow.Schema {
	fields := make([]arrow.Field, 0, len(st.Columns)+5)
	for _, c := range st.Columns {
		fields = append(fields, c.Field())
	}
	return arrow.NewSchema(append(fields, st.LineageFields()...), nil)
}

// conformTo returns a function that rewrites batches of schema got under
// schema want: columns matched by name, columns want has and got lacks
// null. A column of got that want lacks is ErrFilesDiffer. The function's
// result is a new batch the caller releases.
func conformTo(want, got *arrow.Schema, mem memory.Allocator) (func(arrow.RecordBatch) arrow.RecordBatch, error) {
	src := make([]int, want.NumFields())
	for i, f := range want.Fields() {
		src[i] = -1
		if idx := got.FieldIndices(f.Name); len(idx) == 1 {
			if !arrow.TypeEqual(got.Field(idx[0]).Type, f.Type) {
				return nil, fmt.Errorf("%w: column %s is %s here, %s in file 1", ErrFilesDiffer, f.Name, got.Field(idx[0]).Type, f.Type)
			}
			src[i] = idx[0]
		} else if !f.Nullable {
			return nil, fmt.Errorf("%w: column %s is missing", ErrFilesDiffer, f.Name)
		}
	}
	for _, f := range got.Fields() {
		if len(want.FieldIndices(f.Name)) == 0 {
			return nil, fmt.Errorf("%w: column %s is not in file 1", ErrFilesDiffer, f.Name)
		}
	}
	return func(rec arrow.RecordBatch) arrow.RecordBatch {
		n := int(rec.NumRows())
		cols := make([]arrow.Array, len(src))
		for i, j := range src {
			if j >= 0 {
				cols[i] = rec.Column(j)
				cols[i].Retain()
			} else {
				cols[i] = array.MakeArrayOfNull(mem, want.Field(i).Type, n)
			}
		}
		out := array.NewRecordBatch(want, cols, int64(n))
		for _, c := range cols {
			c.Release()
		}
		return out
	}, nil
}
