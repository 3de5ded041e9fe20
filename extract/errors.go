package extract

import (
	"errors"
	"fmt"
	"time"
)

// Sentinel errors. Branch on them with errors.Is.
var (
	// ErrNoMemberToken: a member endpoint (contracts, analytics exports,
	// sales access tokens) was called with application credentials only.
	ErrNoMemberToken = errors.New("no member token: contracts, analytics exports and sales access tokens need SALESNAV_ACCESS_TOKEN or SALESNAV_REFRESH_TOKEN")
	// ErrNotFound: the API answered 404 (unknown job, no profile match).
	ErrNotFound = errors.New("not found")
	// ErrUnauthorized: the API answered 401 (missing, wrong or expired token).
	ErrUnauthorized = errors.New("unauthorized")
	// ErrForbidden: the API answered 403 (no access to the contract, or a
	// download URL that expired).
	ErrForbidden = errors.New("forbidden")
	// ErrRateLimited: the API answered 429 and retries ran out.
	ErrRateLimited = errors.New("rate limited")
	// ErrQuotaExhausted: 429s went on past the quota budget with no success
	// in between (LinkedIn's daily limits, reset at midnight UTC), or a
	// Retry-After asked for longer than the client waits. Stop for today.
	ErrQuotaExhausted = errors.New("API quota exhausted")
	// ErrVersionRetired: the API answered 426; the API version was retired
	// and the connector must be upgraded. Never retried.
	ErrVersionRetired = errors.New("api version retired")
	// ErrTokenHost: the client refused to send a request because it would
	// have leaked the token, or the download URL is not allowed.
	ErrDownloadURL = errors.New("download URL not allowed")
	// ErrJobFailed: an export job ended in a FAILED_DUE_TO_* status.
	ErrJobFailed = errors.New("export job failed")
	// ErrShortDownload: a download ended before the Content-Length it
	// announced. Another try, with a fresh URL, may cure it.
	ErrShortDownload = errors.New("download shorter than its Content-Length")
	// ErrDownloadIdle: a download's server sent no byte for
	// Config.DownloadIdleTimeout. Another try, with a fresh URL, may cure
	// it.
	ErrDownloadIdle = errors.New("download idle")
	// ErrTokenRedirect: the token endpoint redirected to another host, or
	// from https to http; the request, which carries the client secret and
	// refresh token, was not sent there. Configure the endpoint's final
	// URL (SALESNAV_TOKEN_URL).
	ErrTokenRedirect = errors.New("token endpoint redirect refused")
)

// APIError is an error answered by the API: an HTTP status and the decoded
// error body. Both the documented body {"status","serviceErrorCode","message"}
// and the OpenAPI file's {"status","message","code"} are decoded.
// errors.Is(err, ErrNotFound) and the other status sentinels work on it.
type APIError struct {
	Op               string // operation, such as "createAnalyticsExport"
	StatusCode       int    // HTTP status
	ServiceErrorCode int    // LinkedIn's serviceErrorCode, 0 when absent
	Code             string // the OpenAPI file's code, "" when absent
	Message          string
	RetryAfter       string // the Retry-After header, when sent
}

func (e *APIError) Error() string {
	msg := fmt.Sprintf("%s: HTTP %d", e.Op, e.StatusCode)
	if e.ServiceErrorCode != 0 {
		msg += fmt.Sprintf(" (serviceErrorCode %d)", e.ServiceErrorCode)
	}
	if e.Code != "" {
		msg += " (" + e.Code + ")"
	}
	if e.Message != "" {
		msg += ": " + e.Message
	}
	return msg
}

// Is maps HTTP statuses to this package's sentinels.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return e.StatusCode == 404
	case ErrUnauthorized:
		return e.StatusCode == 401
	case ErrForbidden:
		return e.StatusCode == 403 || e.StatusCode == 410
	case ErrRateLimited:
		return e.StatusCode == 429
	case ErrVersionRetired:
		return e.StatusCode == 426
	}
	return false
}

// Retryable reports whether the status is worth another try: 429 and 5xx.
func (e *APIError) Retryable() bool {
	return e.StatusCode == 429 || e.StatusCode >= 500
}

// QuotaError is ErrQuotaExhausted with the answer that ended the wait.
type QuotaError struct {
	Last    *APIError
	Since   time.Time // first 429 of the streak
	ResetAt time.Time // next midnight UTC, when LinkedIn resets daily quotas
}

func (e *QuotaError) Error() string {
	return fmt.Sprintf("%v: 429s since %s with no success; LinkedIn resets daily quotas at %s (midnight UTC)",
		e.Last, e.Since.UTC().Format(time.RFC3339), e.ResetAt.Format(time.RFC3339))
}

func (e *QuotaError) Unwrap() []error { return []error{ErrQuotaExhausted, e.Last} }

// JobFailedError reports an export job that ended in a failure status.
// errors.Is(err, ErrJobFailed) is true for it.
type JobFailedError struct {
	JobID  int64
	Status JobStatus
}

func (e *JobFailedError) Error() string {
	return fmt.Sprintf("export job %d ended with status %s", e.JobID, e.Status)
}

func (e *JobFailedError) Is(target error) bool { return target == ErrJobFailed }
