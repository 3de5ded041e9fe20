package pipeline

// The export-job engine: analytics exports and CRM validation exports go
// through one lifecycle. Resume the job in flight or create one (recorded
// in flight before it is polled), poll it with a doubling delay, create it
// again after a failure that may pass, then load it, polling it again for
// fresh URLs after a transfer problem. What differs between the two kinds
// is a jobKind; the decisions are in decide.go; the loading and the
// bookkeeping order stay with each kind (export.go, crm.go).

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/salesnav-etl/salesnav-etl/extract"
	"github.com/salesnav-etl/salesnav-etl/load"
)

// jobKind is what differs between two kinds of export job; J is the API's
// job type.
type jobKind[J any] struct {
	// noun names a job in errors ("export %d"); logNoun in log messages
	// ("export job created").
	noun, logNoun string
	// id and status read a job.
	id     func(J) int64
	status func(J) string
	// state says whether a job is done, whether it failed, and whether
	// its status is a documented one (an unknown status fails the window
	// at once: it is not polled for hours).
	state func(J) (done, failed, known bool)
	// create makes a new job; poll reads one.
	create func(ctx context.Context) (J, error)
	poll   func(ctx context.Context, id int64) (J, error)
	// fits says whether a job in flight, as the API reports it, still
	// fits the unit; when it does not, it logs why to log.
	fits func(j J, log *slog.Logger) bool
	// manyFiles: a job has several download URLs, not one.
	manyFiles bool
	// retryable says whether a failed job may be created again.
	retryable func(J) bool
	// complete checks what a completed job must hold.
	complete func(J) error
	// inFlight is the record of a new job, saved before it is polled; nil
	// when jobs are not recorded (a backfill).
	inFlight func(id int64) *load.Job
}

// completed returns the unit's job once completed: the job in flight when
// resume is set, the API still knows it and it fits; else a new one,
// recorded as in flight before it is polled. A failed job that may pass
// is created again, up to JobRetries times, after RetryDelay doubling.
func completed[J any](ctx context.Context, r *Runner, k jobKind[J], log *slog.Logger, resume *load.Job) (J, error) {
	var job J
	have := false
	if resume != nil {
		j, err := k.poll(ctx, resume.ID)
		switch {
		case errors.Is(err, extract.ErrNotFound):
			log.Warn("the job in flight is unknown to the API (expired?): creating another", "job", resume.ID)
		case err != nil:
			return job, fmt.Errorf("polling %s %d: %w", k.noun, resume.ID, err)
		default:
			if !k.fits(j, log) {
				break
			}
			log.Info("resuming the job in flight of a previous run", "job", resume.ID, "status", k.status(j))
			job, have = j, true
		}
	}
	for retries := 0; ; retries++ {
		if !have {
			created, err := k.create(ctx)
			if err != nil {
				return job, err
			}
			job, have = created, true
			log.Info(k.logNoun+" created", "job", k.id(job), "status", k.status(job))
			if rec := k.inFlight(k.id(job)); rec != nil {
				// Recorded even when the run is being cancelled: the job
				// exists at LinkedIn now, and the next run must find it.
				dctx, cancel := detached(ctx)
				err := r.state.SetInFlight(dctx, *rec)
				cancel()
				if err != nil {
					return job, fmt.Errorf("saving %s %d in flight: %w", k.noun, k.id(job), err)
				}
			}
		}
		done, err := wait(ctx, r, k, log, job)
		var failed *extract.JobFailedError
		if !errors.As(err, &failed) || !k.retryable(done) {
			return done, err
		}
		if !retryJob(retries, r.cfg.JobRetries) {
			return done, fmt.Errorf("%w, %d times", err, retries+1)
		}
		delay := retryWait(r.cfg.RetryDelay, retries)
		log.Warn(k.logNoun+" failed: creating it again", "job", k.id(job), "status", failed.Status, "retry_in", delay.String())
		if err := r.sleep(ctx, delay); err != nil {
			return done, err
		}
		have = false
	}
}

// wait polls job until it is done, with a delay that doubles from
// PollInitial up to PollMax, for at most JobTimeout. A graceful stop ends
// the wait with the job left in flight. A failed job is a
// *extract.JobFailedError; a completed one must pass the kind's check.
func wait[J any](ctx context.Context, r *Runner, k jobKind[J], log *slog.Logger, job J) (J, error) {
	deadline := time.Now().Add(r.cfg.JobTimeout)
	delay := r.cfg.PollInitial
	last := k.status(job)
	for {
		done, failed, known := k.state(job)
		if !known {
			return job, fmt.Errorf("%s %d: %w %q", k.noun, k.id(job), ErrUnknownJobStatus, k.status(job))
		}
		if failed {
			return job, &extract.JobFailedError{JobID: k.id(job), Status: extract.JobStatus(k.status(job))}
		}
		if done {
			break
		}
		if time.Now().After(deadline) {
			return job, fmt.Errorf("%s %d: %w after %s (status %s)", k.noun, k.id(job), ErrJobTimeout, r.cfg.JobTimeout, k.status(job))
		}
		if err := r.sleep(ctx, delay); err != nil {
			return job, err
		}
		next, err := k.poll(ctx, k.id(job))
		if err != nil {
			return job, fmt.Errorf("polling %s %d: %w", k.noun, k.id(job), err)
		}
		job = next
		if s := k.status(job); s != last {
			log.Info(k.logNoun+" status", "job", k.id(job), "status", s)
			last = s
		}
		delay = nextPollDelay(delay, r.cfg.PollMax)
	}
	return job, k.complete(job)
}

// loadFresh loads a completed job with loadJob; after a transfer problem
// it polls the job for fresh URLs and tries again, up to DownloadAttempts
// in all. after, when set, sees each failure before the decision (a kind
// that must forget its job on some errors).
func loadFresh[J any](ctx context.Context, r *Runner, k jobKind[J], log *slog.Logger, job J, loadJob func(J) error, after func(error) error) error {
	for attempt := 1; ; attempt++ {
		err := loadJob(job)
		if err != nil && after != nil {
			if aerr := after(err); aerr != nil {
				return aerr
			}
		}
		if !retryDownload(err, attempt, r.cfg.DownloadAttempts, r.stopping()) {
			return err
		}
		fresh, what := "a fresh URL", "URL"
		if k.manyFiles {
			fresh, what = "fresh URLs", "URLs"
		}
		log.Warn("download failed: polling the job for "+fresh+" and trying again", "attempt", attempt, "error", err)
		next, perr := k.poll(ctx, k.id(job))
		if perr != nil {
			return fmt.Errorf("refreshing the %s of %s %d: %w (after %v)", what, k.noun, k.id(job), perr, err)
		}
		job = next
	}
}

// The kinds' nouns, in errors.
const (
	exportNoun = "export"
	crmNoun    = "CRM validation export"
)
