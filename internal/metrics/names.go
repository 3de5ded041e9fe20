package metrics

import (
	"fmt"
	"slices"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/salesnav-etl/salesnav-etl/pipeline"
)

// Names returns the name of every series a run exports, sorted, as
// Prometheus stores them: a histogram as its _bucket, _sum and _count
// series, a summary as its quantiles (the name itself), _sum and _count.
// It is what dashboards and alert rules may refer to (their tests check
// them against it), taken from the registry of a run in which every
// metric has a series.
func Names() ([]string, error) {
	fams, err := exercised().reg.Gather()
	if err != nil {
		return nil, fmt.Errorf("gathering a run's metrics: %w", err)
	}
	return seriesNames(fams), nil
}

// exercised returns a run in which every metric has a series: a stream
// downloaded, waited for, loaded with a reject and succeeded, an API call,
// the refresh token's expiry learnt.
func exercised() *Run {
	const stream = "activity"
	r := New([]string{stream})
	r.Progress(stream, 1, 1)
	r.JobWaited(stream, time.Second)
	r.OnCall("getContracts", 200, time.Millisecond)
	r.SetRefreshTokenExpiry(time.Unix(0, 0))
	sum := &pipeline.Summary{Status: pipeline.StatusComplete, Streams: map[string]*pipeline.StreamSummary{stream: {Rows: 1, Rejected: 1}}}
	r.Finish(sum, 0, time.Second, time.Unix(0, 0), false)
	return r
}

// seriesNames lists the series names of metric families, sorted, without
// repeats.
func seriesNames(fams []*dto.MetricFamily) []string {
	var out []string
	for _, f := range fams {
		name := f.GetName()
		switch f.GetType() {
		case dto.MetricType_HISTOGRAM, dto.MetricType_GAUGE_HISTOGRAM:
			out = append(out, name+"_bucket", name+"_sum", name+"_count")
		case dto.MetricType_SUMMARY:
			out = append(out, name, name+"_sum", name+"_count")
		default:
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
