package pipeline

// The export-job engine's decisions, with no I/O: whether to resume a job
// in flight, retry a failed job or a failed download, how long to wait,
// what a failed window becomes, whether rejects are too many. Tested by
// tables (decide_test.go).

import (
	"errors"
	"fmt"
	"time"

	"github.com/salesnav-etl/salesnav-etl/extract"
	"github.com/salesnav-etl/salesnav-etl/load"
	"github.com/salesnav-etl/salesnav-etl/schema"
	"github.com/salesnav-etl/salesnav-etl/transform"
)

// resumeWindow reports whether an analytics job in flight is resumed: one
// that ends within the run's end and is younger than limit. Another is
// dropped and its window planned anew.
func resumeWindow(inflight *load.Job, end, now time.Time, limit time.Duration) bool {
	return inflight != nil && !inflight.End.After(end) && now.Sub(inflight.CreatedAt) < limit
}

// resumeExport reports whether a CRM export in flight is resumed: one made
// from the cursor still saved (compared by day: ClickHouse's jobs table
// keeps days) and younger than limit.
func resumeExport(inflight *load.Job, from, now time.Time, limit time.Duration) bool {
	return inflight != nil && Day(inflight.Start).Equal(Day(from)) && now.Sub(inflight.CreatedAt) < limit
}

// resumeLimit is how old a job in flight may be and still be resumed: a
// slow job that outlived one run's timeout is picked up by the next
// (creating another would only queue behind it), but one older than four
// timeouts, or than LinkedIn's 7 days, is given up and created again.
func resumeLimitFor(jobTimeout time.Duration) time.Duration {
	return min(7*24*time.Hour, 4*jobTimeout)
}

// retryJob reports whether a failed job, whose failure may pass, is
// created again after retries retries, of at most maxRetries.
func retryJob(retries, maxRetries int) bool {
	return retries < maxRetries
}

// retryWait is the wait before creating a failed job again: base,
// doubling with each retry.
func retryWait(base time.Duration, retries int) time.Duration {
	return base << retries
}

// nextPollDelay doubles a poll delay up to maxDelay.
func nextPollDelay(d, maxDelay time.Duration) time.Duration {
	return min(d*2, maxDelay)
}

// windowAction is what becomes of a window whose job failed.
type windowAction int

const (
	windowFail     windowAction = iota // the error fails the window
	windowSplit                        // too large: load it in halves
	windowTooLarge                     // too large, and one day: fails, the job forgotten
	windowDefer                        // LinkedIn lacks the data yet: a later run
)

// onJobFailure decides a window's fate from its job's error: a file too
// large splits a window of more than one day (and fails one of a day),
// data not yet there defers it, anything else fails it.
func onJobFailure(err error, days int) windowAction {
	var failed *extract.JobFailedError
	if !errors.As(err, &failed) {
		return windowFail
	}
	switch failed.Status {
	case extract.StatusFailedExceededFileSize:
		if days > 1 {
			return windowSplit
		}
		return windowTooLarge
	case extract.StatusFailedDataDelay:
		return windowDefer
	}
	return windowFail
}

// retryableDownload tells transfer problems, which another try with a
// fresh URL may cure, from problems of the data or the destination.
func retryableDownload(err error) bool {
	return errors.Is(err, extract.ErrForbidden) || errors.Is(err, transform.ErrRead) || errors.Is(err, extract.ErrShortDownload) ||
		errors.Is(err, extract.ErrDownloadIdle) || errors.Is(err, ErrShortExport) || errors.Is(err, ErrNoHeader) || errors.Is(err, errURLExpired)
}

// retryDownload reports whether a failed load is tried again with fresh
// URLs: a transfer problem, tries left, the run not stopping.
func retryDownload(err error, attempt, maxAttempts int, stopping bool) bool {
	return err != nil && attempt < maxAttempts && retryableDownload(err) && !stopping
}

// overRejectRatio reports whether rejected rows exceed maxRatio of all.
func overRejectRatio(rows, rejected int64, maxRatio float64) bool {
	return rejected > 0 && float64(rejected) > maxRatio*float64(rows+rejected)
}

// maxCursorSkew is how far past the run's clock a cursor from the API may
// lie: the two clocks differ a little.
const maxCursorSkew = 15 * time.Minute

// checkNextCursor decides whether a completed CRM export's
// nextExportStartAt can become the cursor: not before the export's start,
// nor after now plus maxCursorSkew (a value in microseconds, say, lands
// in the year 50000).
func checkNextCursor(next, from, now time.Time) error {
	switch {
	case next.Before(from):
		return fmt.Errorf("%w: %s is before the export's start %s", ErrCursorOutOfRange, next.Format(time.RFC3339Nano), from.Format(time.RFC3339Nano))
	case next.After(now.Add(maxCursorSkew)):
		return fmt.Errorf("%w: %s is after now (%s)", ErrCursorOutOfRange, next.Format(time.RFC3339Nano), now.UTC().Format(time.RFC3339))
	}
	return nil
}

// askAgain decides whether a key looked up before is looked up again: one
// that met an error, always; one without a match, once recheck has passed
// since (CRM records and profiles change), or when when it was asked
// cannot be read; one with a match, never. fetched is the fetchedAt
// column as a sink's Distinct renders it.
func askAgain(status, fetched string, now time.Time, recheck time.Duration) bool {
	switch status {
	case schema.AssociationMatched:
		return false
	case schema.AssociationUnmatched:
		at, ok := parseFetched(fetched)
		return !ok || now.Sub(at) >= recheck
	}
	return true
}

// parseFetched reads a timestamp as the sinks render it: Arrow's text
// (2026-03-01 10:00:00.123Z) or ClickHouse's DateTime('UTC')
// (2026-03-01 10:00:00).
func parseFetched(s string) (time.Time, bool) {
	for _, layout := range []string{"2006-01-02 15:04:05.999999999Z07:00", "2006-01-02 15:04:05.999999999Z0700", "2006-01-02 15:04:05.999999999", time.RFC3339Nano} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}
