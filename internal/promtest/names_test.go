package promtest

import (
	"slices"
	"testing"
)

func TestMetricNames(t *testing.T) {
	for _, tc := range []struct {
		expr string
		want []string
	}{
		{`salesnav_etl_exit_code`, []string{"salesnav_etl_exit_code"}},
		{`time() - salesnav_etl_last_success_timestamp_seconds > 2 * 86400`, []string{"salesnav_etl_last_success_timestamp_seconds"}},
		{`salesnav_etl_exit_code{mode="scheduled"} != 0 and salesnav_etl_exit_code{mode="scheduled"} != 75`, []string{"salesnav_etl_exit_code"}},
		{`sum by (instance, operation) (salesnav_etl_api_calls_total{status="429"}) > 50`, []string{"salesnav_etl_api_calls_total"}},
		{`sum(a_total) by (stream) / ignoring(mode) group_left(x) b`, []string{"a_total", "b"}},
		{`histogram_quantile(0.9, sum by (le, stream) (rate(wait_seconds_bucket{stream=~"a|b"}[5m])))`, []string{"wait_seconds_bucket"}},
		{`max_over_time(x[1h:5m] offset 1d) unless on (job) y`, []string{"x", "y"}},
		{`label_replace(up_total, "dst", "$1 and or", "src", "(.*)")`, []string{"up_total"}},
		{`count without (le) (h_bucket) > bool 1e3 or vector(0x1F)`, []string{"h_bucket"}},
		{`{__name__="by_name", job="j"} + on() c @ start()`, []string{"by_name", "c"}},
		{"sum (\n  a # a comment naming b\n) + Inf - NaN", []string{"a"}},
		{`topk (3, rows_total) * 1.5e-3`, []string{"rows_total"}},
		{`ns:recorded:rate5m + other`, []string{"ns:recorded:rate5m", "other"}},
		{`vector(1)`, nil},
	} {
		if got := MetricNames(tc.expr); !slices.Equal(got, tc.want) {
			t.Errorf("MetricNames(%q) = %q, want %q", tc.expr, got, tc.want)
		}
	}
}
