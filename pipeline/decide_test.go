package pipeline

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/salesnav-etl/salesnav-etl/extract"
	"github.com/salesnav-etl/salesnav-etl/load"
	"github.com/salesnav-etl/salesnav-etl/schema"
	"github.com/salesnav-etl/salesnav-etl/transform"
)

func TestResumeDecisions(t *testing.T) {
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	day := func(d int) time.Time { return time.Date(2026, 3, d, 0, 0, 0, 0, time.UTC) }
	limit := resumeLimitFor(3 * time.Hour)
	if limit != 12*time.Hour || resumeLimitFor(72*time.Hour) != 7*24*time.Hour {
		t.Fatalf("resume limits %s, %s", limit, resumeLimitFor(72*time.Hour))
	}
	job := func(start, end time.Time, age time.Duration) *load.Job {
		return &load.Job{ID: 1, Start: start, End: end, CreatedAt: now.Add(-age)}
	}
	for _, c := range []struct {
		name     string
		inflight *load.Job
		end      time.Time
		want     bool
	}{
		{"none", nil, day(10), false},
		{"fits", job(day(1), day(8), time.Hour), day(10), true},
		{"ends at the run's end", job(day(1), day(10), time.Hour), day(10), true},
		{"ends after the run's end", job(day(1), day(11), time.Hour), day(10), false},
		{"just too old", job(day(1), day(8), limit), day(10), false},
		{"just young enough", job(day(1), day(8), limit-time.Second), day(10), true},
	} {
		if got := resumeWindow(c.inflight, c.end, now, limit); got != c.want {
			t.Errorf("window, %s: %v", c.name, got)
		}
	}
	from := day(5).Add(13 * time.Hour)
	for _, c := range []struct {
		name     string
		inflight *load.Job
		want     bool
	}{
		{"none", nil, false},
		{"same start", job(from, from, time.Hour), true},
		{"same day, as ClickHouse keeps it", job(day(5), day(5), time.Hour), true},
		{"another day", job(day(4), day(4), time.Hour), false},
		{"too old", job(from, from, limit+time.Minute), false},
	} {
		if got := resumeExport(c.inflight, from, now, limit); got != c.want {
			t.Errorf("export, %s: %v", c.name, got)
		}
	}
}

func TestRetryDecisions(t *testing.T) {
	for _, c := range []struct {
		retries, maxRetries int
		want                bool
	}{
		{0, 3, true}, {2, 3, true}, {3, 3, false}, {0, 0, false},
	} {
		if got := retryJob(c.retries, c.maxRetries); got != c.want {
			t.Errorf("retryJob(%d, %d) = %v", c.retries, c.maxRetries, got)
		}
	}
	for retries, want := range []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute} {
		if got := retryWait(time.Minute, retries); got != want {
			t.Errorf("retryWait after %d: %s", retries, got)
		}
	}
	for _, c := range []struct{ d, want time.Duration }{
		{time.Second, 2 * time.Second}, {40 * time.Second, time.Minute}, {time.Minute, time.Minute},
	} {
		if got := nextPollDelay(c.d, time.Minute); got != c.want {
			t.Errorf("nextPollDelay(%s) = %s", c.d, got)
		}
	}
	transfer := fmt.Errorf("reading: %w", transform.ErrRead)
	for _, c := range []struct {
		name     string
		err      error
		attempt  int
		stopping bool
		want     bool
	}{
		{"loaded", nil, 1, false, false},
		{"dropped connection", transfer, 1, false, true},
		{"expired URL", fmt.Errorf("x: %w", errURLExpired), 2, false, true},
		{"forbidden", extract.ErrForbidden, 1, false, true},
		{"short file", fmt.Errorf("x: %w", ErrShortExport), 1, false, true},
		{"no header", ErrNoHeader, 1, false, true},
		{"cut download", extract.ErrShortDownload, 1, false, true},
		{"last attempt", transfer, 3, false, false},
		{"stopping", transfer, 1, true, false},
		{"too many rejects", ErrTooManyRejects, 1, false, false},
		{"sink failure", errors.New("disk full"), 1, false, false},
	} {
		if got := retryDownload(c.err, c.attempt, 3, c.stopping); got != c.want {
			t.Errorf("retryDownload, %s: %v", c.name, got)
		}
	}
}

func TestWindowDecisions(t *testing.T) {
	failed := func(s extract.JobStatus) error {
		return fmt.Errorf("waiting: %w", &extract.JobFailedError{JobID: 7, Status: s})
	}
	for _, c := range []struct {
		name string
		err  error
		days int
		want windowAction
	}{
		{"too large, a week", failed(extract.StatusFailedExceededFileSize), 7, windowSplit},
		{"too large, two days", failed(extract.StatusFailedExceededFileSize), 2, windowSplit},
		{"too large, one day", failed(extract.StatusFailedExceededFileSize), 1, windowTooLarge},
		{"data delay", failed(extract.StatusFailedDataDelay), 7, windowDefer},
		{"timed out (retries spent)", failed(extract.StatusFailedTimedOut), 7, windowFail},
		{"another error", errors.New("polling: 500"), 7, windowFail},
		{"none", nil, 7, windowFail},
	} {
		if got := onJobFailure(c.err, c.days); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
	for _, c := range []struct {
		rows, rejected int64
		ratio          float64
		want           bool
	}{
		{100, 0, 0, false}, {99, 1, 0, true}, {99, 1, 0.01, false}, {98, 2, 0.01, true}, {0, 5, 1, false}, {0, 5, 0.99, true},
	} {
		if got := overRejectRatio(c.rows, c.rejected, c.ratio); got != c.want {
			t.Errorf("overRejectRatio(%d, %d, %v) = %v", c.rows, c.rejected, c.ratio, got)
		}
	}
}

func TestCheckNextCursor(t *testing.T) {
	from := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	now := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		next time.Time
		ok   bool
	}{
		{from, true},
		{now, true},
		{now.Add(maxCursorSkew), true},
		{now.Add(maxCursorSkew + time.Millisecond), false},
		{from.Add(-time.Millisecond), false},
		{time.UnixMilli(now.UnixMilli() * 1000), false}, // microseconds read as milliseconds
	} {
		err := checkNextCursor(tc.next, from, now)
		if (err == nil) != tc.ok || (err != nil && !errors.Is(err, ErrCursorOutOfRange)) {
			t.Errorf("next %s: %v, want ok=%v", tc.next, err, tc.ok)
		}
	}
}

func TestAskAgain(t *testing.T) {
	now := time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		status, fetched string
		want            bool
	}{
		{schema.AssociationMatched, "2020-01-01 00:00:00", false},
		{schema.AssociationError, "2026-04-01 11:00:00", true},
		{schema.AssociationUnmatched, "2026-03-20 12:00:00", false},     // ClickHouse's form, 12 days ago
		{schema.AssociationUnmatched, "2026-03-02 12:00:00", true},      // 30 days ago
		{schema.AssociationUnmatched, "2026-03-20 12:00:00.5Z", false},  // Arrow's form
		{schema.AssociationUnmatched, "2026-02-01 12:00:00.123Z", true}, // Arrow's form, long ago
		{schema.AssociationUnmatched, "2026-03-20T12:00:00.5+00:00", false},
		{schema.AssociationUnmatched, "not a time", true},
	} {
		if got := askAgain(tc.status, tc.fetched, now, 30*24*time.Hour); got != tc.want {
			t.Errorf("askAgain(%s, %q) = %v, want %v", tc.status, tc.fetched, got, tc.want)
		}
	}
}
