package metrics

import (
	"slices"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/proto"
)

// Every metric New registers has a series in the run Names gathers, so
// Names lists it: a metric added to New and not set by exercised fails
// here.
func TestNamesCoverEveryCollector(t *testing.T) {
	r := exercised()
	if len(r.collectors) < 10 {
		t.Fatalf("%d collectors kept; New registers 10", len(r.collectors))
	}
	for _, c := range r.collectors {
		if testutil.CollectAndCount(c) == 0 {
			t.Errorf("a collector has no series in exercised's run: %v", describe(c))
		}
	}
	names, err := Names()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"salesnav_etl_job_wait_seconds_bucket", "salesnav_etl_last_success_timestamp_seconds", "salesnav_etl_api_calls_total"} {
		if !slices.Contains(names, want) {
			t.Errorf("Names lacks %s: %q", want, names)
		}
	}
	if slices.Contains(names, "salesnav_etl_job_wait_seconds") {
		t.Errorf("Names lists a histogram by its family name, which no series has: %q", names)
	}
}

// describe names a collector by its descriptions.
func describe(c prometheus.Collector) []string {
	ch := make(chan *prometheus.Desc, 16)
	go func() { c.Describe(ch); close(ch) }()
	var out []string
	for d := range ch {
		out = append(out, d.String())
	}
	return out
}

func TestSeriesNames(t *testing.T) {
	fam := func(name string, typ dto.MetricType) *dto.MetricFamily {
		return &dto.MetricFamily{Name: proto.String(name), Type: typ.Enum()}
	}
	for _, tc := range []struct {
		name string
		fams []*dto.MetricFamily
		want []string
	}{
		{"none", nil, nil},
		{"counter and gauge, sorted", []*dto.MetricFamily{fam("b_total", dto.MetricType_COUNTER), fam("a", dto.MetricType_GAUGE)}, []string{"a", "b_total"}},
		{"histogram", []*dto.MetricFamily{fam("wait_seconds", dto.MetricType_HISTOGRAM)}, []string{"wait_seconds_bucket", "wait_seconds_count", "wait_seconds_sum"}},
		{"summary", []*dto.MetricFamily{fam("q", dto.MetricType_SUMMARY)}, []string{"q", "q_count", "q_sum"}},
		{"untyped, repeated", []*dto.MetricFamily{fam("u", dto.MetricType_UNTYPED), fam("u", dto.MetricType_UNTYPED)}, []string{"u"}},
	} {
		if got := seriesNames(tc.fams); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}
