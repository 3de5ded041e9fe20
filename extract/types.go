package extract

import (
	"time"

	"github.com/salesnav-etl/salesnav-etl/schema"
)

// EpochMillis is a time in milliseconds since the Unix epoch, as the export
// endpoints send it.
type EpochMillis int64

// Time returns the instant in UTC.
func (m EpochMillis) Time() time.Time { return time.UnixMilli(int64(m)).UTC() }

// Millis converts t to EpochMillis.
func Millis(t time.Time) EpochMillis { return EpochMillis(t.UnixMilli()) }

// Contract is a Sales Navigator contract the member has a seat in.
type Contract struct {
	// Contract is the contract URN. Treat it as opaque: the docs show
	// urn:li:contract:N, the OpenAPI file urn:li:salesContract:N.
	Contract           string  `json:"contract"`
	Name               string  `json:"name"`
	Description        *string `json:"description,omitempty"`
	HasReportingAccess bool    `json:"hasReportingAccess"`
}

// Paging is Rest.li's collection paging block.
type Paging struct {
	Count int   `json:"count"`
	Start int   `json:"start"`
	Total *int  `json:"total,omitempty"`
	Links []any `json:"links,omitempty"`
}

// Action names one analytics export.
type Action string

// The analytics exports, as the stream registry declares them.
var (
	ActionSeat            = Action(schema.Seat.Action)
	ActionActivity        = Action(schema.Activity.Action)
	ActionActivityOutcome = Action(schema.ActivityOutcome.Action)
)

// Valid reports whether a is a well-formed action: a name of ASCII
// letters. Which actions exist is the stream registry's to say (a stream's
// Action); the API refuses one it does not know.
func (a Action) Valid() bool {
	if a == "" {
		return false
	}
	for _, r := range a {
		if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z') {
			return false
		}
	}
	return true
}

// JobStatus is the status of an export job.
type JobStatus string

// Export job statuses (OpenAPI file).
const (
	StatusEnqueued               JobStatus = "ENQUEUED"
	StatusProcessing             JobStatus = "PROCESSING"
	StatusCompleted              JobStatus = "COMPLETED"
	StatusFailedExceededFileSize JobStatus = "FAILED_DUE_TO_EXCEEDED_FILE_SIZE_ERROR"
	StatusFailedTimedOut         JobStatus = "FAILED_DUE_TO_TIMED_OUT"
	StatusFailedDataDelay        JobStatus = "FAILED_DUE_TO_DATA_DELAY"
	StatusFailedInternalError    JobStatus = "FAILED_DUE_TO_INTERNAL_ERROR"
)

// Done reports whether the job reached a final status.
func (s JobStatus) Done() bool { return s == StatusCompleted || s.Failed() }

// Failed reports whether s is one of the FAILED_DUE_TO_* statuses.
func (s JobStatus) Failed() bool { return len(s) > 7 && s[:7] == "FAILED_" }

// Known reports whether s is one of the documented statuses.
func (s JobStatus) Known() bool {
	switch s {
	case StatusEnqueued, StatusProcessing, StatusCompleted, StatusFailedExceededFileSize, StatusFailedTimedOut,
		StatusFailedDataDelay, StatusFailedInternalError:
		return true
	}
	return false
}

// ExportJob is an analytics export job.
type ExportJob struct {
	ID          int64        `json:"id"`
	Status      JobStatus    `json:"status"`
	DownloadURL *string      `json:"downloadUrl,omitempty"`
	ExpireAt    *EpochMillis `json:"expireAt,omitempty"`
	RowCount    *int64       `json:"rowCount,omitempty"`
}

// ExportRequest is the body of a create-export call.
type ExportRequest struct {
	Contract string      `json:"contract"`
	StartAt  EpochMillis `json:"startAt"`
	EndAt    EpochMillis `json:"endAt"`
}

// SalesAccessToken is a short-lived token for the embedded Sales Navigator
// iframe.
type SalesAccessToken struct {
	Token string `json:"token"`
	// ExpiryTime is in seconds since the epoch (not milliseconds).
	ExpiryTime int64 `json:"expiryTime"`
}

// Expiry returns ExpiryTime as a time.
func (t SalesAccessToken) Expiry() time.Time { return time.Unix(t.ExpiryTime, 0).UTC() }

// ProfileAssociation is the Sales Navigator profile matched to a CRM record.
type ProfileAssociation struct {
	Member       string  `json:"member"`
	Profile      string  `json:"profile"`
	ProfilePhoto *string `json:"profilePhoto,omitempty"`
}

// AssociationResult is the outcome for one key of a batch lookup.
type AssociationResult struct {
	Key AssociationKey
	// Status is the per-key HTTP status from the statuses map; 200 when the
	// key has a result but no status, 404 when the key is absent everywhere.
	Status int
	// Association is set when the key matched.
	Association *ProfileAssociation
	// Error is the per-key error message from the errors map, if any.
	Error string
}

// Matched reports whether the key has a profile.
func (r AssociationResult) Matched() bool { return r.Association != nil }

// CRMValidationStatus is the status of a CRM data validation export job.
type CRMValidationStatus string

// CRM data validation job statuses.
const (
	CRMStatusProcessing          CRMValidationStatus = "PROCESSING"
	CRMStatusCompleted           CRMValidationStatus = "COMPLETED"
	CRMStatusFailedInternalError CRMValidationStatus = "FAILED_DUE_TO_INTERNAL_ERROR"
)

// Known reports whether s is documented for CRM exports (PROCESSING,
// COMPLETED, FAILED_DUE_TO_INTERNAL_ERROR) or one of the analytics
// exports' failures, which are handled alike.
func (s CRMValidationStatus) Known() bool {
	return s == CRMStatusProcessing || s == CRMStatusCompleted || (JobStatus(s).Failed() && JobStatus(s).Known())
}

// CRMValidationJob is a CRM data validation export job.
type CRMValidationJob struct {
	JobID             int64               `json:"jobId"`
	ExportStartAt     EpochMillis         `json:"exportStartAt"`
	ExportEndAt       *EpochMillis        `json:"exportEndAt,omitempty"`
	Status            CRMValidationStatus `json:"status"`
	DownloadURLs      []string            `json:"downloadUrls,omitempty"`
	NextExportStartAt *EpochMillis        `json:"nextExportStartAt,omitempty"`
	ExpireAt          *EpochMillis        `json:"expireAt,omitempty"`
}
