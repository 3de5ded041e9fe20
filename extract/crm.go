package extract

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/salesnav-etl/salesnav-etl/extract/restli"
)

// CreateCRMValidationExport creates a CRM data validation export
// (POST /crmDataValidationExportJobs?crmInstanceId=...). It accepts both the
// documented 201 with the id in X-RestLi-Id (or Location) and no body, and
// the OpenAPI file's 201 with a JSON body.
func (c *Client) CreateCRMValidationExport(ctx context.Context, crmInstance string, exportStartAt time.Time) (CRMValidationJob, error) {
	const op = "createCrmValidationExport"
	in := struct {
		ExportStartAt EpochMillis `json:"exportStartAt"`
	}{Millis(exportStartAt)}
	var job CRMValidationJob
	hdr, n, err := c.callApp(ctx, op, http.MethodPost, "/crmDataValidationExportJobs", "crmInstanceId="+restli.QueryEscapeURN(crmInstance), in, &job)
	if err != nil {
		return CRMValidationJob{}, err
	}
	if n == 0 || job.JobID == 0 {
		id, err := jobIDFromHeaders(hdr)
		if err != nil {
			return CRMValidationJob{}, fmt.Errorf("%s: %w", op, err)
		}
		job.JobID = id
		if job.Status == "" {
			job.Status = CRMStatusProcessing
		}
		if job.ExportStartAt == 0 {
			job.ExportStartAt = Millis(exportStartAt)
		}
	}
	return job, nil
}

func jobIDFromHeaders(h http.Header) (int64, error) {
	if v := strings.TrimSpace(h.Get("X-RestLi-Id")); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("X-RestLi-Id %q is not a job id", v)
		}
		return id, nil
	}
	if loc := h.Get("Location"); loc != "" {
		u, err := url.Parse(loc)
		if err == nil {
			seg := u.Path[strings.LastIndexByte(u.Path, '/')+1:]
			if id, err := strconv.ParseInt(seg, 10, 64); err == nil {
				return id, nil
			}
		}
		return 0, fmt.Errorf("location %q holds no job id", loc)
	}
	return 0, errors.New("answer has no body, no X-RestLi-Id and no Location")
}

// CRMValidationExport polls a CRM data validation export job.
func (c *Client) CRMValidationExport(ctx context.Context, crmInstance string, id int64) (CRMValidationJob, error) {
	var job CRMValidationJob
	path := "/crmDataValidationExportJobs/" + strconv.FormatInt(id, 10)
	if _, _, err := c.callApp(ctx, "getCrmValidationExport", http.MethodGet, path, "crmInstanceId="+restli.QueryEscapeURN(crmInstance), nil, &job); err != nil {
		return CRMValidationJob{}, err
	}
	if job.JobID == 0 {
		job.JobID = id
	}
	return job, nil
}
