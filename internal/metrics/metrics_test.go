package metrics_test

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/salesnav-etl/salesnav-etl/internal/metrics"
	"github.com/salesnav-etl/salesnav-etl/internal/promtest"
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

// Pushes to a real Pushgateway (Debian's), read back through its API: the
// run's group by mode and instance, each successful stream's last success
// in a group of its own. A second run replaces the first run's group (PUT:
// a series or family the second run lacks is gone, not merged as a POST
// would) and the last success
// of a stream it failed stays; a backfill's group is apart. A push to a
// gateway that is down names no password.
func TestPushGroups(t *testing.T) {
	pg := promtest.StartPushgateway(t, nil)
	ctx := context.Background()
	runKey := map[string]string{"job": "salesnav_etl", "instance": "prod", "mode": "scheduled"}
	streamKey := func(s string) map[string]string {
		return map[string]string{"job": "salesnav_etl", "instance": "prod", "stream": s}
	}
	read := func() []promtest.Group {
		t.Helper()
		groups, err := pg.Groups(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return groups
	}
	want := func(g promtest.Group, name string, v float64, pairs ...string) {
		t.Helper()
		if got, ok := g.Value(name, pairs...); !ok || got != v {
			t.Errorf("group %v: %s%v = %v (found %v), want %v", g.Labels, name, pairs, got, ok, v)
		}
	}

	first := metrics.New([]string{"activity", "seat"})
	first.OnCall("getContracts", 429, time.Millisecond)
	first.OnCall("getContracts", 200, time.Millisecond)
	first.JobWaited("activity", 3*time.Second)
	first.Finish(&pipeline.Summary{Status: pipeline.StatusPartial, Streams: map[string]*pipeline.StreamSummary{
		"activity": {Rows: 5, Rejected: 1}, "seat": {Failed: 1}}}, 3, 2*time.Second, time.Unix(1000, 0), false)
	if err := first.Push(ctx, pg.URL, "prod", nil); err != nil {
		t.Fatal(err)
	}
	groups := read()
	if len(groups) != 2 {
		t.Errorf("%d groups after the first run, want 2 (the run, activity's last success): %v", len(groups), promtest.Keys(groups))
	}
	run, ok := promtest.GroupWith(groups, runKey)
	if !ok {
		t.Fatalf("no group %v in %v", runKey, promtest.Keys(groups))
	}
	want(run, "salesnav_etl_rows_loaded_total", 5, "stream", "activity", "mode", "scheduled", "instance", "prod")
	want(run, "salesnav_etl_rows_rejected_total", 1, "stream", "activity")
	want(run, "salesnav_etl_exit_code", 3)
	want(run, "salesnav_etl_run_end_timestamp_seconds", 1000)
	want(run, "salesnav_etl_api_calls_total", 1, "operation", "getContracts", "status", "429")
	want(run, "salesnav_etl_job_wait_seconds", 1, "stream", "activity") // a histogram's count
	if _, ok := run.Metrics["salesnav_etl_last_success_timestamp_seconds"]; ok {
		t.Error("the run's group holds last-success times: a failed run would hide the last good one")
	}
	activity, _ := promtest.GroupWith(groups, streamKey("activity"))
	want(activity, "salesnav_etl_last_success_timestamp_seconds", 1000, "stream", "activity")
	if _, ok := promtest.GroupWith(groups, streamKey("seat")); ok {
		t.Error("a last success pushed for seat, which failed")
	}

	second := metrics.New([]string{"activity", "seat"})
	second.OnCall("getContracts", 200, time.Millisecond)
	second.Finish(&pipeline.Summary{Status: pipeline.StatusPartial, Streams: map[string]*pipeline.StreamSummary{
		"activity": {Failed: 1}, "seat": {Rows: 7}}}, 3, time.Second, time.Unix(2000, 0), false)
	if err := second.Push(ctx, pg.URL, "prod", nil); err != nil {
		t.Fatal(err)
	}
	groups = read()
	run, _ = promtest.GroupWith(groups, runKey)
	want(run, "salesnav_etl_rows_loaded_total", 0, "stream", "activity")
	want(run, "salesnav_etl_rows_loaded_total", 7, "stream", "seat")
	want(run, "salesnav_etl_run_end_timestamp_seconds", 2000)
	want(run, "salesnav_etl_run_duration_seconds", 1)
	if v, ok := run.Value("salesnav_etl_api_calls_total", "status", "429"); ok {
		t.Errorf("the first run's 429 count (%v) survived the second push: merged, not replaced", v)
	}
	if _, ok := run.Metrics["salesnav_etl_job_wait_seconds"]; ok {
		t.Error("the first run's job waits survived the second push, which had none: merged (POST), not replaced (PUT)")
	}
	activity, _ = promtest.GroupWith(groups, streamKey("activity"))
	want(activity, "salesnav_etl_last_success_timestamp_seconds", 1000)
	seat, _ := promtest.GroupWith(groups, streamKey("seat"))
	want(seat, "salesnav_etl_last_success_timestamp_seconds", 2000)

	backfill := metrics.New([]string{"activity"})
	backfill.Finish(&pipeline.Summary{Status: pipeline.StatusComplete, Streams: map[string]*pipeline.StreamSummary{
		"activity": {Rows: 9}}}, 0, time.Second, time.Unix(3000, 0), true)
	if err := backfill.Push(ctx, pg.URL, "prod", nil); err != nil {
		t.Fatal(err)
	}
	groups = read()
	bf, ok := promtest.GroupWith(groups, map[string]string{"job": "salesnav_etl", "instance": "prod", "mode": "backfill"})
	want(bf, "salesnav_etl_rows_loaded_total", 9, "stream", "activity")
	run, _ = promtest.GroupWith(groups, runKey)
	want(run, "salesnav_etl_run_end_timestamp_seconds", 2000)
	activity, _ = promtest.GroupWith(groups, streamKey("activity"))
	want(activity, "salesnav_etl_last_success_timestamp_seconds", 1000)
	if !ok || len(groups) != 4 {
		t.Errorf("%d groups after a backfill, want 4 (scheduled, backfill, two streams): %v", len(groups), promtest.Keys(groups))
	}

	pg.Close()
	u, _ := url.Parse(pg.URL)
	u.User = url.UserPassword("user", "pushpw")
	if err := second.Push(ctx, u.String(), "", nil); err == nil || strings.Contains(err.Error(), "pushpw") {
		t.Errorf("push to a gateway that is down: %v", err)
	}
}

// pushHash is the bcrypt hash of pushPW, the password of the gateway's
// user ops in TestPushRefusedHidesPassword.
const (
	pushPW   = "push-pw-7c1"
	pushHash = "$2a$04$xP6Eoc8d4CkM/dvxurPd9e5I3P7/qaK.Sb3.y3Qg0PJ22/TEp1b2C"
)

// A real Pushgateway with basic authentication refuses a wrong password
// (401): the client library's error names the full push URL, password
// included; Push masks it at the boundary. The right password is let in.
func TestPushRefusedHidesPassword(t *testing.T) {
	const pw = "pg-Pa55word-81f"
	pg := promtest.StartPushgateway(t, map[string]string{"ops": pushHash})
	r := metrics.New([]string{"seat"})
	r.Finish(nil, 0, time.Second, time.Unix(1e9, 0), false)
	err := r.Push(context.Background(), strings.Replace(pg.URL, "http://", "http://ops:"+pw+"@", 1), "", nil)
	if err == nil {
		t.Fatal("a refused push returned no error")
	}
	if strings.Contains(err.Error(), pw) || !strings.Contains(err.Error(), "401") {
		t.Errorf("error text: %v", err)
	}
	if err := r.Push(context.Background(), strings.Replace(pg.URL, "http://", "http://ops:"+pushPW+"@", 1), "", nil); err != nil {
		t.Errorf("the right password was refused: %v", err)
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
	if testing.Short() {
		return // the push needs Debian's Pushgateway (slow tier)
	}
	pg := promtest.StartPushgateway(t, nil)
	if err := m.Push(context.Background(), pg.URL, "prod", nil); err != nil {
		t.Fatal(err)
	}
	groups, err := pg.Groups(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	run, ok := promtest.GroupWith(groups, map[string]string{"job": "salesnav_etl", "instance": "prod", "mode": "scheduled"})
	if v, found := run.Value(name); !ok || !found || v != 1_800_000_100 {
		t.Errorf("the run's group on the Pushgateway: %s = %v (found %v, group %v), want 1800000100", name, v, found, ok)
	}
}
