package metrics_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
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
	m.Finish(sum, 3, 2*time.Second, now, false)
	want := `
# HELP salesnav_etl_last_success_timestamp_seconds When a run last loaded the stream for every contract without an error (Unix time); absent when this run did not.
# TYPE salesnav_etl_last_success_timestamp_seconds gauge
salesnav_etl_last_success_timestamp_seconds{stream="activity"} 1.8e+09
# HELP salesnav_etl_rows_loaded_total Rows committed to the sink.
# TYPE salesnav_etl_rows_loaded_total counter
salesnav_etl_rows_loaded_total{stream="activity"} 14
salesnav_etl_rows_loaded_total{stream="activity_outcome"} 3
salesnav_etl_rows_loaded_total{stream="seat"} 0
# HELP salesnav_etl_rows_extracted_total Rows of the export files taken in, loaded or rejected (once each, whatever the download retries).
# TYPE salesnav_etl_rows_extracted_total counter
salesnav_etl_rows_extracted_total{stream="activity"} 15
salesnav_etl_rows_extracted_total{stream="activity_outcome"} 3
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

// The metrics file keeps the last success of a stream that failed this
// run; a backfill sets none.
func TestLastSuccessCarriedOver(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.prom")
	ok := &pipeline.Summary{Status: pipeline.StatusComplete, Streams: map[string]*pipeline.StreamSummary{"activity": {Rows: 1}, "seat": {Rows: 1}}}
	m := metrics.New([]string{"activity", "seat"})
	m.Finish(ok, 0, time.Second, time.Unix(1000, 0), false)
	if err := m.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	failed := &pipeline.Summary{Status: pipeline.StatusPartial, Streams: map[string]*pipeline.StreamSummary{"activity": {Rows: 1}, "seat": {Failed: 1}}}
	m2 := metrics.New([]string{"activity", "seat"})
	m2.Finish(failed, 3, time.Second, time.Unix(2000, 0), false)
	if err := m2.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(path)
	for _, want := range []string{`salesnav_etl_last_success_timestamp_seconds{stream="activity"} 2000`, `salesnav_etl_last_success_timestamp_seconds{stream="seat"} 1000`} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("metrics file lacks %s:\n%s", want, raw)
		}
	}
	m3 := metrics.New([]string{"activity", "seat"})
	m3.Finish(ok, 0, time.Second, time.Unix(3000, 0), true)
	m3.WriteFile(path)
	raw, _ = os.ReadFile(path)
	if strings.Contains(string(raw), `last_success_timestamp_seconds{stream="activity"} 3000`) {
		t.Errorf("a backfill set a last success:\n%s", raw)
	}
}

// Pushes: the run's group by mode, and each successful stream's last
// success in a group of its own; the gateway's password never in errors.
func TestPushGroups(t *testing.T) {
	var mu sync.Mutex
	var paths []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/metrics/"), "/")
		var kv []string
		for i := 0; i+1 < len(parts); i += 2 {
			kv = append(kv, parts[i]+"="+parts[i+1])
		}
		slices.Sort(kv) // the client writes the grouping labels in any order
		paths = append(paths, r.Method+" "+strings.Join(kv, ",")+" "+strconv.FormatBool(strings.Contains(string(body), "last_success")))
		mu.Unlock()
	}))
	defer srv.Close()
	m := metrics.New([]string{"activity", "seat"})
	m.Finish(&pipeline.Summary{Status: pipeline.StatusPartial, Streams: map[string]*pipeline.StreamSummary{"activity": {Rows: 1}, "seat": {Failed: 1}}}, 3, time.Second, time.Unix(1000, 0), false)
	if err := m.Push(context.Background(), srv.URL, "prod", nil); err != nil {
		t.Fatal(err)
	}
	want := []string{"PUT instance=prod,job=salesnav_etl,mode=scheduled false", "PUT instance=prod,job=salesnav_etl,stream=activity true"}
	if !slices.Equal(paths, want) {
		t.Errorf("pushes %q, want %q", paths, want)
	}
	u, _ := url.Parse(srv.URL)
	u.User = url.UserPassword("user", "pushpw")
	srv.Close()
	if err := m.Push(context.Background(), u.String(), "", nil); err == nil || strings.Contains(err.Error(), "pushpw") {
		t.Errorf("push to a closed gateway: %v", err)
	}
}

// A Pushgateway that refuses a push: the client library's error names the
// full push URL, password included; Push masks it at the boundary.
func TestPushRefusedHidesPassword(t *testing.T) {
	const pw = "pg-Pa55word-81f"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "refused: "+r.URL.String(), http.StatusForbidden)
	}))
	defer srv.Close()
	gw := strings.Replace(srv.URL, "http://", "http://ops:"+pw+"@", 1)
	r := metrics.New([]string{"seat"})
	r.Finish(nil, 0, time.Second, time.Unix(1e9, 0), false)
	err := r.Push(context.Background(), gw, "", nil)
	if err == nil {
		t.Fatal("a refused push returned no error")
	}
	if strings.Contains(err.Error(), pw) || !strings.Contains(err.Error(), "403") {
		t.Errorf("error text: %v", err)
	}
}

// The refresh token's expiry is exported once a run learns it, exactly,
// and pushed with the run's metrics; a run that does not learn it
// exports no series (no guess).
func TestRefreshTokenExpiry(t *testing.T) {
	const name = "salesnav_etl_refresh_token_expiry_timestamp_seconds"
	m := metrics.New([]string{"activity"})
	if n, err := testutil.GatherAndCount(m.Registry(), name); err != nil || n != 0 {
		t.Fatalf("%d series before the expiry is known (%v), want none", n, err)
	}
	m.SetRefreshTokenExpiry(time.Unix(1_800_000_000, 0))
	m.SetRefreshTokenExpiry(time.Unix(1_800_000_100, 0)) // a later refresh: the last answer wins
	want := `
# HELP salesnav_etl_refresh_token_expiry_timestamp_seconds When the member's refresh token expires (Unix time: 365 days from consent, not extended by refreshing), from the token endpoint's answer to this run's refresh; absent when the run did not learn it.
# TYPE salesnav_etl_refresh_token_expiry_timestamp_seconds gauge
salesnav_etl_refresh_token_expiry_timestamp_seconds 1.8000001e+09
`
	if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(want), name); err != nil {
		t.Error(err)
	}
	path := filepath.Join(t.TempDir(), "m.prom")
	if err := m.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	if raw, _ := os.ReadFile(path); !strings.Contains(string(raw), name+" 1.8000001e+09") {
		t.Errorf("metrics file lacks the expiry:\n%s", raw)
	}
	var pushed string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "/mode/") {
			body, _ := io.ReadAll(r.Body)
			pushed = string(body)
		}
	}))
	defer srv.Close()
	if err := m.Push(context.Background(), srv.URL, "", nil); err != nil || !strings.Contains(pushed, name) {
		t.Errorf("push: %v; the run's group lacks %s", err, name)
	}
}
