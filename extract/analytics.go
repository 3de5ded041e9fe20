package extract

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/salesnav-etl/salesnav-etl/extract/restli"
)

// CreateAnalyticsExport creates an analytics export job for the closed
// range [startAt, endAt] (POST /salesAnalyticsExportJobs?action=...).
func (c *Client) CreateAnalyticsExport(ctx context.Context, action Action, req ExportRequest) (ExportJob, error) {
	if !action.Valid() {
		return ExportJob{}, fmt.Errorf("createAnalyticsExport: malformed action %q", action)
	}
	var out struct {
		Value ExportJob `json:"value"`
	}
	if _, _, err := c.callJSON(ctx, "createAnalyticsExport", http.MethodPost, "/salesAnalyticsExportJobs", "action="+string(action), req, &out); err != nil {
		return ExportJob{}, err
	}
	if out.Value.ID == 0 {
		return ExportJob{}, errors.New("createAnalyticsExport: answer has no job id")
	}
	return out.Value, nil
}

// AnalyticsExport polls an analytics export job
// (GET /salesAnalyticsExportJobs/{id}?contract=...).
func (c *Client) AnalyticsExport(ctx context.Context, contract string, id int64) (ExportJob, error) {
	var job ExportJob
	path := "/salesAnalyticsExportJobs/" + strconv.FormatInt(id, 10)
	if _, _, err := c.callJSON(ctx, "getAnalyticsExport", http.MethodGet, path, "contract="+restli.QueryEscapeURN(contract), nil, &job); err != nil {
		return ExportJob{}, err
	}
	if job.ID == 0 {
		job.ID = id
	}
	return job, nil
}
