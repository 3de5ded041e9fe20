package metrics_test

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/salesnav-etl/salesnav-etl/internal/metrics"
	"github.com/salesnav-etl/salesnav-etl/pipeline"
)

// A stream that failed, or was deferred, gets no last-success time; the
// others do, with their loaded and rejected rows.
func TestFinish(t *testing.T) {
	m := metrics.New([]string{"activity", "seat", "activity_outcome"})
	m.Progress("activity", 10, 100)
	m.Progress("activity", 5, 50)
	m.OnCall("getContracts", 200, time.Millisecond)
	m.OnCall("getContracts", 429, time.Millisecond)
	m.OnCall("download", 0, time.Millisecond)
	sum := &pipeline.Summary{Status: pipeline.StatusPartial, Streams: map[string]*pipeline.StreamSummary{
		"activity": {Rows: 14, Rejected: 1}, "seat": {Failed: 1}, "activity_outcome": {Rows: 3},
	}, Deferred: []pipeline.UnitError{{Stream: "activity_outcome"}}}
	now := time.Unix(1_800_000_000, 0)
	m.Finish(sum, 3, 2*time.Second, now)
	want := `
# HELP salesnav_etl_last_success_timestamp_seconds When a run last loaded the stream for every contract without an error (Unix time); absent when this run did not.
# TYPE salesnav_etl_last_success_timestamp_seconds gauge
salesnav_etl_last_success_timestamp_seconds{stream="activity"} 1.8e+09
# HELP salesnav_etl_rows_loaded_total Rows committed to the sink.
# TYPE salesnav_etl_rows_loaded_total counter
salesnav_etl_rows_loaded_total{stream="activity"} 14
salesnav_etl_rows_loaded_total{stream="activity_outcome"} 3
salesnav_etl_rows_loaded_total{stream="seat"} 0
# HELP salesnav_etl_rows_extracted_total Rows parsed from export files, loaded or rejected.
# TYPE salesnav_etl_rows_extracted_total counter
salesnav_etl_rows_extracted_total{stream="activity"} 15
salesnav_etl_rows_extracted_total{stream="activity_outcome"} 0
salesnav_etl_rows_extracted_total{stream="seat"} 0
# HELP salesnav_etl_exit_code The run's exit code (0 complete, 1 failed, 2 configuration, 3 partial, 75 retry later).
# TYPE salesnav_etl_exit_code gauge
salesnav_etl_exit_code 3
`
	if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(want), "salesnav_etl_last_success_timestamp_seconds",
		"salesnav_etl_rows_loaded_total", "salesnav_etl_rows_extracted_total", "salesnav_etl_exit_code"); err != nil {
		t.Error(err)
	}
	if got := m.Totals()["activity"]; got.Rows != 15 || got.Bytes != 150 {
		t.Errorf("totals %+v", got)
	}
	if n, err := testutil.GatherAndCount(m.Registry(), "salesnav_etl_api_calls_total"); err != nil || n != 3 {
		t.Errorf("%d api call series (%v), want 3: by operation and status", n, err)
	}
}
