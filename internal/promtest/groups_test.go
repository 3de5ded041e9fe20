package promtest

import (
	"errors"
	"os"
	"testing"
)

// testdata/api-v1-metrics.json is Debian's prometheus-pushgateway 1.5.1
// answering GET /api/v1/metrics after two pushes: a counter and a
// histogram under job/salesnav_etl/instance/prod/mode/scheduled, an
// untyped value under job/salesnav_etl/stream/activity.
func TestParseGroups(t *testing.T) {
	raw, err := os.ReadFile("testdata/api-v1-metrics.json")
	if err != nil {
		t.Fatal(err)
	}
	groups, err := ParseGroups(raw)
	if err != nil {
		t.Fatal(err)
	}
	if len(groups) != 2 {
		t.Fatalf("%d groups, want 2", len(groups))
	}
	run, ok := GroupWith(groups, map[string]string{"job": "salesnav_etl", "instance": "prod", "mode": "scheduled"})
	if !ok {
		t.Fatalf("no run group in %+v", groups)
	}
	if v, ok := run.Value("rows_total", "stream", "a", "mode", "scheduled"); !ok || v != 14 {
		t.Errorf("rows_total = %v, %v; want 14", v, ok)
	}
	if _, ok := run.Value("rows_total", "stream", "b"); ok {
		t.Error("a series of another stream found")
	}
	if h := run.Metrics["w_seconds"]; len(h) != 1 || h[0].Value != 2 || h[0].Sum != 7.5 {
		t.Errorf("histogram %+v, want count 2 and sum 7.5", h)
	}
	if _, ok := run.Value("push_time_seconds"); !ok {
		t.Error("the gateway's push_time_seconds is missing")
	}
	stream, ok := GroupWith(groups, map[string]string{"job": "salesnav_etl", "stream": "activity"})
	if v, _ := stream.Value("last", "instance", ""); !ok || v != 1000 {
		t.Errorf("stream group %+v", stream)
	}
	if _, ok := GroupWith(groups, map[string]string{"job": "salesnav_etl"}); ok {
		t.Error("GroupWith matched a part of a grouping key")
	}
	for name, bad := range map[string]string{
		"not JSON":   `{`,
		"error":      `{"status":"error","data":[]}`,
		"no value":   `{"status":"success","data":[{"labels":{"job":"j"},"x":{"metrics":[{"labels":{}}]}}]}`,
		"bad number": `{"status":"success","data":[{"labels":{"job":"j"},"x":{"metrics":[{"labels":{},"value":"many"}]}}]}`,
	} {
		if _, err := ParseGroups([]byte(bad)); err == nil {
			t.Errorf("%s: no error", name)
		} else if name == "no value" && !errors.Is(err, ErrNoValue) {
			t.Errorf("%s: %v, want ErrNoValue", name, err)
		}
	}
}
